import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // At most one conversation test suite per scenario version, kept as the operator's text so its
  // failures point at lines and columns of their own file. It goes with its version (and bot).
  await knex.schema.createTable('scenario_tests', (t) => {
    t.string('scenario_id', 64).primary().references('id').inTable('scenarios').onDelete('CASCADE');
    t.text('suite_text').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
