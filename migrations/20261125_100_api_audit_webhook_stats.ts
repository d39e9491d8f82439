import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Operator writes, kept after the bot they touched is deleted: an account's record of who did what.
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.string('account_id', 128).notNullable();
    t.string('actor', 200).notNullable();
    t.string('role', 16).notNullable();
    t.string('action', 300).notNullable();
    t.string('method', 8).notNullable();
    t.string('path', 1000).notNullable();
    t.integer('status').notNullable();
    t.string('request_id', 100).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['account_id', 'created_at']);
  });

  // One row per bot and platform, upserted by every webhook call: counts without scanning anything.
  await knex.schema.createTable('webhook_stats', (t) => {
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.bigInteger('received').notNullable().defaultTo(0);
    t.bigInteger('accepted').notNullable().defaultTo(0);
    t.bigInteger('rejected').notNullable().defaultTo(0);
    t.bigInteger('messages').notNullable().defaultTo(0);
    t.timestamp('last_event_at', { useTz: true });
    t.text('last_error');
    t.timestamp('last_error_at', { useTz: true });
    t.primary(['bot_id', 'platform']);
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
