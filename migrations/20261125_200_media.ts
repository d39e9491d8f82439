import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per distinct file of a bot: the same bytes uploaded twice are one record (sha256).
  await knex.schema.createTable('media', (t) => {
    t.string('id', 64).primary();
    t.string('bot_id', 64).notNullable().references('id').inTable('bots').onDelete('CASCADE');
    t.string('type', 16).notNullable();
    t.string('mime', 100).notNullable();
    t.bigInteger('size').notNullable();
    t.integer('width');
    t.integer('height');
    t.float('duration');
    t.string('sha256', 64).notNullable();
    /** Content-addressed key in the media storage (`ab/abcdef....jpg`). */
    t.string('storage_key', 200).notNullable();
    t.string('thumbnail_key', 200);
    t.text('caption');
    t.string('original_name', 300);
    /** `upload` by an operator, or `incoming` from a user of a platform. */
    t.string('source', 16).notNullable();
    t.string('status', 16).notNullable();
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.unique(['bot_id', 'sha256']);
  });

  // What each platform is sent: the original, a converted copy within its limits, or a link.
  await knex.schema.createTable('media_variants', (t) => {
    t.string('media_id', 64).notNullable().references('id').inTable('media').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.string('kind', 16).notNullable();
    t.string('storage_key', 200);
    t.string('mime', 100);
    t.bigInteger('size');
    t.integer('width');
    t.integer('height');
    t.primary(['media_id', 'platform']);
  });

  // A platform's own id of a file it already holds (Telegram file_id), so it is not uploaded again.
  await knex.schema.createTable('media_platform_files', (t) => {
    t.string('media_id', 64).notNullable().references('id').inTable('media').onDelete('CASCADE');
    t.string('platform', 16).notNullable();
    t.string('file_id', 300).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['media_id', 'platform']);
  });
}

export function down(): Promise<void> {
  return Promise.reject(new Error('Migrations are forward-only.'));
}
