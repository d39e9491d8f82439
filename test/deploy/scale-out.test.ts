/**
 * Scale-out as an operator runs it: two API processes (`npm run api`) and two workers
 * (`npm run worker`) on one PostgreSQL database, one Redis and one Temporal dev server (the run's,
 * started by jest's global setup with the dialog search attributes). 50 Telegram chats alternate
 * between the two APIs while worker 1 is SIGKILLed a third of the way in. Every message must be
 * answered; a reply may go out twice only inside the at-least-once window of docs/durability.md
 * (a send the platform took before the dead worker recorded it); and the operator rate limits
 * count the requests of both APIs together, in Redis.
 */
import { Client, Connection } from '@temporalio/client';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client as PgClient } from 'pg';
import { signToken } from '../../api/auth';
import { RATE_LIMITS } from '../../api/rate-limit';
import { freePort } from '../../scripts/embedded-temporal';
import { dialogWorkflowId } from '../../workflows/messages';
import { bookingScenario } from '../dialog/scenarios';
import { type FakeTelegram, type SignedRequest, startFakeTelegram, telegramUpdate } from '../fakes';
import { eventually } from '../support/stack';
import { POSTGRES_ADMIN_URL } from '../support/global-setup';
import { type NpmProcess, runNpmScript, startNpmScript, waitForHealth, waitForWorkflowPoller } from './processes';

const CHATS = 50;
/** A third of the 150 messages answered: worker 1 dies with other turns in flight and the rest to come. */
const KILL_AFTER_ANSWERS = 50;
const ACCOUNT = 'scale-out';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const chatOf = (n: number) => 6_100_000 + n;
const guestsOf = (n: number) => (n % 8) + 1;
/** The three messages each chat sends, and the replies each one must get. */
const conversation = (n: number) => [
  { text: '/start', replies: ['Welcome to Chez Anna!', 'Your name?'] },
  { text: `Guest ${n}`, replies: [`How many guests, Guest ${n}?`] },
  { text: String(guestsOf(n)), replies: ['When?'] },
];

const uniqueInOrder = (texts: string[]) => [...new Set(texts)];
const countBy = <T>(items: T[]) => items.reduce((counts, item) => counts.set(item, (counts.get(item) ?? 0) + 1), new Map<T, number>());

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(base: string, token: string, method: string, route: string, body?: unknown): Promise<Answer> {
  const response = await fetch(base + route, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function expectStatus(answer: Answer, status: number, what: string): any {
  if (answer.status !== status) throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Activity attempts a worker completed, from its `/metrics` (Prometheus text). */
async function completedActivities(workerUrl: string): Promise<number> {
  const text = await (await fetch(`${workerUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('getinn_activity_duration_seconds_count{') && line.includes('outcome="ok"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function postWebhook(base: string, botId: string, request: SignedRequest): Promise<number> {
  const response = await fetch(`${base}/v1/webhooks/telegram/${botId}`, { method: 'POST', headers: request.headers, body: request.body });
  await response.arrayBuffer();
  return response.status;
}

describe('two APIs and two workers on PostgreSQL, Redis and one Temporal server', () => {
  const runId = randomBytes(4).toString('hex');
  const database = `scaleout_${process.pid}`;
  const taskQueue = `scale-out-${runId}`;
  const jwtSecret = randomBytes(32).toString('hex');
  let workDir: string | undefined;
  const processes: NpmProcess[] = [];
  let apiUrls: string[] = [];
  let workers: NpmProcess[] = [];
  /** The Temporal identity (`<pid>@<host>`) each worker polls with. */
  let workerIdentities: string[] = [];
  /** Each worker's own HTTP endpoints (`/health`, `/metrics`). */
  let workerUrls: string[] = [];
  let tg: FakeTelegram;
  let temporalConnection: Connection | undefined;
  let temporal: Client;
  let pg: PgClient | undefined;
  const redisPatterns: string[] = [];

  /** A token of its own subject; the subject's rate-limit counters are removed from Redis afterwards. */
  const tokenFor = (sub: string) => {
    redisPatterns.push(`*:sub:${sub}`);
    return signToken(jwtSecret, { sub, role: 'operator', account_ids: [ACCOUNT] });
  };

  const adminQuery = async (sql: string) => {
    const admin = new PgClient({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'scale-out-'));
    const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
    if (!temporalAddress) throw new Error('TEST_TEMPORAL_ADDRESS is not set: run this through jest (its global setup starts the Temporal dev server).');
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${database}`);
    const databaseUrl = new URL(POSTGRES_ADMIN_URL);
    databaseUrl.pathname = `/${database}`;
    tg = await startFakeTelegram();
    temporalConnection = await Connection.connect({ address: temporalAddress });
    temporal = new Client({ connection: temporalConnection });

    const apiPorts = [await freePort(), await freePort()];
    apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
    // What an operator's env file holds, and nothing of this process's environment beyond PATH and HOME.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? workDir,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      JWT_SECRET: jwtSecret,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: apiUrls[0],
      TELEGRAM_API_BASE: tg.url,
      DATA_DIR: workDir,
      MEDIA_DIR: path.join(workDir, 'media'),
      // Bundled once by jest's global setup (as `npm run build:workflows` does), so no worker bundles at start.
      ...(process.env.TEST_WORKFLOW_BUNDLE ? { WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE } : {}),
    };
    await runNpmScript('migrate', env);

    const apis = apiPorts.map((port, i) => startNpmScript(`api ${i + 1}`, 'api', { ...env, PORT: String(port) }));
    processes.push(...apis);
    // Each worker serves /health (and /metrics) on a port of its own, as two workers on one host must.
    const workerHttpPorts = [await freePort(), await freePort()];
    workerUrls = workerHttpPorts.map((port) => `http://127.0.0.1:${port}`);
    workers = workerHttpPorts.map((port, i) => startNpmScript(`worker ${i + 1}`, 'worker', { ...env, WORKER_HTTP_PORT: String(port) }));
    processes.push(...workers);
    await Promise.all([
      ...apis.map((api, i) => waitForHealth(`${apiUrls[i]}/health`, api)),
      ...workers.map((worker, i) => waitForHealth(`${workerUrls[i]}/health`, worker)),
    ]);
    workerIdentities = await Promise.all(workers.map((worker) => waitForWorkflowPoller(temporal, taskQueue, worker)));
    pg = new PgClient({ connectionString: databaseUrl.toString() });
    await pg.connect();
  }, 150_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.kill('SIGKILL')));
    await temporalConnection?.close();
    await pg?.end();
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    try {
      await redis.connect();
      for (const pattern of redisPatterns) {
        const keys = await redis.keys(pattern);
        if (keys.length > 0) await redis.del(...keys);
      }
    } finally {
      redis.disconnect();
    }
    await tg?.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  const deliveredTo = (chat: number) =>
    tg
      .callsTo('sendMessage')
      .filter((c) => c.ok && String(c.body.chat_id) === String(chat))
      .map((c) => c.body.text as string);

  /** Replies in each chat's transcript: a row is written only after the platform took the send. */
  const transcriptRowsByChat = async (botId: string) => {
    const { rows } = await (pg as PgClient).query<{ chat_id: string; replies: string }>(
      `SELECT chat_id, count(*) AS replies FROM dialog_messages WHERE bot_id = $1 AND message_type = 'bot' GROUP BY chat_id`,
      [botId],
    );
    return new Map(rows.map((row) => [Number(row.chat_id), Number(row.replies)]));
  };

  it('answers every message of 50 chats spread over both APIs while worker 1 is SIGKILLed', async () => {
    const token = tokenFor(`scale-out-chats-${runId}`);
    const [api1, api2] = apiUrls;
    const bot = expectStatus(await call(api1, token, 'POST', `/v1/accounts/${ACCOUNT}/bots`, { name: 'scale-out' }), 201, 'create bot');
    redisPatterns.push(`*:bot:${bot.id}`);
    const scenario = expectStatus(
      await call(api1, token, 'POST', `/v1/bots/${bot.id}/scenarios`, { name: 'booking', scenario_data: bookingScenario }),
      201,
      'create scenario',
    );
    expectStatus(await call(api1, token, 'POST', `/v1/scenarios/${scenario.id}/activate`, { active: true }), 200, 'activate scenario');
    expectStatus(
      await call(api1, token, 'POST', `/v1/bots/${bot.id}/platforms`, { platform: 'telegram', credentials: { token: '7000001:AAH-scale-out' } }),
      201,
      'connect telegram',
    );
    expectStatus(await call(api1, token, 'POST', `/v1/bots/${bot.id}/platforms/telegram/webhook`, {}), 200, 'register webhook');
    expectStatus(await call(api1, token, 'POST', `/v1/bots/${bot.id}/activate`, {}), 200, 'activate bot');
    expect(tg.webhook?.url).toBe(`${api1}/v1/webhooks/telegram/${bot.id}`);
    const secret = tg.webhook?.secret_token as string;

    let posted = 0;
    let answered = 0;
    const killWorkerOne = async () => {
      await eventually(() => answered >= KILL_AFTER_ANSWERS, 120_000, `${KILL_AFTER_ANSWERS} messages answered`);
      // Worker 1 has done its share when it dies, as its own /metrics tells an operator.
      const workerOneActivities = await eventually(
        async () => (await completedActivities(workerUrls[0])) || undefined,
        60_000,
        'worker 1 completing activities',
      );
      const atKill = { posted, answered, workerOneActivities };
      await workers[0].kill('SIGKILL');
      // Transcript first, then the platform: a row never exists before its send, so the difference
      // counts every send the platform took that the dead worker had not recorded, the only sends
      // a retry may repeat (later sends of worker 2 only make the bound looser, never tighter).
      const recorded = await transcriptRowsByChat(bot.id);
      // Lets the fake read any request the dead worker had already written to its socket.
      await delay(100);
      const window = new Map<number, number>();
      for (const [chat, sent] of countBy(
        tg
          .callsTo('sendMessage')
          .filter((c) => c.ok)
          .map((c) => Number(c.body.chat_id)),
      )) {
        const unrecorded = sent - (recorded.get(chat) ?? 0);
        if (unrecorded > 0) window.set(chat, unrecorded);
      }
      return { ...atKill, window };
    };

    const runChat = async (n: number) => {
      const chat = chatOf(n);
      const api = n % 2 === 0 ? api1 : api2;
      const expected: string[] = [];
      for (const [turn, { text, replies }] of conversation(n).entries()) {
        const status = await postWebhook(api, bot.id, telegramUpdate({ updateId: chat * 10 + turn, chatId: chat, text, secret }));
        if (status !== 200) throw new Error(`the webhook of chat ${chat} answered ${status}`);
        posted += 1;
        expected.push(...replies);
        await eventually(() => uniqueInOrder(deliveredTo(chat)).length >= expected.length, 90_000, `${expected.length} replies in chat ${chat}`);
        answered += 1;
      }
    };
    const kill = killWorkerOne();
    kill.catch(() => undefined); // awaited below, after the chats
    await Promise.all(Array.from({ length: CHATS }, (_, n) => runChat(n)));
    const atKill = await kill;
    // Mid-way: messages were still waiting for their replies when worker 1 died.
    expect(atKill.answered).toBeLessThan(posted);

    // Every reply, in order, in its own chat; a repeat only where a send was in the window.
    const beyondWindow: string[] = [];
    let duplicates = 0;
    for (let n = 0; n < CHATS; n++) {
      const chat = chatOf(n);
      const texts = deliveredTo(chat);
      const expected = conversation(n).flatMap((turn) => turn.replies);
      expect(uniqueInOrder(texts)).toEqual(expected);
      const repeats = texts.length - expected.length;
      duplicates += repeats;
      if (repeats > (atKill.window.get(chat) ?? 0)) beyondWindow.push(`chat ${chat}: ${repeats} repeated, ${atKill.window.get(chat) ?? 0} in the window`);
    }
    expect(beyondWindow).toEqual([]);

    // The transcript holds each reply once, whichever worker sent it.
    const repliesPerChat = conversation(0).flatMap((turn) => turn.replies).length;
    const transcripts = await eventually(
      async () => {
        const rows = await transcriptRowsByChat(bot.id);
        return rows.size === CHATS && [...rows.values()].every((count) => count >= repliesPerChat) ? rows : undefined;
      },
      30_000,
      'every reply in the transcripts',
    );
    expect([...transcripts.values()]).toEqual(Array<number>(CHATS).fill(repliesPerChat));

    // Each dialog's state, read through the API that did not take its messages.
    for (let n = 0; n < CHATS; n++) {
      const api = n % 2 === 0 ? api2 : api1;
      const state = expectStatus(await call(api, token, 'GET', `/v1/bots/${bot.id}/dialogs/telegram/${chatOf(n)}`), 200, `dialog ${chatOf(n)}`);
      expect(state).toMatchObject({ status: 'active', current_step: 'pick_time', collected_data: { user_name: `Guest ${n}`, guests: guestsOf(n) } });
    }

    // Which worker ran each dialog's workflow tasks, from Temporal's histories (numbers for the log).
    const [workerOne, workerTwo] = workerIdentities;
    const workerOneChats: number[] = [];
    let takenOver = 0;
    for (let n = 0; n < CHATS; n++) {
      const history = await temporal.workflow.getHandle(dialogWorkflowId(bot.id, 'telegram', String(chatOf(n)))).fetchHistory();
      const identities = new Set(history.events?.map((event) => event.workflowTaskCompletedEventAttributes?.identity));
      if (identities.has(workerOne)) workerOneChats.push(chatOf(n));
      if (identities.has(workerOne) && identities.has(workerTwo)) takenOver += 1;
    }

    const sum = (chats: Iterable<number>) => [...chats].reduce((total, chat) => total + (atKill.window.get(chat) ?? 0), 0);
    console.log(
      `Scale-out: ${CHATS} chats, ${posted} messages alternating over 2 APIs; worker 1 SIGKILLed after ${atKill.answered} were answered ` +
        `(${atKill.posted - atKill.answered} waiting for replies; worker 1 had completed ${atKill.workerOneActivities} activities); ` +
        `dialogs worker 1 ran: ${workerOneChats.length}, ${takenOver} of them finished by worker 2; ` +
        `sends in the at-least-once window at the kill: ${sum(atKill.window.keys())} (${sum(workerOneChats)} in worker 1's dialogs); ` +
        `replies sent twice: ${duplicates}; sendMessage calls: ${tg.callsTo('sendMessage').length} for ${CHATS * repliesPerChat} replies`,
    );
  }, 240_000);

  it('limits bot creation by the sum of the requests to both APIs (counted in Redis)', async () => {
    const token = tokenFor(`scale-out-limits-${runId}`);
    const limit = RATE_LIMITS.bot_creation;
    const answers: Answer[] = [];
    for (let i = 0; i < limit + 2; i++) {
      answers.push(await call(apiUrls[i % 2], token, 'POST', `/v1/accounts/${ACCOUNT}/bots`, { name: `limited-${i}` }));
    }
    expect(answers.map((a) => a.status)).toEqual([...Array<number>(limit).fill(201), 429, 429]);
    // One budget, spent alternately through each API.
    expect(answers.slice(0, limit).map((a) => Number(a.headers.get('ratelimit-remaining')))).toEqual(Array.from({ length: limit }, (_, i) => limit - 1 - i));
    for (const refused of answers.slice(limit)) {
      expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { category: 'bot_creation', limit } });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    console.log(
      `Shared rate limit: ${answers.filter((a) => a.status === 201).length} bots created of ${answers.length} requests alternating over 2 APIs (limit ${limit}/min per token)`,
    );
  }, 60_000);
});
