import { rmSync } from 'node:fs';
import { Client } from 'pg';
import type { EmbeddedTemporal } from '../../scripts/embedded-temporal';
import { POSTGRES_ADMIN_URL } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis as Record<string, unknown>;
  await (state.__TEMPORAL__ as EmbeddedTemporal | undefined)?.stop();
  if (process.env.TEST_WORKFLOW_BUNDLE) rmSync(process.env.TEST_WORKFLOW_BUNDLE, { force: true });
  const database = state.__PG_DATABASE__ as string | undefined;
  if (database) {
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
