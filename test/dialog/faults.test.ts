/**
 * Faults, each with counted outcomes: a worker process killed with SIGKILL mid-send and replaced,
 * the Temporal server restarted mid-dialog, 100 redelivered webhooks, bursts of 429 and 5xx from the
 * platform. Every dialog must answer every message exactly once and end in the right state.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signToken } from '../../api/auth';
import { freePort, startDevServer } from '../../scripts/embedded-temporal';
import { createLogger } from '../../src/log';
import { connectClient } from '../../src/temporal';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { createTestDb, createTestWorker, eventually, type Stack, startStack, testConfig } from '../support/stack';
import { startGate } from './harness';
import { bookingScenario } from './scenarios';

const FULL_DIALOG = ['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?', 'When?', 'Booked for 2 at 18:00, Anna.'];
const ANSWERS = ['/start', 'Anna', '2', '18'];

const okTextsTo = (tg: FakeTelegram, chat: number | string) =>
  tg
    .callsTo('sendMessage')
    .filter((c) => String(c.body.chat_id) === String(chat) && c.status === 200)
    .map((c) => c.body.text as string);

async function kill(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('a worker process killed with SIGKILL, redeliveries and platform error bursts (postgres)', () => {
  let tg: FakeTelegram;
  let gate: Awaited<ReturnType<typeof startGate>>;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let reminderBot: Awaited<ReturnType<Stack['createBot']>>;
  let worker: ChildProcess | undefined;
  let update = 1;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    gate = await startGate(tg);
    stack = await startStack({ db: 'postgres', apiBases: { telegram: gate.url }, worker: false });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: bookingScenario });
    const withReminder = {
      ...bookingScenario,
      settings: { ...bookingScenario.settings, timeout: { after: '3s', action: 'remind', message: 'Still there?', max_reminders: 1, then: 'none' } },
    };
    reminderBot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000002:AAH-test-token' }, scenario: withReminder });
    worker = stack.spawnWorkerProcess();
  }, 60_000);
  afterAll(async () => {
    gate?.open();
    if (worker) await kill(worker);
    await stack?.close();
    await gate?.stop();
    await tg.close();
  });

  const post = (target: { id: string; webhookSecret?: string }, chat: number, text: string, updateId = update++) => {
    const req = telegramUpdate({ updateId, chatId: chat, text, secret: target.webhookSecret });
    return stack.http.post(`/v1/webhooks/telegram/${target.id}`).set(req.headers).send(req.body);
  };
  const stateOf = async (botId: string, chat: number) => (await stack.http.get(`/v1/bots/${botId}/dialogs/telegram/${chat}`).set(bot.headers)).body;
  const waitTexts = (chat: number, count: number, timeoutMs = 60_000) =>
    eventually(() => (okTextsTo(tg, chat).length >= count ? okTextsTo(tg, chat) : undefined), timeoutMs, `${count} texts to ${chat}`);

  it('dialogs in the middle of a send when the worker is killed finish on the new worker, each message answered once', async () => {
    const chats = [7001, 7002, 7003, 7004, 7005];
    for (const chat of chats) expect((await post(bot, chat, '/start')).status).toBe(200);
    for (const chat of chats) await waitTexts(chat, 2);
    // A reminder timer is running on another dialog while the worker dies.
    expect((await post(reminderBot, 7100, '/start')).status).toBe(200);
    await waitTexts(7100, 2);

    gate.close();
    for (const chat of chats) expect((await post(bot, chat, 'Anna')).status).toBe(200);
    await eventually(() => gate.waiting >= chats.length || undefined, 30_000, 'every send held mid-call');

    await kill(worker as ChildProcess);
    await eventually(() => gate.waitingAlive === 0 || undefined, 10_000, 'held calls dropped with the dead worker');
    gate.open();
    worker = stack.spawnWorkerProcess();

    for (const chat of chats) await waitTexts(chat, 3);
    for (const chat of chats) {
      expect((await post(bot, chat, '2')).status).toBe(200);
      expect((await post(bot, chat, '18')).status).toBe(200);
    }
    for (const chat of chats) await waitTexts(chat, 5);
    for (const chat of chats) {
      expect(okTextsTo(tg, chat)).toEqual(FULL_DIALOG);
      expect(await stateOf(bot.id, chat)).toMatchObject({ status: 'completed', collected_data: { user_name: 'Anna', guests: 2, time: '18', booked: true } });
    }
    // The reminder fired while no worker ran, and was delivered once by the new one.
    await waitTexts(7100, 3);
    expect(okTextsTo(tg, 7100)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'Still there?']);
    console.log(`SIGKILL: ${chats.length} dialogs held mid-send, ${gate.heldCount} sends dropped with the worker; ${chats.length} completed, 0 duplicates`);
  }, 150_000);

  it('100 redelivered webhooks change nothing: each message is answered once', async () => {
    const chats = [7201, 7202, 7203, 7204];
    const statuses: number[] = [];
    for (const [i, text] of ANSWERS.entries()) {
      // Every update is delivered six or seven times at once (100 webhooks in all).
      await Promise.all(
        chats.map(async (chat, c) => {
          const copies = i * chats.length + c < 4 ? 7 : 6;
          const updateId = chat * 10 + i;
          const answers = await Promise.all(Array.from({ length: copies }, () => post(bot, chat, text, updateId)));
          statuses.push(...answers.map((a) => a.status));
        }),
      );
    }
    expect(statuses).toHaveLength(100);
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (const chat of chats) await waitTexts(chat, 5);
    for (const chat of chats) {
      await eventually(async () => (await stateOf(bot.id, chat)).status === 'completed' || undefined, 20_000, `${chat} completed`);
      expect(okTextsTo(tg, chat)).toEqual(FULL_DIALOG);
      const users = await stack
        .db('dialog_messages')
        .where({ bot_id: bot.id, chat_id: String(chat), message_type: 'user' })
        .count<{ n: string }[]>({ n: '*' });
      expect(Number(users[0].n)).toBe(ANSWERS.length);
    }
  }, 90_000);

  it('bursts of 429 and 5xx from the platform are retried: every reply arrives once, in order', async () => {
    const chats = [7301, 7302, 7303];
    const before = { 429: tg.calls.filter((c) => c.status === 429).length, 502: tg.calls.filter((c) => c.status === 502).length };
    tg.failNext({ status: 429, retryAfter: 1, method: 'sendMessage', times: 4 });
    tg.failNext({ status: 502, method: 'sendMessage', times: 4 });
    for (const chat of chats) expect((await post(bot, chat, '/start')).status).toBe(200);
    for (const chat of chats) await waitTexts(chat, 2);
    tg.failNext({ status: 500, method: 'sendMessage', times: 3 });
    for (const text of ANSWERS.slice(1)) for (const chat of chats) expect((await post(bot, chat, text)).status).toBe(200);
    for (const chat of chats) await waitTexts(chat, 5);
    for (const chat of chats) {
      expect(okTextsTo(tg, chat)).toEqual(FULL_DIALOG);
      expect((await stateOf(bot.id, chat)).status).toBe('completed');
    }
    const after = {
      429: tg.calls.filter((c) => c.status === 429).length,
      502: tg.calls.filter((c) => c.status === 502).length,
      500: tg.calls.filter((c) => c.status === 500).length,
    };
    expect(after[429] - before[429]).toBe(4);
    expect(after[502] - before[502]).toBe(4);
    expect(after[500]).toBe(3);
  }, 90_000);
});

describe('the Temporal server killed (SIGKILL) and restarted in the middle of dialogs', () => {
  it('dialogs go on after the server comes back, each message answered once', async () => {
    const tg = await startFakeTelegram();
    const gate = await startGate(tg);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'temporal-restart-'));
    const port = await freePort();
    let server = await startDevServer({ port, dataDir, quiet: true });
    const testDb = await createTestDb('sqlite');
    const config = testConfig({ apiBases: { telegram: gate.url } });
    const log = createLogger('silent');
    config.temporal.address = server.address;
    // The API's own client: it has to find the server again after the restart.
    const temporal = await connectClient(config);
    const app = createApp({ db: testDb.db, config, log, temporal });
    const http = request(app.callback());
    const workerConnection = await NativeConnection.connect({ address: server.address });
    let worker: Worker | undefined;
    let running: Promise<void> | undefined;
    try {
      worker = await createTestWorker({ connection: workerConnection, db: testDb.db, config, log });
      running = worker.run();
      const headers = { Authorization: `Bearer ${signToken(config.jwtSecret, { sub: 'ops', role: 'operator', account_ids: ['acme'] })}` };
      const created = await http.post('/v1/accounts/acme/bots').set(headers).send({ name: 'restart' });
      const botId = created.body.id as string;
      const scenario = await http.post(`/v1/bots/${botId}/scenarios`).set(headers).send({ name: 'main', scenario_data: bookingScenario });
      await http.post(`/v1/scenarios/${scenario.body.id}/activate`).set(headers).send({ active: true });
      await http
        .post(`/v1/bots/${botId}/platforms`)
        .set(headers)
        .send({ platform: 'telegram', credentials: { token: '7000003:AAH-test-token' } });
      await http.post(`/v1/bots/${botId}/platforms/telegram/webhook`).set(headers).send({});
      expect((await http.post(`/v1/bots/${botId}/activate`).set(headers).send({})).status).toBe(200);
      const secret = tg.webhook?.secret_token as string;
      let update = 1;
      const post = (chat: number, text: string) => {
        const req = telegramUpdate({ updateId: update++, chatId: chat, text, secret });
        return http.post(`/v1/webhooks/telegram/${botId}`).set(req.headers).send(req.body);
      };
      const waitTexts = (chat: number, count: number) =>
        eventually(() => okTextsTo(tg, chat).length >= count || undefined, 60_000, `${count} texts to ${chat}`);

      const chats = [8001, 8002, 8003];
      for (const chat of chats) expect((await post(chat, '/start')).status).toBe(200);
      for (const chat of chats) await waitTexts(chat, 2);

      // Replies are on their way to the platform when the server goes down.
      gate.close();
      for (const chat of chats) expect((await post(chat, 'Anna')).status).toBe(200);
      await eventually(() => gate.waiting >= chats.length || undefined, 30_000, 'sends in flight');
      // SIGKILL: the server's SQLite file must hold every acknowledged write without a clean shutdown.
      process.kill(server.pid as number, 'SIGKILL');
      await server.stop();
      gate.open();
      await eventually(() => okTextsTo(tg, 8003).length >= 3 || undefined, 30_000, 'the held sends reaching the platform');
      server = await startDevServer({ port, dataDir, quiet: true });

      for (const chat of chats) await waitTexts(chat, 3);
      for (const chat of chats) {
        expect((await post(chat, '2')).status).toBe(200);
        expect((await post(chat, '18')).status).toBe(200);
      }
      for (const chat of chats) await waitTexts(chat, 5);
      for (const chat of chats) {
        expect(okTextsTo(tg, chat)).toEqual(FULL_DIALOG);
        const state = await eventually(
          async () => {
            const res = await http.get(`/v1/bots/${botId}/dialogs/telegram/${chat}`).set(headers);
            return res.body.status === 'completed' ? res.body : undefined;
          },
          20_000,
          `${chat} completed`,
        );
        expect(state.collected_data).toEqual({ user_name: 'Anna', guests: 2, time: '18', booked: true });
      }
      console.log(
        `Temporal restart: ${chats.length} dialogs completed, ${tg.callsTo('sendMessage').length} sends for ${chats.length * FULL_DIALOG.length} replies`,
      );
    } finally {
      worker?.shutdown();
      await running?.catch(() => undefined);
      await workerConnection.close();
      await temporal.connection.close();
      await server.stop();
      await app.drain();
      await testDb.drop();
      await gate.stop();
      await tg.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
