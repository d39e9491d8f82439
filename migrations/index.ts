import type { Knex } from 'knex';
import * as initial from './20261125_000_initial';

/**
 * Migrations are modules listed here in order rather than files found at run time, so they run the
 * same under tsx, jest and a bundle. Forward-only: add a new file, never edit an applied one.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261125_000_initial': initial,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name] as Knex.Migration,
};
