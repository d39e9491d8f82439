import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';
import { createLogger } from '../src/log';
import { connectTemporal, temporalAddress } from '../src/temporal';
import { freeLoopbackPort, startWorkerHttp, type WorkerParts } from './http';
import { createWorker } from './index';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel).child({ service: 'worker' });
  const { httpHost, httpPort, shutdownGraceMs } = config.worker;
  // Temporal Core's own metrics (polls, task slots, latencies) on loopback, read by our /metrics.
  const coreMetricsPort = httpPort ? await freeLoopbackPort() : undefined;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(coreMetricsPort && {
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${coreMetricsPort}`, countersTotalSuffix: true, useSecondsForDurations: true } } },
    }),
  });
  // Up before anything slow, so that a supervisor sees `starting` (503) rather than a refused connection.
  const parts: WorkerParts = {};
  const http = httpPort
    ? await startWorkerHttp({
        host: httpHost,
        port: httpPort,
        parts,
        metricsToken: config.metricsToken,
        coreMetricsUrl: `http://127.0.0.1:${coreMetricsPort}/metrics`,
        log,
      })
    : undefined;
  const db = createDb({ databaseUrl: config.databaseUrl });
  if (!config.databaseUrl) await migrateLatest(db);
  const connection = await connectTemporal(config);
  const worker = await createWorker({ connection, db, config, log, tuning: { shutdownGraceTime: shutdownGraceMs } });
  Object.assign(parts, { connection, worker });
  log.info(
    { event: 'DEBUG', task_queue: config.temporal.taskQueue, temporal: temporalAddress(config), http: http && `http://${httpHost}:${httpPort}` },
    'worker started',
  );
  // On SIGINT/SIGTERM the Runtime's handlers stop the polling; run() resolves once the running
  // activities finished, or were cancelled after WORKER_SHUTDOWN_GRACE. /health answers 503 meanwhile.
  await worker.run();
  http?.close();
  http?.closeAllConnections();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
