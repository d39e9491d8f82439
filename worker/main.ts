import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';
import { createLogger } from '../src/log';
import { temporalAddress } from '../src/temporal';
import { createWorker } from './index';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel).child({ service: 'worker' });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const db = createDb({ databaseUrl: config.databaseUrl });
  if (!config.databaseUrl) await migrateLatest(db);
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, db, config, log });
  log.info({ event: 'DEBUG', task_queue: config.temporal.taskQueue, temporal: temporalAddress(config) }, 'worker started');
  // Worker.run installs SIGINT/SIGTERM handlers and drains in-flight tasks before it resolves.
  await worker.run();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
