import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('bots', (t) => {
    t.string('id', 64).primary();
    t.string('account_id', 128).notNullable();
    t.string('name', 200).notNullable();
    t.text('description').notNullable().defaultTo('');
    t.string('status', 16).notNullable().defaultTo('inactive');
    t.jsonb('settings').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['account_id', 'name']);
  });

  await knex.schema.createTable('scenarios', (t) => {
    t.string('id', 64).primary();
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('name', 200).notNullable();
    t.integer('version').notNullable();
    t.boolean('is_active').notNullable().defaultTo(false);
    t.jsonb('scenario_data').notNullable();
    /** The text as uploaded, so diagnostics and exports keep the operator's own layout. */
    t.text('source_text');
    t.jsonb('warnings').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['bot_id', 'name', 'version']);
    t.index(['bot_id', 'is_active']);
  });

  await knex.schema.createTable('platform_connections', (t) => {
    t.string('id', 64).primary();
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    /** AES-256-GCM sealed JSON (src/crypto.ts); never returned by the API. */
    t.text('credentials_sealed').notNullable();
    t.text('webhook_secret_sealed');
    t.jsonb('settings').notNullable();
    t.string('status', 16).notNullable().defaultTo('connected');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['bot_id', 'platform']);
  });

  // The dialog row is a projection of the dialog workflow's state, written by its activities.
  await knex.schema.createTable('dialogs', (t) => {
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.string('chat_id', 128).notNullable();
    t.string('workflow_id', 300).notNullable();
    t.string('status', 16).notNullable();
    t.string('current_step', 200);
    t.jsonb('collected_data').notNullable();
    t.string('scenario_id', 64);
    t.integer('scenario_version');
    t.integer('version').notNullable().defaultTo(0);
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('last_interaction_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['bot_id', 'platform', 'chat_id']);
    t.index(['bot_id', 'status']);
    t.index(['scenario_id']);
  });

  await knex.schema.createTable('dialog_messages', (t) => {
    t.bigIncrements('id').primary();
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.string('chat_id', 128).notNullable();
    t.string('message_type', 8).notNullable();
    t.text('text');
    t.jsonb('payload');
    t.string('step', 200);
    t.string('platform_message_id', 200);
    /** Makes retried activities idempotent: one row per incoming message id / outgoing send key. */
    t.string('dedupe_key', 400).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['bot_id', 'platform', 'chat_id', 'created_at']);
  });

  await knex.schema.createTable('dialog_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.string('chat_id', 128).notNullable();
    t.string('scenario_id', 64);
    t.string('kind', 32).notNullable();
    t.string('step', 200);
    t.jsonb('data');
    t.string('dedupe_key', 400).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['bot_id', 'platform', 'chat_id', 'created_at']);
    t.index(['scenario_id', 'kind']);
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
