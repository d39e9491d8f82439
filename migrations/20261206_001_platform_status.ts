import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A connection's status from what the platform last answered (src/db/platform-status.ts), and
  // whether its webhook is registered with the platform now (not merely once).
  await knex.schema.alterTable('platform_connections', (t) => {
    t.text('last_error');
    t.timestamp('last_error_at', { useTz: true });
    t.integer('consecutive_failures').notNullable().defaultTo(0);
    t.timestamp('status_checked_at', { useTz: true });
    t.timestamp('webhook_registered_at', { useTz: true });
  });
  // Until now only Telegram registered, keeping its secret; an active bot has it registered.
  await knex('platform_connections')
    .whereNotNull('webhook_secret_sealed')
    .whereIn('bot_id', knex('bots').select('id').where({ status: 'active' }))
    .update({ webhook_registered_at: knex.ref('updated_at') });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
