/**
 * A dialog with PAYLOAD_ENCRYPTION_KEY set, end to end on the run's Temporal dev server: messages go
 * in through the webhook (the API's client encrypts the signal), the worker answers with what the
 * guest said, the API shows the dialog's state (a query through the codec) — and the history as
 * Temporal stores it holds none of what the guest wrote.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { NativeConnection, Worker } from '@temporalio/worker';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { type App, createApp } from '../../api/app';
import { signToken } from '../../api/auth';
import type { Config } from '../../src/config';
import { platformsRepository } from '../../src/db/platforms';
import { createLogger } from '../../src/log';
import { connectClient, connectTemporal } from '../../src/temporal';
import { dialogWorkflowId } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { createTestDb, createTestWorker, eventually, type TestDb, testConfig } from '../support/stack';
import { seedBot } from './harness';
import { bookingScenario } from './scenarios';

const CHAT = 7301;
const NAME = 'Zelda Quux';
const PHONE = '+1 555 0199';
const SECRET = 'encryption-test-webhook-secret';

type RawPayload = temporal.api.common.v1.IPayload;

/**
 * Every payload of a raw history but those Temporal keeps in clear by design: search attributes
 * (keywords without personal data, CONTRACT §5) and the SDK's own data of a local activity's marker
 * (its sequence number, activity type and times; the activity's result beside it is encrypted).
 */
function payloadsOf(value: unknown, found: RawPayload[] = [], key = ''): RawPayload[] {
  if (Array.isArray(value)) for (const item of value) payloadsOf(item, found, key);
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') found.push(record);
    else {
      for (const [name, child] of Object.entries(record)) {
        if (name !== 'searchAttributes' && !(key === 'details' && name === 'data')) payloadsOf(child, found, name);
      }
    }
  }
  return found;
}

describe('a dialog with payload encryption', () => {
  let tg: FakeTelegram;
  let testDb: TestDb;
  let config: Config;
  let client: Client;
  let app: App;
  let http: TestAgent;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let botId: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    testDb = await createTestDb('sqlite');
    config = testConfig({ apiBases: { telegram: tg.url } });
    config.payloadKeys = { current: { id: 'dialogs-test', key: Buffer.alloc(32, 11) }, previous: [] };
    client = await connectClient(config);
    app = createApp({ db: testDb.db, config, log: createLogger('silent'), temporal: client });
    http = request(app.callback());
    connection = await connectTemporal(config);
    worker = await createTestWorker({ connection, config, db: testDb.db, log: createLogger('silent') });
    running = worker.run();
    ({ botId } = await seedBot(testDb, config, bookingScenario));
    await platformsRepository(testDb.db, { current: config.encryptionKey }).setWebhookSecret(botId, 'telegram', SECRET);
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await app?.drain();
    await client?.connection.close();
    await testDb?.drop();
    await tg?.close();
  });

  it('answers and shows the dialog, while Temporal stores none of what the guest wrote', async () => {
    let updateId = 1;
    const say = async (text: string) => {
      const req = telegramUpdate({ updateId: updateId++, chatId: CHAT, text, firstName: 'Zelda', secret: SECRET });
      expect((await http.post(`/v1/webhooks/telegram/${botId}`).set(req.headers).send(req.body)).status).toBe(200);
    };
    const replies = () =>
      tg
        .callsTo('sendMessage')
        .filter((c) => String(c.body.chat_id) === String(CHAT) && c.status === 200)
        .map((c) => c.body.text as string);

    await say('/start');
    await say(NAME);
    await eventually(() => replies().includes(`How many guests, ${NAME}?`), 30_000, 'the question with the guest’s name');
    await say(`call me on ${PHONE}`);
    await eventually(() => replies().length >= 4, 30_000, 'the re-asked question');

    const operator = { Authorization: `Bearer ${signToken(config.jwtSecret, { sub: 'encryption-test', role: 'operator', account_ids: ['acme'] })}` };
    const dialog = await http.get(`/v1/bots/${botId}/dialogs/telegram/${CHAT}`).set(operator);
    expect(dialog.status).toBe(200);
    expect(dialog.body).toMatchObject({ current_step: 'ask_guests', collected_data: { user_name: NAME } });

    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: config.temporal.namespace,
      execution: { workflowId: dialogWorkflowId(botId, 'telegram', String(CHAT)) },
    });
    const stored = Buffer.from(temporal.api.history.v1.History.encode(history as temporal.api.history.v1.IHistory).finish());
    // The search works on these bytes: the ids and step names Temporal must read are there in clear.
    expect(stored.includes(botId)).toBe(true);
    for (const secret of [NAME, 'Zelda', PHONE, '555 0199', 'How many guests']) expect(stored.includes(secret)).toBe(false);

    const payloads = payloadsOf(history);
    expect(payloads.length).toBeGreaterThan(10);
    const encodings = new Set(payloads.map((p) => Buffer.from(p.metadata?.encoding ?? []).toString()));
    expect([...encodings]).toEqual(['binary/encrypted']);
  });
});
