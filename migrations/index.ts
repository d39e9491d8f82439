import type { Knex } from 'knex';
import * as initial from './20261125_000_initial';
import * as apiAuditWebhookStats from './20261125_100_api_audit_webhook_stats';
import * as media from './20261125_200_media';

/**
 * Migrations are modules listed here in order rather than files found at run time, so they run the
 * same under tsx, jest and a bundle. Forward-only: add a new file, never edit an applied one.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261125_000_initial': initial,
  '20261125_100_api_audit_webhook_stats': apiAuditWebhookStats,
  '20261125_200_media': media,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name] as Knex.Migration,
};
