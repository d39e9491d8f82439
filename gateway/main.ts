import { redisForRateLimits } from '../api/rate-limit';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';
import { createLogger } from '../src/log';
import { connectClient } from '../src/temporal';
import { startGatewayHttp } from './http';
import { createGateway, type Gateway } from './index';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel).child({ service: 'gateway' });
  const { httpHost, httpPort } = config.gateway;
  const parts: { gateway?: Gateway } = {};
  // Up before anything slow, so that a supervisor sees `starting` (503) rather than a refused connection.
  const http = httpPort ? await startGatewayHttp({ host: httpHost, port: httpPort, gateway: () => parts.gateway, log }) : undefined;
  const db = createDb({ databaseUrl: config.databaseUrl });
  if (!config.databaseUrl) await migrateLatest(db);
  const temporal = await connectClient(config);
  // Each bot's delivery budget, shared with the API's webhook route through Redis when REDIS_URL is set.
  const redis = redisForRateLimits(config.redisUrl, log);
  const gateway = createGateway({ db, config, log, temporal, rateLimits: { redis } });
  parts.gateway = gateway;

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log.info('gateway stopping');
    http?.close();
    http?.closeAllConnections();
    await gateway.stop();
    await temporal.connection.close();
    redis?.disconnect();
    await db.destroy();
    log.info('gateway stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  await gateway.start();
  log.info({ holder: gateway.holder, http: http && `http://${httpHost}:${httpPort}` }, 'gateway started');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
