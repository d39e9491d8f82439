import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The chat user as the platform last described them (id, name, username, language); null until
  // a message says. Kept as the workflow projects it, like collected_data.
  await knex.schema.alterTable('dialogs', (t) => {
    t.jsonb('user');
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
