/**
 * `npm run bench`: throughput, latency and memory of the product against the raw Temporal floor,
 * measured in one run on this machine. Load goes only to 127.0.0.1, bounded in count and time.
 *
 *   npm run bench -- [--duration 10] [--concurrency 100,1000] [--rate 100,25] [--idle 10000]
 *                    [--history 1000] [--db sqlite|postgres] [--temporal file|memory] [--phases conversations,floor,e2e,rate,idle,recovery]
 *                    [--tuning '{"maxCachedWorkflows":500}'] [--keep]
 *
 * `--phases conversations` alone runs the examples' conversation tests on the engine, without the stack.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { telegramUpdate } from '../test/fakes';
import { benchConversations } from './conversations';
import { MAX_CACHED_WORKFLOWS } from '../worker';
import { type BenchStack, rssOf, startBenchStack } from './stack';
import { round, summarize } from './stats';
import { type DialogHistory, type LoadResult, type Machine, type RateResult, renderTable } from './table';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '100,1000' },
    rate: { type: 'string', default: '100,25' },
    idle: { type: 'string', default: '10000' },
    history: { type: 'string', default: '1000' },
    db: { type: 'string', default: 'sqlite' },
    temporal: { type: 'string', default: 'memory' },
    phases: { type: 'string', default: 'conversations,floor,e2e,rate,idle,recovery' },
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
/** The dialog worker's workflow cache: the product's, or what `--tuning` sets (parsed here, so bad JSON fails at once). */
const WORKER_CACHE: number = JSON.parse(args.tuning ?? '{}').maxCachedWorkflows ?? MAX_CACHED_WORKFLOWS;
const PHASES = new Set(String(args.phases).split(','));
/** How long one message may take before the bench gives up on it (counted as lost). */
const REPLY_TIMEOUT_MS = 60_000;
/**
 * Dialogs started at once where the bench only needs them to exist (the idle phase, the open loop's
 * missing chats). Enough to keep both cores busy; at 200 the Temporal server spent more CPU per new
 * dialog (a longer backlog) and the idle phase made 35–38 dialogs/s against 39–41.
 */
const IDLE_PARALLEL = 100;
/** Dialogs with a long history, measured after they were evicted. */
const LONG_DIALOGS = 5;
/**
 * Each long dialog goes this many events further than the one before, so their last runs (what an
 * evicted dialog replays; a run ends every ~120 events) have different lengths, long ones included.
 */
const LONG_DIALOG_SPREAD = 50;
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
  const update = telegramUpdate({ updateId, chatId: chat, text: id, secret: stack.secret });
  const replied = tracker.expect(chat, id);
  replied.catch(() => undefined);
  const started = now();
  // undici's request, not fetch: the load runs on the same two cores as the product, and fetch
  // costs three times the CPU per call.
  const response = await request(stack.webhookUrl, { method: 'POST', headers: update.headers, body: update.body });
  await response.body.dump();
  const ackMs = now() - started;
  if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}`);
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
  return async (chat: number): Promise<OneResult> => {
    const id = `f${next++}`;
    const done = new Promise<number>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`floor message ${id} not done within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      waiting.set(id, (at) => (clearTimeout(timeout), resolve(at)));
    });
    done.catch(() => undefined);
    const started = now();
    await stack.client.workflow.signalWithStart('noopWorkflow', {
      workflowId: `floor-${chat}`,
      taskQueue: stack.floorQueue,
      signal: 'ping',
      signalArgs: [id],
    });
    const ackMs = now() - started;
    const doneAt = await done;
    return { ackMs, totalMs: doneAt - started, doneAt };
  };
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
  const startsCpu = meter?.();
  const startsBegan = now();
  await Promise.all(chats.map((chat) => one(chat).catch(() => void (errors += 1))));
  const starts = { chats: chats.length, perSecond: chats.length / ((now() - startsBegan) / 1000), cpuPerStart: startsCpu?.(chats.length) };
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
  return { concurrency: chats.length, messages: acks.length, perSecond: inWindow / (durationMs / 1000), errors, ack: summarize(acks), total: summarize(totals), cpuPerMessage: cpu?.(acks.length), starts };
}

/** Open loop: messages at a fixed rate over a pool of chats, whatever the answers take. */
async function openLoop(chats: number[], rate: number, durationMs: number, one: (chat: number) => Promise<OneResult>, meter: () => (messages: number) => Record<string, number> | undefined): Promise<LoadResult> {
  const cpu = meter();
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
  return { concurrency: chats.length, messages: acks.length, perSecond: count / (sent / 1000), errors, ack: summarize(acks), total: summarize(totals), cpuPerMessage: cpu(acks.length) };
}

/** Runs `work` on every item, at most `parallel` at a time, until `stop` says so. */
async function pool<T>(items: T[], parallel: number, work: (item: T) => Promise<void>, stop = () => false): Promise<void> {
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (index < items.length && !stop()) await work(items[index++]);
    }),
  );
}

/** Failures in a row after which a phase gives up: the stack is down, not busy. */
const FAILURES_IN_A_ROW = 200;

const range = (base: number, count: number) => Array.from({ length: count }, (_, i) => base + i);

function machine(): Machine {
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
  // The engine alone, before the stack loads the machine: cheap, about a second.
  const conversations = PHASES.has('conversations') ? benchConversations() : undefined;
  if (conversations) {
    console.log(`bench: conversation tests on the engine: ${conversations.conversations} conversations (${conversations.turns} turns) in ${conversations.milliseconds.toFixed(0)} ms, ${conversations.perSecond.toFixed(0)} conversations/s`);
  }
  if ([...PHASES].every((name) => name === 'conversations')) return;
  console.log(`bench: load ${loadBefore.map((n) => n.toFixed(2)).join(' ')} on ${os.cpus().length} cores; starting the stack ...`);
  const stack = await startBenchStack({ db: args.db as 'sqlite' | 'postgres', tuning: args.tuning, temporalStore: args.temporal as 'file' | 'memory', keep: args.keep });
  const tracker = replyTracker(stack);
  /** `one`, noting each chat it got an answer for in `started` (in the order they were started). */
  const noting = (started: Set<number>, one: (chat: number) => Promise<OneResult>) => async (chat: number) => {
    const result = await one(chat);
    started.add(chat);
    return result;
  };
  /** Chats with a dialog, and chats with a floor workflow: the later phases reuse and count them. */
  const dialogs = new Set<number>();
  const floorChats = new Set<number>();
  const product = noting(dialogs, (chat) => productMessage(stack, tracker, chat));
  const floorMessage = noting(floorChats, floorMessenger(stack));
  const results: Record<string, unknown> = conversations ? { conversations } : {};
  const rssSamples: number[] = [];
  const rssTimer = setInterval(() => rssSamples.push(rssOf(stack.worker.pid)), 1000);
  /** Wall-clock seconds of each phase, so the run's length can be read off the table. */
  const phaseSeconds: Record<string, number> = {};
  let phase = { name: 'starting the stack', at: now() - (Date.now() - startedAt.getTime()) };
  const endPhase = () => (phaseSeconds[phase.name] = (now() - phase.at) / 1000);
  const step = (what: string) => {
    endPhase();
    phase = { name: what, at: now() };
    console.log(`bench: ${what} (load ${os.loadavg()[0].toFixed(2)})`);
  };

  try {
    const throughput: { concurrency: number; floor?: LoadResult; e2e?: LoadResult }[] = [];
    for (const [i, concurrency] of CONCURRENCIES.entries()) {
      const row: (typeof throughput)[number] = { concurrency };
      if (PHASES.has('floor')) {
        step(`floor at ${concurrency} concurrent chats`);
        row.floor = await closedLoop(range(1_000_000 * (i + 1), concurrency), DURATION_MS, floorMessage, () => cpuMeter(stack, FLOOR_PROCESSES));
      }
      if (PHASES.has('e2e')) {
        step(`end to end at ${concurrency} concurrent chats`);
        row.e2e = await closedLoop(range(1_000_000 * (i + 1), concurrency), DURATION_MS, product, () => cpuMeter(stack, PRODUCT_PROCESSES));
      }
      throughput.push(row);
    }
    results.throughput = throughput;

    if (PHASES.has('rate')) {
      const rates: RateResult[] = [];
      results.rates = rates;
      // Steady chats, not starts: the ones started last (still cached, as a busy chat's are), and
      // new ones warmed up first only where the earlier phases left too few.
      const steadyChats = async (started: Set<number>, wanted: number, base: number, one: (chat: number) => Promise<OneResult>) => {
        const chats = [...started].slice(-wanted);
        const fresh = range(base, wanted - chats.length);
        await pool(fresh, IDLE_PARALLEL, async (chat) => void (await one(chat).catch(() => undefined)));
        return [...chats, ...fresh];
      };
      for (const [i, rate] of RATES.entries()) {
        const wanted = Math.max(100, rate * 10);
        let floor: LoadResult | undefined;
        if (PHASES.has('floor')) {
          step(`floor open loop at ${rate} messages/s`);
          const chats = await steadyChats(floorChats, wanted, 9_000_000 + 100_000 * i, floorMessage);
          floor = await openLoop(chats, rate, DURATION_MS, floorMessage, () => cpuMeter(stack, FLOOR_PROCESSES));
        }
        step(`open loop at ${rate} messages/s`);
        const chats = await steadyChats(dialogs, wanted, 9_000_000 + 100_000 * i, product);
        const e2e = await openLoop(chats, rate, DURATION_MS, product, () => cpuMeter(stack, PRODUCT_PROCESSES));
        rates.push({ target: rate, ...e2e, floor });
      }
    }

    if (PHASES.has('idle')) {
      const longChats = range(20_000_000, LONG_DIALOGS);
      // The dialogs of the phases before are idle now too: only the rest is created here.
      const existing = dialogs.size + longChats.length;
      const created = Math.max(0, IDLE - existing);
      const longRange = `${HISTORY}–${HISTORY + (LONG_DIALOGS - 1) * LONG_DIALOG_SPREAD}`;
      step(`${IDLE} idle dialogs (${existing} exist, ${created} to create) and ${LONG_DIALOGS} dialogs with ${longRange}-event histories`);
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
      // The long dialogs take one message at a time, which leaves the cores half idle: they are
      // built while the idle dialogs are created. The last idle dialogs, half as many again as the
      // worker caches, wait for them, so that the long ones are evicted before they answer.
      const evicting = Math.round(1.5 * WORKER_CACHE);
      const longHistories = Promise.all(
        longChats.map(async (chat, k) => {
          for (let turn = 1; ; turn++) {
            await product(chat);
            if (turn % 10 !== 0) continue;
            if ((await historyOf(chat)).events >= HISTORY + k * LONG_DIALOG_SPREAD) return;
          }
        }),
      );
      // A long dialog that got no answer fails the phase (below); creating the rest would only take time.
      let longFailed = false;
      longHistories.catch(() => void (longFailed = true));
      const rssBefore = rssOf(stack.worker.pid);
      const idleRss: number[] = [];
      const idleTimer = setInterval(() => idleRss.push(rssOf(stack.worker.pid)), 1000);
      // CPU, database and Temporal bytes per dialog are measured from the moment the long dialogs
      // are built to the end, over the dialogs created in that window only.
      const window = longHistories.then(async () => ({ dialogs: dialogs.size, at: now(), cpu: cpuMeter(stack, PRODUCT_PROCESSES), db: await stack.databaseSize(), temporal: stack.temporalSize() }));
      window.catch(() => undefined);
      let idleErrors = 0;
      let failuresInARow = 0;
      // The worker's memory as the dialogs pile up: flat once its workflow cache is full.
      const rssAlong: { dialogs: number; rssMiB: number }[] = [];
      const checkpoint = Math.max(1, Math.round(created / 10));
      let done = 0;
      const sample = () => rssAlong.push({ dialogs: dialogs.size, rssMiB: Math.round(rssOf(stack.worker.pid) / 2 ** 20) });
      const gaveUp = () => failuresInARow >= FAILURES_IN_A_ROW;
      await pool(
        range(0, created),
        IDLE_PARALLEL,
        async (index) => {
          if (index >= created - evicting) await longHistories.catch(() => undefined);
          await product(30_000_000 + index).then(
            () => void (failuresInARow = 0),
            () => void ((idleErrors += 1), (failuresInARow += 1)),
          );
          if (++done % checkpoint === 0) sample();
        },
        () => gaveUp() || longFailed,
      );
      // What was measured is kept (the report is written) before the phase fails.
      if (gaveUp()) {
        clearInterval(idleTimer);
        sample();
        results.idle = { dialogs: dialogs.size, created: done - idleErrors, errors: idleErrors, workerRssAlong: rssAlong };
        throw new Error(`idle dialogs: ${FAILURES_IN_A_ROW} failed in a row after ${dialogs.size} dialogs; see children.log`);
      }
      // Fewer idle dialogs than the long ones take to build leave the window empty.
      // The timer stops whether the window opened or a long dialog failed (the phase then fails).
      const from = await window.finally(() => clearInterval(idleTimer));
      const inWindow = dialogs.size - from.dialogs;
      const windowSeconds = (now() - from.at) / 1000;
      const cpuPerDialog = from.cpu(inWindow);
      await sleep(2000);
      const rssAfter = rssOf(stack.worker.pid);
      const dbAfter = await stack.databaseSize();
      const temporalAfter = stack.temporalSize();

      step('evicted dialogs answer their next message');
      // Read now rather than while building: a run past the limit continues as new just after the
      // message that took it there, and then the dialog replays that new, short run.
      const histories = await Promise.all(longChats.map(historyOf));
      const evicted: number[] = [];
      const cached: number[] = [];
      for (const chat of longChats) {
        evicted.push((await product(chat)).totalMs);
        cached.push((await product(chat)).totalMs);
      }
      results.idle = {
        dialogs: dialogs.size,
        created,
        measuredOver: inWindow,
        createdPerSecond: inWindow > 0 ? inWindow / windowSeconds : undefined,
        cpuPerDialog,
        errors: idleErrors,
        workerRssBeforeMiB: rssBefore / 2 ** 20,
        workerRssAfterMiB: rssAfter / 2 ** 20,
        workerRssMaxMiB: Math.max(...idleRss.filter(Number.isFinite), rssAfter) / 2 ** 20,
        workerRssAlong: rssAlong,
        databaseBytesPerDialog: inWindow > 0 ? (dbAfter - from.db) / inWindow : undefined,
        temporalBytesPerDialog: inWindow > 0 ? (temporalAfter - from.temporal) / inWindow : undefined,
        longHistories: histories,
        evicted: summarize(evicted),
        // In the order of longHistories: how the answer time follows the length of the last run.
        evictedMs: evicted,
        cachedAfterwards: summarize(cached),
      };
    }

    if (PHASES.has('recovery')) {
      step('recovery from a SIGKILLed worker');
      const chats = range(40_000_000, RECOVERY_CHATS);
      await Promise.all(chats.map((chat) => product(chat)));
      let killedAt = Infinity;
      let readyAt = Infinity;
      // A reply counts as the recovery's once the killed worker cannot have sent it: its message
      // was posted after the kill, or it came after the new worker was up. (A send the killed worker
      // had on the wire may reach the fake platform a few ms after the kill.)
      const answered = new Map<number, number>();
      let stop = false;
      let errors = 0;
      const loops = chats.map(async (chat) => {
        while (!stop) {
          try {
            const result = await product(chat);
            const posted = result.doneAt - result.totalMs;
            if ((posted > killedAt || result.doneAt > readyAt) && !answered.has(chat)) answered.set(chat, result.doneAt - killedAt);
          } catch {
            errors += 1;
          }
        }
      });
      await sleep(3000);
      const duplicatesBefore = tracker.unexpected;
      killedAt = stack.killWorker();
      await stack.restartWorker();
      readyAt = now();
      const deadline = now() + 120_000;
      while (answered.size < chats.length && now() < deadline) await sleep(50);
      stop = true;
      await Promise.all(loops);
      await sleep(1000);
      results.recovery = {
        chats: RECOVERY_CHATS,
        workerReadyMs: readyAt - killedAt,
        firstReplyMs: Math.min(...answered.values()),
        allChatsAnsweredMs: answered.size === chats.length ? Math.max(...answered.values()) : null,
        chatsAnswered: answered.size,
        duplicateSends: tracker.unexpected - duplicatesBefore,
        errors,
      };
    }
  } catch (error) {
    // The phases that finished, and what the failed one measured, are still reported.
    console.error(error);
    results.failed = error instanceof Error ? error.message : String(error);
    process.exitCode = 1;
  } finally {
    step('stopping the stack');
    clearInterval(rssTimer);
    tracker.stop();
    results.workerRssMaxMiB = Math.max(...rssSamples.filter(Number.isFinite)) / 2 ** 20;
    results.unexpectedReplies = tracker.unexpected;
    results.workerBundleMs = stack.bundleMs;
    await stack.close();
    endPhase();
    results.phaseSeconds = phaseSeconds;
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

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
