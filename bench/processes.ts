/**
 * The bench's child processes, one file so the orchestrator spawns them the same way:
 *   BENCH_ROLE=api     the Koa app (as `npm run api`), webhook rate limit lifted for the load
 *   BENCH_ROLE=worker  the dialog worker (as `npm run worker`) with the product's defaults,
 *                      plus BENCH_TUNING (JSON WorkerOptions) for before/after comparisons
 *   BENCH_ROLE=floor   the raw-Temporal worker of bench/noop-workflow.ts, with the SDK settings
 *                      of the product's worker (sdkTuning)
 * Both workers load a prebuilt workflow bundle, so a restart costs what a production one does: the
 * dialog worker through WORKFLOW_BUNDLE (src/config.ts), the floor worker through BENCH_BUNDLE.
 * They talk to the orchestrator over IPC only: `ready` (with the API port) and floor `done` ids.
 */
import { NativeConnection, DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db';
import { createLogger } from '../src/log';
import { connectClient, temporalAddress } from '../src/temporal';
import { createWorker, sdkTuning } from '../worker';
import { createFloorActivities } from './floor-activities';

const send = (message: unknown) => process.send?.(message);

async function runApi() {
  const config = loadConfig();
  const log = createLogger(config.logLevel).child({ service: 'api' });
  const db = createDb({ databaseUrl: config.databaseUrl });
  const temporal = await connectClient(config);
  const server = createApp({ db, config, log, temporal, rateLimits: { limits: { webhooks: 1_000_000_000 } } }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  // An exit of its own on SIGTERM, so that BENCH_CPU_PROFILE gets this process's profile too.
  process.once('SIGTERM', () => process.exit(0));
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

async function runWorker(role: 'worker' | 'floor') {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadConfig();
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const tuning: Partial<WorkerOptions> = JSON.parse(process.env.BENCH_TUNING || '{}');
  let worker: Worker;
  if (role === 'floor') {
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createFloorActivities((id) => send({ type: 'done', id, at: Date.now() })),
      workflowBundle: { codePath: process.env.BENCH_BUNDLE as string },
      ...sdkTuning(),
      ...tuning,
    });
  } else {
    // The dialog workflows come prebuilt, as in production: WORKFLOW_BUNDLE (src/config.ts).
    const log = createLogger(config.logLevel).child({ service: 'worker' });
    const db = createDb({ databaseUrl: config.databaseUrl });
    worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, db, config, log, tuning });
  }
  const running = worker.run();
  send({ type: 'ready' });
  await running;
  process.exit(0);
}

const role = process.env.BENCH_ROLE;
(role === 'api' ? runApi() : runWorker(role === 'floor' ? 'floor' : 'worker')).catch((error) => {
  console.error(error);
  process.exit(1);
});
