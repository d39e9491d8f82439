import { once } from 'node:events';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';
import { createLogger } from '../src/log';
import { connectClient } from '../src/temporal';
import { createApp } from './app';
import { redisForRateLimits } from './rate-limit';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel).child({ service: 'api' });
  const db = createDb({ databaseUrl: config.databaseUrl });
  if (!config.databaseUrl) await migrateLatest(db);
  const temporal = await connectClient(config);
  // Rate limits shared by every API process when REDIS_URL is set; this process's memory otherwise.
  const redis = redisForRateLimits(config.redisUrl, log);
  const app = createApp({ db, config, log, temporal, rateLimits: { redis } });
  const server = app.listen(config.port, config.host);
  await once(server, 'listening');
  log.info({ url: `http://${config.host}:${config.port}` }, 'api listening');

  const shutdown = async () => {
    log.info('api stopping');
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    await app.drain();
    await temporal.connection.close();
    redis?.disconnect();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
