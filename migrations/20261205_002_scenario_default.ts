import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Several scenarios of a bot may be active; new dialogs start its default one.
  await knex.schema.alterTable('scenarios', (t) => {
    t.boolean('is_default').notNullable().defaultTo(false);
  });
  // Until now a bot had one active scenario: it is the default.
  await knex('scenarios').where({ is_active: true }).update({ is_default: true });
  // Kept by src/db/scenarios.ts in one transaction; the indexes catch a writer that slipped past it.
  await knex.raw('CREATE UNIQUE INDEX scenarios_one_default_per_bot ON scenarios (bot_id) WHERE is_default');
  await knex.raw('CREATE UNIQUE INDEX scenarios_one_active_version_per_name ON scenarios (bot_id, name) WHERE is_active');
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
