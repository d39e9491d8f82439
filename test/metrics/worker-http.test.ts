import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bookingScenario } from '../dialog/scenarios';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import { createLogger } from '../../src/log';
import { freeLoopbackPort, startWorkerHttp, type WorkerParts } from '../../worker/http';

/** In front of the fake Telegram: holds `sendMessage` calls while closed, so that a send is in flight on demand. */
async function startGate(target: string) {
  let closed = false;
  let held: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const forward = async () => {
      if (closed && req.url?.endsWith('/sendMessage')) await new Promise<void>((resume) => held.push(resume));
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    };
    req.on('end', () => void forward().catch(() => res.destroy()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    close: () => (closed = true),
    open() {
      closed = false;
      for (const resume of held) resume();
      held = [];
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('worker /health', () => {
  const parts: WorkerParts = {};
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = await startWorkerHttp({ host: '127.0.0.1', port: await freeLoopbackPort(), parts, log: createLogger('silent') });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const health = async () => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, body: await res.json() };
  };
  const connection = (answer: () => Promise<unknown>) =>
    ({
      withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
      workflowService: { getSystemInfo: answer },
    }) as unknown as WorkerParts['connection'];

  it('is 503 until the worker runs, 200 while it runs and Temporal answers, 503 once it stops', async () => {
    expect(await health()).toEqual({ status: 503, body: { status: 'unavailable', worker: 'starting' } });
    let state = 'RUNNING';
    let temporalUp = true;
    Object.assign(parts, {
      worker: { getState: () => state },
      connection: connection(() => (temporalUp ? Promise.resolve({}) : Promise.reject(new Error('deadline exceeded')))),
    });
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', worker: 'running', temporal: 'ok' } });
    temporalUp = false;
    expect(await health()).toEqual({ status: 503, body: { status: 'degraded', worker: 'running', temporal: 'down' } });
    for (state of ['STOPPING', 'DRAINING', 'STOPPED', 'FAILED']) {
      expect(await health()).toEqual({ status: 503, body: { status: 'unavailable', worker: state.toLowerCase() } });
    }
  });

  it('serves /metrics without a token when none is set, and nothing but /health and /metrics', async () => {
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE getinn_activity_duration_seconds histogram');
    expect((await fetch(`${base}/v1/bots`)).status).toBe(404);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(405);
  });
});

/**
 * A worker process of its own (`worker/main.ts`) serves `/health` and `/metrics` on
 * WORKER_HTTP_PORT, and a SIGTERM lets the send it is running finish before it exits 0.
 */
describe('worker process /health, /metrics and graceful shutdown', () => {
  const METRICS_TOKEN = 'worker-scrape-token-0123456789';
  let tg: FakeTelegram;
  let gate: Awaited<ReturnType<typeof startGate>>;
  let stack: Stack;
  let worker: ChildProcess | undefined;
  let base: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    gate = await startGate(tg.url);
    stack = await startStack({ db: 'postgres', apiBases: { telegram: gate.url }, worker: false });
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    // spawnWorkerProcess passes this test file's environment on.
    Object.assign(process.env, {
      WORKER_HTTP_PORT: String(port),
      WORKER_SHUTDOWN_GRACE: '30s',
      METRICS_TOKEN,
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
    });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    gate.open();
    await stack.close();
    await gate.stop();
    await tg.close();
  });

  const health = async () => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it('answers 503 while starting, 200 once polling, metrics with the token, then drains on SIGTERM', async () => {
    worker = stack.spawnWorkerProcess();
    const exited = once(worker, 'exit');

    // Up before the worker connects: `starting` unless the first answer came after it was ready.
    const first = await eventually(() => health().catch(() => undefined), 30_000, 'the worker HTTP server');
    expect(first.status === 503 ? first.body : first.status).toEqual(first.status === 503 ? { status: 'unavailable', worker: 'starting' } : 200);
    const ready = await eventually(async () => ((await health()).status === 200 ? health() : undefined), 60_000, 'a healthy worker');
    expect(ready.body).toEqual({ status: 'ok', worker: 'running', temporal: 'ok' });

    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000003:AAH-worker-http' }, scenario: bookingScenario });
    const chat = 3001;
    const post = (updateId: number, text: string) => {
      const update = telegramUpdate({ updateId, chatId: chat, text, secret: bot.webhookSecret });
      return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    };
    const delivered = () => tg.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).map((c) => c.body.text);
    expect((await post(1, '/start')).status).toBe(200);
    await eventually(() => delivered().length >= 2 || undefined, 60_000, 'the first replies');

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    const scrape = () => fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    const metrics = await scrape();
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    // The platform has the replies a moment before the delivery activity completes and is counted.
    const sendCounted = /^getinn_activity_duration_seconds_count\{activity="\w+",platform="telegram",outcome="ok"\} [1-9]/m;
    const text = await eventually(
      async () => {
        const body = await scrape().then((response) => response.text());
        return sendCounted.test(body) ? body : undefined;
      },
      10_000,
      'the delivery activity counted',
    );
    expect(text).toMatch(/^temporal_worker_task_slots_available\{.*task_queue="[^"]+".*\} \d+/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    // Two expositions in one: every metric family is declared once.
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]);
    expect(new Set(families).size).toBe(families.length);

    // The next reply is held at the platform: its send is in flight when the worker is told to stop.
    gate.close();
    expect((await post(2, 'Anna')).status).toBe(200);
    await eventually(() => gate.held() > 0 || undefined, 30_000, 'a send in flight');
    worker.kill('SIGTERM');
    const draining = await eventually(async () => ((await health()).status === 503 ? health() : undefined), 10_000, 'health 503 while draining');
    expect(draining.body.status).toBe('unavailable');
    expect(['stopping', 'draining', 'drained']).toContain(draining.body.worker);
    expect(worker.exitCode).toBeNull();

    gate.open();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(delivered()).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?']);
  }, 180_000);
});
