import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Which Discord Gateway process holds a bot's session: one row per bot, taken over only once it
  // expired. `expires_at` is milliseconds since the epoch, compared the same way on both databases.
  await knex.schema.createTable('gateway_leases', (t) => {
    t.string('bot_id', 64).primary().references('id').inTable('bots').onDelete('CASCADE');
    t.string('holder', 200).notNullable();
    t.bigInteger('expires_at').notNullable();
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
