/**
 * Once per `jest` run: a Temporal dev server (in memory, with the dialog search attributes), the
 * dialog workflows bundled once, and a PostgreSQL database of this run's own. Tests find them
 * through the environment variables set here.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startDevServer } from '../../scripts/embedded-temporal';
import { bundleDialogWorkflows } from '../../worker';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export default async function globalSetup(): Promise<void> {
  const temporal = await startDevServer({ quiet: true });
  (globalThis as Record<string, unknown>).__TEMPORAL__ = temporal;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;

  const code = await bundleDialogWorkflows({ info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} });
  const bundle = path.join(os.tmpdir(), `dialog-workflows-${process.pid}.js`);
  writeFileSync(bundle, code);
  process.env.TEST_WORKFLOW_BUNDLE = bundle;

  const database = `bot_engine_test_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  process.env.TEST_DATABASE_URL = url.toString();
  (globalThis as Record<string, unknown>).__PG_DATABASE__ = database;
}
