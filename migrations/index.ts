import type { Knex } from 'knex';
import * as initial from './20261125_000_initial';
import * as apiAuditWebhookStats from './20261125_100_api_audit_webhook_stats';
import * as media from './20261125_200_media';
import * as dialogUser from './20261205_001_dialog_user';
import * as scenarioDefault from './20261205_002_scenario_default';
import * as scenarioTests from './20261205_003_scenario_tests';
import * as platformStatus from './20261206_001_platform_status';
import * as gatewayLeases from './20261206_002_gateway_leases';

/**
 * Migrations are modules listed here in order rather than files found at run time, so they run the
 * same under tsx, jest and a bundle. Forward-only: add a new file, never edit an applied one.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261125_000_initial': initial,
  '20261125_100_api_audit_webhook_stats': apiAuditWebhookStats,
  '20261125_200_media': media,
  '20261205_001_dialog_user': dialogUser,
  '20261205_002_scenario_default': scenarioDefault,
  '20261205_003_scenario_tests': scenarioTests,
  '20261206_001_platform_status': platformStatus,
  '20261206_002_gateway_leases': gatewayLeases,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => Promise.resolve(migrations[name]),
};
