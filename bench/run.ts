/**
 * `npm run bench`: throughput, latency and memory of the product against the raw Temporal floor,
 * measured in one run on this machine. Load goes only to 127.0.0.1, bounded in count and time.
 *
 *   npm run bench -- [--duration 15] [--concurrency 100,1000] [--rate 100,25] [--idle 10000]
 *                    [--history 1000] [--db sqlite|postgres] [--temporal file|memory] [--phases floor,e2e,rate,idle,recovery]
 *                    [--tuning '{"maxCachedWorkflows":500}'] [--keep]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { telegramUpdate } from '../test/fakes';
import { type BenchStack, rssOf, startBenchStack } from './stack';
import { round, type Summary, summarize } from './stats';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '100,1000' },
    rate: { type: 'string', default: '100,25' },
    idle: { type: 'string', default: '10000' },
    history: { type: 'string', default: '1000' },
    db: { type: 'string', default: 'sqlite' },
    temporal: { type: 'string', default: 'memory' },
    phases: { type: 'string', default: 'floor,e2e,rate,idle,recovery' },
    tuning: { type: 'string' },
    keep: { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});

const DURATION_MS = Number(args.duration) * 1000;
const CONCURRENCIES = String(args.concurrency).split(',').map(Number).filter((n) => n > 0);
/** Open-loop rates: the target's 100 messages/s, and one this box sustains (ack latency without queueing). */
const RATES = String(args.rate).split(',').map(Number).filter((n) => n > 0);
const IDLE = Number(args.idle);
const HISTORY = Number(args.history);
const PHASES = new Set(String(args.phases).split(','));
/** How long one message may take before the bench gives up on it (counted as lost). */
const REPLY_TIMEOUT_MS = 60_000;
/** Dialogs the idle phase creates at once. */
const IDLE_PARALLEL = 200;
/** Dialogs with a long history, measured after they were evicted. */
const LONG_DIALOGS = 5;
/** Processes each side runs on; `bench` is this process (load, and the fake Telegram for the product). */
const FLOOR_PROCESSES = ['temporal', 'floor', 'bench'];
const PRODUCT_PROCESSES = ['temporal', 'worker', 'api', 'bench'];
/** Chats kept busy while the worker is killed. */
const RECOVERY_CHATS = 20;

if (args.db !== 'sqlite' && args.db !== 'postgres') throw new Error('--db is sqlite or postgres');
if (args.temporal !== 'file' && args.temporal !== 'memory') throw new Error('--temporal is file or memory');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

/**
 * Replies arriving at the fake Telegram, matched to the message that asked for them. Each message
 * text carries its id and the echo scenario answers `Got <text>`, so a duplicate send is seen as one.
 */
function replyTracker(stack: BenchStack) {
  const waiting = new Map<string, { id: string; resolve: (at: number) => void }[]>();
  let seen = 0;
  let unexpected = 0;
  const timer = setInterval(() => {
    const calls = stack.tg.calls;
    const at = now();
    for (; seen < calls.length; seen++) {
      const call = calls[seen];
      if (call.method !== 'sendMessage') continue;
      const queue = waiting.get(String(call.body.chat_id));
      const said = /^Got (m\d+)$/.exec(String(call.body.text))?.[1];
      const index = queue ? (said ? queue.findIndex((w) => w.id === said) : 0) : -1;
      if (!queue || index < 0 || index >= queue.length) {
        unexpected += 1;
        continue;
      }
      const [waiter] = queue.splice(index, 1);
      waiter.resolve(at);
    }
    // The fake keeps every call; forget them once read so a long run stays small.
    if (calls.length > 10_000) {
      stack.tg.reset();
      seen = 0;
    }
  }, 2);

  return {
    /** Resolves with the time the reply to message `id` in `chat` reached the platform. */
    expect(chat: number, id: string): Promise<number> {
      const key = String(chat);
      const queue = waiting.get(key) ?? [];
      waiting.set(key, queue);
      return new Promise<number>((resolve, reject) => {
        const entry = { id, resolve: (at: number) => (clearTimeout(timeout), resolve(at)) };
        const timeout = setTimeout(() => {
          const index = queue.indexOf(entry);
          if (index >= 0) queue.splice(index, 1);
          reject(new Error(`no reply to ${id} in chat ${chat} within ${REPLY_TIMEOUT_MS} ms`));
        }, REPLY_TIMEOUT_MS);
        queue.push(entry);
      });
    },
    get unexpected() {
      return unexpected;
    },
    stop: () => clearInterval(timer),
  };
}

type Tracker = ReturnType<typeof replyTracker>;

interface OneResult {
  ackMs: number;
  totalMs: number;
  doneAt: number;
}

let nextUpdateId = 1;

/** One user message through the product: webhook, dialog workflow, send to the fake platform. */
async function productMessage(stack: BenchStack, tracker: Tracker, chat: number): Promise<OneResult> {
  const updateId = nextUpdateId++;
  const id = `m${updateId}`;
  const request = telegramUpdate({ updateId, chatId: chat, text: id, secret: stack.secret });
  const replied = tracker.expect(chat, id);
  replied.catch(() => undefined);
  const started = now();
  const response = await fetch(stack.webhookUrl, { method: 'POST', headers: request.headers, body: request.body });
  await response.arrayBuffer();
  const ackMs = now() - started;
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  const doneAt = await replied;
  return { ackMs, totalMs: doneAt - started, doneAt };
}

/** One message through raw Temporal: signal-with-start of the no-op workflow, one no-op activity. */
function floorMessenger(stack: BenchStack) {
  const waiting = new Map<string, (at: number) => void>();
  stack.floor.on('message', (message: { type: string; id?: string }) => {
    if (message.type !== 'done' || !message.id) return;
    waiting.get(message.id)?.(now());
    waiting.delete(message.id);
  });
  let next = 1;
  return async (chat: number, group: string): Promise<OneResult> => {
    const id = `f${next++}`;
    const done = new Promise<number>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`floor message ${id} not done within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      waiting.set(id, (at) => (clearTimeout(timeout), resolve(at)));
    });
    done.catch(() => undefined);
    const started = now();
    await stack.client.workflow.signalWithStart('noopWorkflow', {
      workflowId: `floor-${group}-${chat}`,
      taskQueue: stack.floorQueue,
      signal: 'ping',
      signalArgs: [id],
    });
    const ackMs = now() - started;
    const doneAt = await done;
    return { ackMs, totalMs: doneAt - started, doneAt };
  };
}

interface LoadResult {
  concurrency: number;
  messages: number;
  perSecond: number;
  errors: number;
  ack: Summary;
  total: Summary;
  /** CPU milliseconds per message of each process that took part (Linux only). */
  cpuPerMessage?: Record<string, number>;
}

/** Linux clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every mainstream kernel). */
const CLOCK_TICKS = 100;

/** CPU time (user + system, ms) of a process so far; undefined where /proc cannot tell. */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // The command name in field 2 may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Starts counting the CPU time of `roles`; the returned function gives ms per message since then. */
function cpuMeter(stack: BenchStack, roles: string[]): (messages: number) => Record<string, number> | undefined {
  const pids = stack.pids();
  const before = Object.fromEntries(roles.map((role) => [role, cpuMsOf(pids[role])]));
  return (messages) => {
    if (messages === 0 || Object.values(before).some((ms) => ms === undefined)) return undefined;
    return Object.fromEntries(roles.map((role) => [role, ((cpuMsOf(pids[role]) ?? 0) - (before[role] as number)) / messages]));
  };
}

/**
 * Closed loop: `chats` chats each send a message and wait for its reply before the next one. Every
 * chat is warmed up with one message first (its workflow started), then measured for `durationMs`.
 */
async function closedLoop(chats: number[], durationMs: number, one: (chat: number) => Promise<OneResult>, meter?: () => (messages: number) => Record<string, number> | undefined): Promise<LoadResult> {
  let errors = 0;
  await Promise.all(chats.map((chat) => one(chat).catch(() => void (errors += 1))));
  const cpu = meter?.();
  const start = now();
  const end = start + durationMs;
  const acks: number[] = [];
  const totals: number[] = [];
  let inWindow = 0;
  await Promise.all(
    chats.map(async (chat) => {
      while (now() < end) {
        try {
          const result = await one(chat);
          acks.push(result.ackMs);
          totals.push(result.totalMs);
          if (result.doneAt <= end) inWindow += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { concurrency: chats.length, messages: acks.length, perSecond: inWindow / (durationMs / 1000), errors, ack: summarize(acks), total: summarize(totals), cpuPerMessage: cpu?.(acks.length) };
}

/** Open loop: messages at a fixed rate over a pool of chats, whatever the answers take. */
async function openLoop(chats: number[], rate: number, durationMs: number, one: (chat: number) => Promise<OneResult>): Promise<LoadResult> {
  const acks: number[] = [];
  const totals: number[] = [];
  const inFlight: Promise<void>[] = [];
  let errors = 0;
  const start = now();
  const count = Math.floor((rate * durationMs) / 1000);
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    if (due > now()) await sleep(due - now());
    inFlight.push(
      one(chats[i % chats.length]).then(
        (result) => void (acks.push(result.ackMs), totals.push(result.totalMs)),
        () => void (errors += 1),
      ),
    );
  }
  const sent = now() - start;
  await Promise.all(inFlight);
  return { concurrency: chats.length, messages: acks.length, perSecond: count / (sent / 1000), errors, ack: summarize(acks), total: summarize(totals) };
}

/** Runs `work` on every item, at most `parallel` at a time. */
async function pool<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (index < items.length) await work(items[index++]);
    }),
  );
}

const range = (base: number, count: number) => Array.from({ length: count }, (_, i) => base + i);

function machine() {
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadavg: os.loadavg().map((n) => round(n, 2)),
    node: process.version,
  };
}

async function main() {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(`bench: load ${loadBefore.map((n) => n.toFixed(2)).join(' ')} on ${os.cpus().length} cores; starting the stack ...`);
  const stack = await startBenchStack({ db: args.db as 'sqlite' | 'postgres', tuning: args.tuning, temporalStore: args.temporal as 'file' | 'memory', keep: args.keep });
  const tracker = replyTracker(stack);
  const product = (chat: number) => productMessage(stack, tracker, chat);
  const floorMessage = floorMessenger(stack);
  const results: Record<string, unknown> = {};
  const rssSamples: number[] = [];
  const rssTimer = setInterval(() => rssSamples.push(rssOf(stack.worker.pid)), 1000);
  const step = (what: string) => console.log(`bench: ${what} (load ${os.loadavg()[0].toFixed(2)})`);

  try {
    const throughput: { concurrency: number; floor?: LoadResult; e2e?: LoadResult }[] = [];
    for (const [i, concurrency] of CONCURRENCIES.entries()) {
      const row: (typeof throughput)[number] = { concurrency };
      if (PHASES.has('floor')) {
        step(`floor at ${concurrency} concurrent chats`);
        row.floor = await closedLoop(range(1, concurrency), DURATION_MS, (chat) => floorMessage(chat, String(concurrency)), () => cpuMeter(stack, FLOOR_PROCESSES));
      }
      if (PHASES.has('e2e')) {
        step(`end to end at ${concurrency} concurrent chats`);
        row.e2e = await closedLoop(range(1_000_000 * (i + 1), concurrency), DURATION_MS, product, () => cpuMeter(stack, PRODUCT_PROCESSES));
      }
      throughput.push(row);
    }
    results.throughput = throughput;

    if (PHASES.has('rate')) {
      const rates: (LoadResult & { target: number })[] = [];
      results.rates = rates;
      for (const [i, rate] of RATES.entries()) {
        step(`open loop at ${rate} messages/s`);
        // Chats of their own, warmed up first: the rate phase measures steady dialogs, not starts.
        const chats = range(9_000_000 + 100_000 * i, Math.max(100, rate * 10));
        await pool(chats, 200, async (chat) => void (await product(chat).catch(() => undefined)));
        rates.push({ target: rate, ...(await openLoop(chats, rate, DURATION_MS, product)) });
      }
    }

    if (PHASES.has('idle')) {
      const longChats = range(20_000_000, LONG_DIALOGS);
      step(`${LONG_DIALOGS} dialogs with ${HISTORY}-event histories`);
      // A dialog's history is that of all its runs (continue-as-new); an evicted one replays its last.
      const historyOf = async (chat: number): Promise<DialogHistory> => {
        const workflowId = `dialog:${stack.botId}:telegram:${chat}`;
        const lastRun = (await stack.client.workflow.getHandle(workflowId).describe()).historyLength;
        const history = { events: lastRun, runs: 1, lastRun };
        for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus != 'Running'` })) {
          history.events += run.historyLength;
          history.runs += 1;
        }
        return history;
      };
      const histories = await Promise.all(
        longChats.map(async (chat) => {
          for (let turn = 1; ; turn++) {
            await product(chat);
            if (turn % 10 !== 0) continue;
            const history = await historyOf(chat);
            if (history.events >= HISTORY) return history;
          }
        }),
      );

      step(`${IDLE} idle dialogs`);
      const rssBefore = rssOf(stack.worker.pid);
      const dbBefore = await stack.databaseSize();
      const temporalBefore = stack.temporalSize();
      const idleRss: number[] = [];
      const idleTimer = setInterval(() => idleRss.push(rssOf(stack.worker.pid)), 1000);
      const idleStarted = now();
      let idleErrors = 0;
      await pool(range(30_000_000, IDLE), IDLE_PARALLEL, async (chat) => {
        await product(chat).catch(() => void (idleErrors += 1));
      });
      const idleSeconds = (now() - idleStarted) / 1000;
      clearInterval(idleTimer);
      await sleep(2000);
      const rssAfter = rssOf(stack.worker.pid);
      const dbAfter = await stack.databaseSize();
      const temporalAfter = stack.temporalSize();

      step('evicted dialogs answer their next message');
      const evicted: number[] = [];
      const cached: number[] = [];
      for (const chat of longChats) {
        evicted.push((await product(chat)).totalMs);
        cached.push((await product(chat)).totalMs);
      }
      results.idle = {
        dialogs: IDLE,
        createdPerSecond: IDLE / idleSeconds,
        errors: idleErrors,
        workerRssBeforeMiB: rssBefore / 2 ** 20,
        workerRssAfterMiB: rssAfter / 2 ** 20,
        workerRssMaxMiB: Math.max(...idleRss.filter(Number.isFinite), rssAfter) / 2 ** 20,
        databaseBytesPerDialog: (dbAfter - dbBefore) / IDLE,
        temporalBytesPerDialog: (temporalAfter - temporalBefore) / IDLE,
        longHistories: histories,
        evicted: summarize(evicted),
        cachedAfterwards: summarize(cached),
      };
    }

    if (PHASES.has('recovery')) {
      step('recovery from a SIGKILLed worker');
      const chats = range(40_000_000, RECOVERY_CHATS);
      await Promise.all(chats.map((chat) => product(chat)));
      let killedAt = Infinity;
      let firstReply = Infinity;
      const answered = new Map<number, number>();
      let stop = false;
      let errors = 0;
      const loops = chats.map(async (chat) => {
        while (!stop) {
          try {
            const result = await product(chat);
            if (result.doneAt > killedAt) {
              firstReply = Math.min(firstReply, result.doneAt - killedAt);
              if (!answered.has(chat)) answered.set(chat, result.doneAt - killedAt);
            }
          } catch {
            errors += 1;
          }
        }
      });
      await sleep(3000);
      const duplicatesBefore = tracker.unexpected;
      killedAt = stack.killWorker();
      await stack.restartWorker();
      const workerReadyMs = now() - killedAt;
      const deadline = now() + 120_000;
      while (answered.size < chats.length && now() < deadline) await sleep(50);
      stop = true;
      await Promise.all(loops);
      await sleep(1000);
      results.recovery = {
        chats: RECOVERY_CHATS,
        workerReadyMs,
        firstReplyMs: firstReply,
        allChatsAnsweredMs: answered.size === chats.length ? Math.max(...answered.values()) : null,
        chatsAnswered: answered.size,
        duplicateSends: tracker.unexpected - duplicatesBefore,
        errors,
      };
    }
  } finally {
    clearInterval(rssTimer);
    tracker.stop();
    results.workerRssMaxMiB = Math.max(...rssSamples.filter(Number.isFinite)) / 2 ** 20;
    results.unexpectedReplies = tracker.unexpected;
    results.workerBundleMs = stack.bundleMs;
    await stack.close();
  }

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...machine(), loadavgBefore: loadBefore.map((n) => round(n, 2)) },
    options: { duration: DURATION_MS / 1000, concurrency: CONCURRENCIES, rate: RATES, idle: IDLE, history: HISTORY, db: args.db, temporal: args.temporal, phases: [...PHASES], tuning: args.tuning ?? null, note: args.note ?? null },
    results,
  };
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log('\n' + renderTable(report));
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

/** A dialog's history events over all its runs, and those of its last (the one an evicted dialog replays). */
type DialogHistory = { events: number; runs: number; lastRun: number };

type Report = { machine: ReturnType<typeof machine> & { loadavgBefore: number[] }; options: Record<string, unknown>; results: Record<string, any> };

const ms = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 1 : 0)} ms`);
const pct = (a: number | undefined, b: number | undefined) => (a && b ? `${Math.round((a / b) * 100)}%` : '-');
const triple = (s: Summary | undefined) => (s ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}` : '-');

const cpuTotal = (load: LoadResult | undefined) => (load?.cpuPerMessage ? Object.values(load.cpuPerMessage).reduce((a, b) => a + b, 0) : undefined);
const cpu = (load: LoadResult | undefined) =>
  load?.cpuPerMessage ? `${cpuTotal(load)?.toFixed(1)} (${Object.entries(load.cpuPerMessage).map(([role, v]) => `${role} ${v.toFixed(1)}`).join(', ')})` : '-';

/** The one table: product against the floor, then the idle, eviction and recovery numbers. */
export function renderTable(report: Report): string {
  const r = report.results;
  const rows: string[][] = [['measure', 'raw Temporal floor', 'product (end to end)', 'product / floor']];
  for (const t of (r.throughput ?? []) as { concurrency: number; floor?: LoadResult; e2e?: LoadResult }[]) {
    rows.push([`messages/s, ${t.concurrency} chats`, t.floor ? t.floor.perSecond.toFixed(1) : '-', t.e2e ? t.e2e.perSecond.toFixed(1) : '-', pct(t.e2e?.perSecond, t.floor?.perSecond)]);
    rows.push([`  ack p50/p95/p99`, triple(t.floor?.ack), triple(t.e2e?.ack), pct(t.e2e?.ack.p99, t.floor?.ack.p99)]);
    rows.push([`  to send p50/p95/p99`, triple(t.floor?.total), triple(t.e2e?.total), pct(t.e2e?.total.p99, t.floor?.total.p99)]);
    rows.push([`  CPU ms per message`, cpu(t.floor), cpu(t.e2e), pct(cpuTotal(t.e2e), cpuTotal(t.floor))]);
    const errors = (t.floor?.errors ?? 0) + (t.e2e?.errors ?? 0);
    if (errors) rows.push([`  errors`, String(t.floor?.errors ?? '-'), String(t.e2e?.errors ?? '-'), '']);
  }
  // Reports written before rates became a list hold one `rate`.
  for (const rate of (r.rates ?? (r.rate ? [r.rate] : [])) as (LoadResult & { target: number })[]) {
    rows.push([`open loop ${rate.target} msg/s (got ${rate.perSecond.toFixed(1)})`, '', '', '']);
    rows.push([`  ack p50/p95/p99`, '', triple(rate.ack), '']);
    rows.push([`  to send p50/p95/p99`, '', triple(rate.total), rate.errors ? `${rate.errors} errors` : '']);
  }
  if (r.idle) {
    const i = r.idle;
    rows.push([`idle dialogs`, '', `${i.dialogs} (${i.createdPerSecond.toFixed(0)}/s created)`, i.errors ? `${i.errors} errors` : '']);
    rows.push([`  worker RSS before / after / max`, '', `${i.workerRssBeforeMiB.toFixed(0)} / ${i.workerRssAfterMiB.toFixed(0)} / ${i.workerRssMaxMiB.toFixed(0)} MiB`, '']);
    rows.push([`  bytes per dialog: database / Temporal`, '', `${Math.round(i.databaseBytesPerDialog)} / ${Math.round(i.temporalBytesPerDialog)}`, '']);
    const least = (i.longHistories as DialogHistory[]).reduce((a, b) => (a.events <= b.events ? a : b));
    const runs = `${least.runs} run${least.runs === 1 ? '' : 's'}, the last ${least.lastRun}`;
    rows.push([`  evicted dialog (${least.events}+ events, ${runs}) answers p50/max`, '', `${ms(i.evicted.p50)} / ${ms(i.evicted.max)}`, `cached: ${ms(i.cachedAfterwards.p50)}`]);
  }
  if (r.recovery) {
    const c = r.recovery;
    rows.push([`recovery after SIGKILL (${c.chats} busy chats)`, '', `first reply ${ms(c.firstReplyMs)}`, `worker up ${ms(c.workerReadyMs)}`]);
    rows.push([`  every chat answered again`, '', c.allChatsAnsweredMs === null ? `${c.chatsAnswered}/${c.chats} chats` : ms(c.allChatsAnsweredMs), `duplicates ${c.duplicateSends}`]);
  }
  rows.push([`worker RSS max over the run`, '', `${(r.workerRssMaxMiB as number).toFixed(0)} MiB`, `bundle ${ms(r.workerBundleMs)}`]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  const m = report.machine;
  return [
    `machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}; load before ${m.loadavgBefore.join(' ')}, after ${m.loadavg.join(' ')}`,
    `options: ${JSON.stringify(report.options)}`,
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
