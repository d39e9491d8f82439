/**
 * `npm start`: the whole product on one machine. Starts what is not configured from outside
 * (Temporal dev server with UI, SQLite database), applies migrations, runs a worker, the API and the
 * Discord Gateway sessions, and prints where everything is. Ctrl-C stops all of it.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { once } from 'node:events';
import { developmentToken } from '../api/auth';
import { createApp } from '../api/app';
import { createGateway } from '../gateway';
import { redisForRateLimits } from '../api/rate-limit';
import { ConfigError, DATA_DIR, loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';
import { createLogger } from '../src/log';
import { connectClient, connectTemporal } from '../src/temporal';
import { createWorker } from '../worker';
import { type EmbeddedTemporal, portInUse, startDevServer } from './embedded-temporal';

const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stops: (() => Promise<unknown> | void)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping ...');
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error(error);
      }
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    let temporal: EmbeddedTemporal | undefined;
    if (!config.temporal.address) {
      if (await portInUse('127.0.0.1', TEMPORAL_PORT)) {
        throw new Error(`Port ${TEMPORAL_PORT} is taken. Stop what runs there, or set TEMPORAL_ADDRESS=127.0.0.1:${TEMPORAL_PORT} to use it.`);
      }
      console.log('Starting the Temporal dev server ...');
      temporal = await startDevServer({ port: TEMPORAL_PORT, uiPort: TEMPORAL_UI_PORT, dataDir: DATA_DIR, quiet: true });
      stops.push(() => temporal!.stop());
      config.temporal.address = temporal.address;
      // The embedded UI may call /v1/codec (payloads it shows encrypted, with PAYLOAD_ENCRYPTION_KEY set).
      config.temporal.uiOrigin ??= temporal.uiUrl;
    }

    const db = createDb({ databaseUrl: config.databaseUrl });
    stops.push(() => db.destroy());
    const applied = await migrateLatest(db);
    if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);

    const connection = await connectTemporal(config);
    const worker = await createWorker({ connection, db, config, log: log.child({ service: 'worker' }) });
    const running = worker.run();
    stops.push(async () => {
      // The worker stops itself on SIGINT/SIGTERM too; only ask when it has not begun.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    });

    const client = await connectClient(config);
    stops.push(() => client.connection.close());
    const redis = redisForRateLimits(config.redisUrl, log);
    stops.push(() => redis?.disconnect());
    const server = createApp({ db, config, log: log.child({ service: 'api' }), temporal: client, rateLimits: { redis } }).listen(config.port, config.host);
    await once(server, 'listening');
    stops.push(() => {
      server.close();
      server.closeAllConnections();
    });

    // Discord's plain messages arrive over its Gateway only: the sessions of active Discord bots.
    const gateway = createGateway({ db, config, log: log.child({ service: 'gateway' }), temporal: client, rateLimits: { redis } });
    await gateway.start();
    stops.push(() => gateway.stop());

    const token = developmentToken(config);
    const api = `http://${config.host}:${config.port}`;
    const tokenLines = token
      ? `Development token (admin, account "dev"):
  ${token}

  curl -H "Authorization: Bearer ${token.slice(0, 12)}..." ${api}/v1/accounts/dev/bots`
      : `Tokens: npm run token -- --account <id> [--role operator|viewer|admin] (NODE_ENV=${config.env} prints none here)`;
    console.log(`
GET INN Bot Engine is running.
  API            ${api}   (health: ${api}/health)
  Console        ${api}/console   (sign in with the token below)
  Temporal UI    ${temporal?.uiUrl ?? '(external Temporal at ' + config.temporal.address + ')'}
  Temporal       ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}
  Database       ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite in ${DATA_DIR}`}
  Webhooks       ${config.publicBaseUrl}/v1/webhooks/{platform}/{bot_id}

${tokenLines}
Ctrl-C stops everything.`);
    await running;
  } catch (error) {
    console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

void main();
