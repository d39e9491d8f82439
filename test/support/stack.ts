/**
 * The whole product inside one test file, on real services: a database (SQLite in memory, or a
 * fresh schema of the run's PostgreSQL database), the Koa app through supertest, a Temporal client
 * of the run's dev server, and a dialog worker on a task queue of the file's own.
 *
 *   const tg = await startFakeTelegram();
 *   const stack = await startStack({ db: 'postgres', apiBases: { telegram: tg.url } });
 *   const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '123:abc' }, scenario });
 *   await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);   // the exact text
 *   await stack.stopWorker(); await stack.startWorker();        // a worker going away and coming back
 *   const child = stack.spawnWorkerProcess(); child.kill('SIGKILL');  // a real worker process
 *   await stack.close();
 *
 * `bot.webhookSecret` is the Telegram secret token registered with the fake (`setWebhook`).
 */
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { signToken, type Role } from '../../api/auth';
import { createApp } from '../../api/app';
import { type Config, loadConfig } from '../../src/config';
import { createDb, type Db, migrateLatest } from '../../src/db';
import { createLogger, type Logger } from '../../src/log';
import { connectClient } from '../../src/temporal';
import type { PlatformName } from '../../src/platforms/types';
import { createWorker } from '../../worker';

// The SDK's own logs would drown the test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Installed already by an earlier test file in this jest worker.
}

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];
const ROOT = path.resolve(__dirname, '..', '..');

export interface TestDb {
  db: Db;
  kind: DbKind;
  /** For another process: DATABASE_URL with this schema as its search path (PostgreSQL only). */
  url?: string;
  drop(): Promise<void>;
}

/** A migrated, empty database of its own: SQLite in memory or a new PostgreSQL schema. */
export async function createTestDb(kind: DbKind): Promise<TestDb> {
  if (kind === 'sqlite') {
    const db = createDb({ sqliteFile: ':memory:' });
    await migrateLatest(db);
    return { db, kind, drop: () => db.destroy() };
  }
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (its global setup creates the database).');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = createDb({ databaseUrl: base, poolMax: 1 });
  await admin.raw(`CREATE SCHEMA ${schema}`);
  await admin.destroy();
  const db = createDb({ databaseUrl: base, searchPath: schema, poolMax: 5 });
  await migrateLatest(db);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    db,
    kind,
    url: url.toString(),
    drop: async () => {
      await db.raw(`DROP SCHEMA ${schema} CASCADE`);
      await db.destroy();
    },
  };
}

export function testConfig(overrides: { apiBases?: Partial<Record<PlatformName, string>>; taskQueue?: string } = {}): Config {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: overrides.taskQueue ?? `dialogs-${randomUUID()}`,
    WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
  });
  config.apiBases = { ...config.apiBases, ...overrides.apiBases };
  return config;
}

/** The workflows jest's global setup bundled once; a script run alone bundles them itself. */
export function testWorkflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = process.env.TEST_WORKFLOW_BUNDLE;
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../../workflows') };
}

/** A dialog worker on the workflows jest's global setup bundled (`testConfig`'s WORKFLOW_BUNDLE). */
export function createTestWorker(options: { connection: NativeConnection; config: Config; db: Db; log: Logger }): Promise<Worker> {
  return createWorker({
    ...options,
    namespace: options.config.temporal.namespace,
    taskQueue: options.config.temporal.taskQueue,
  });
}

export interface StackOptions {
  db: DbKind;
  apiBases?: Partial<Record<PlatformName, string>>;
  /** Start the in-process worker right away (default true). */
  worker?: boolean;
  log?: Logger;
}

export async function startStack(options: StackOptions) {
  const testDb = await createTestDb(options.db);
  const config = testConfig({ apiBases: options.apiBases });
  const log = options.log ?? createLogger(config.logLevel);
  const address = process.env.TEST_TEMPORAL_ADDRESS as string;
  const temporal = await connectClient(config);
  const app = createApp({ db: testDb.db, config, log, temporal });
  const server = app.listen(0, '127.0.0.1');
  const http: TestAgent = request(server);

  let workerConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  const startWorker = async () => {
    workerConnection ??= await NativeConnection.connect({ address });
    worker = await createTestWorker({ connection: workerConnection, db: testDb.db, config, log });
    running = worker.run();
  };
  const stopWorker = async () => {
    worker?.shutdown();
    await running;
    worker = undefined;
  };
  if (options.worker !== false) await startWorker();

  const token = (role: Role = 'operator', accountIds: string[] = ['acme']) =>
    signToken(config.jwtSecret, { sub: `test-${role}`, role, account_ids: accountIds });
  const auth = (role: Role = 'operator', accountIds: string[] = ['acme']) => ({ Authorization: `Bearer ${token(role, accountIds)}` });

  /** A real worker process (`worker/main.ts`) against this stack's database and task queue. */
  const spawnWorkerProcess = (): ChildProcess => {
    if (!testDb.url) throw new Error('a worker process needs the PostgreSQL stack');
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: testDb.url,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      ENCRYPTION_KEY: config.encryptionKey.toString('base64'),
      TELEGRAM_API_BASE: config.apiBases.telegram,
      WHATSAPP_API_BASE: config.apiBases.whatsapp,
      MESSENGER_API_BASE: config.apiBases.messenger,
      SLACK_API_BASE: config.apiBases.slack,
      DISCORD_API_BASE: config.apiBases.discord,
      // No /health and /metrics server unless a test asks (it would take the default port 9464).
      WORKER_HTTP_PORT: process.env.WORKER_HTTP_PORT ?? '0',
    };
    // `node --import tsx` rather than the tsx CLI, which forks: a SIGKILL must reach the worker itself.
    const output = process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore';
    return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], { cwd: ROOT, env, stdio: ['ignore', output, output] });
  };

  /** Creates a bot with a scenario (active), a platform connection and its webhook, and activates it. */
  const createBot = async (input: { platform: PlatformName; credentials: Record<string, string>; scenario: unknown; account?: string; name?: string }) => {
    const account = input.account ?? 'acme';
    const headers = auth('operator', [account]);
    const expectOk = (what: string, res: request.Response, status: number) => {
      if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const bot = expectOk(
      'create bot',
      await http
        .post(`/v1/accounts/${account}/bots`)
        .set(headers)
        .send({ name: input.name ?? `bot-${randomUUID().slice(0, 8)}` }),
      201,
    );
    const scenario = expectOk(
      'create scenario',
      await http.post(`/v1/bots/${bot.id}/scenarios`).set(headers).send({ name: 'main', scenario_data: input.scenario }),
      201,
    );
    expectOk('activate scenario', await http.post(`/v1/scenarios/${scenario.id}/activate`).set(headers).send({ active: true }), 200);
    expectOk(
      'connect platform',
      await http.post(`/v1/bots/${bot.id}/platforms`).set(headers).send({ platform: input.platform, credentials: input.credentials }),
      201,
    );
    expectOk('register webhook', await http.post(`/v1/bots/${bot.id}/platforms/${input.platform}/webhook`).set(headers).send({}), 200);
    expectOk('activate bot', await http.post(`/v1/bots/${bot.id}/activate`).set(headers).send({}), 200);
    const secrets = await (
      await import('../../src/db/platforms')
    )
      .platformsRepository(testDb.db, { current: config.encryptionKey })
      .secrets(bot.id, input.platform);
    return { id: bot.id as string, scenarioId: scenario.id as string, headers, webhookSecret: secrets?.webhookSecret };
  };

  const close = async () => {
    await stopWorker();
    await workerConnection?.close();
    server.close();
    await app.drain();
    await temporal.connection.close();
    await testDb.drop();
  };

  return {
    db: testDb.db,
    dbKind: testDb.kind,
    config,
    temporal,
    app,
    server,
    http,
    auth,
    token,
    startWorker,
    stopWorker,
    spawnWorkerProcess,
    createBot,
    close,
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
