/**
 * `npm run bench`: throughput, latency and memory of the product against the raw Temporal floor,
 * measured in one run on this machine. Load goes only to 127.0.0.1, bounded in count and time.
 *
 *   npm run bench -- [--duration 10] [--concurrency 100,1000] [--rate 100,25] [--idle 10000]
 *                    [--history 1000] [--db sqlite|postgres] [--temporal file|memory]
 *                    [--phases conversations,floor,e2e,rate,idle,recovery,workers]
 *                    [--tuning '{"maxCachedWorkflows":500}'] [--note text] [--keep]
 *
 * `--phases conversations` alone runs the examples' conversation tests on the engine, without the
 * stack. The phases run in the order floor/e2e, rate, workers, idle, recovery whatever the list says.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_CACHED_WORKFLOWS } from '../worker';
import { benchConversations } from './conversations';
import { floorMessenger, noting, now, productMessenger, replyTracker } from './messages';
import type { BenchOptions, BenchRun } from './phases/context';
import { idlePhase } from './phases/idle';
import { ratePhase } from './phases/rate';
import { recoveryPhase } from './phases/recovery';
import { throughputPhase } from './phases/throughput';
import { workersPhase } from './phases/workers';
import { rssOf, startBenchStack } from './stack';
import { round } from './stats';
import { type Machine, renderTable } from './table';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '100,1000' },
    rate: { type: 'string', default: '100,25' },
    idle: { type: 'string', default: '10000' },
    history: { type: 'string', default: '1000' },
    db: { type: 'string', default: 'sqlite' },
    temporal: { type: 'string', default: 'memory' },
    // `workers` is left out of the default list: it adds four closed loops to a run.
    phases: { type: 'string', default: 'conversations,floor,e2e,rate,idle,recovery' },
    tuning: { type: 'string' },
    keep: { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});

const PHASES = ['conversations', 'floor', 'e2e', 'rate', 'workers', 'idle', 'recovery'];
const list = (value: string | undefined) =>
  String(value)
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const options: BenchOptions = {
  durationMs: Number(args.duration) * 1000,
  concurrencies: list(args.concurrency),
  rates: list(args.rate),
  idle: Number(args.idle),
  history: Number(args.history),
  // Parsed here, so bad JSON fails at once.
  workerCache: JSON.parse(args.tuning ?? '{}').maxCachedWorkflows ?? MAX_CACHED_WORKFLOWS,
  phases: new Set(String(args.phases).split(',')),
};
if (!(options.durationMs > 0)) throw new Error('--duration is a number of seconds');
if (args.db !== 'sqlite' && args.db !== 'postgres') throw new Error('--db is sqlite or postgres');
if (args.temporal !== 'file' && args.temporal !== 'memory') throw new Error('--temporal is file or memory');
const unknown = [...options.phases].filter((name) => !PHASES.includes(name));
if (unknown.length) throw new Error(`--phases: no phase ${unknown.join(', ')} (there are ${PHASES.join(', ')})`);

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
  const has = (name: string) => options.phases.has(name);
  // The engine alone, before the stack loads the machine: cheap, about a second.
  const conversations = has('conversations') ? benchConversations() : undefined;
  if (conversations) {
    console.log(
      `bench: conversation tests on the engine: ${conversations.conversations} conversations (${conversations.turns} turns) in ${conversations.milliseconds.toFixed(0)} ms, ${conversations.perSecond.toFixed(0)} conversations/s`,
    );
  }
  if ([...options.phases].every((name) => name === 'conversations')) return;
  console.log(`bench: load ${loadBefore.map((n) => n.toFixed(2)).join(' ')} on ${os.cpus().length} cores; starting the stack ...`);
  const stack = await startBenchStack({
    db: args.db as 'sqlite' | 'postgres',
    tuning: args.tuning,
    temporalStore: args.temporal as 'file' | 'memory',
    keep: args.keep,
  });
  const tracker = replyTracker(stack);
  const send = { product: productMessenger(stack, tracker), floor: floorMessenger(stack) };
  const results: Record<string, unknown> = conversations ? { conversations } : {};
  const rssSamples: number[] = [];
  const rssTimer = setInterval(() => rssSamples.push(rssOf(stack.worker.pid)), 1000);
  /** Wall-clock seconds of each phase, so the run's length can be read off the table. */
  const phaseSeconds: Record<string, number> = {};
  let phase = { name: 'starting the stack', at: now() - (Date.now() - startedAt.getTime()) };
  const endPhase = () => (phaseSeconds[phase.name] = (now() - phase.at) / 1000);
  const dialogs = new Set<number>();
  const floorChats = new Set<number>();
  const run: BenchRun = {
    options,
    stack,
    tracker,
    send,
    product: noting(dialogs, send.product),
    floor: noting(floorChats, send.floor),
    dialogs,
    floorChats,
    workersDialogs: new Set(),
    results,
    step(what) {
      endPhase();
      phase = { name: what, at: now() };
      console.log(`bench: ${what} (load ${os.loadavg()[0].toFixed(2)})`);
    },
  };

  try {
    if (has('floor') || has('e2e')) await throughputPhase(run);
    if (has('rate')) await ratePhase(run);
    if (has('workers')) await workersPhase(run);
    if (has('idle')) await idlePhase(run);
    if (has('recovery')) await recoveryPhase(run);
  } catch (error) {
    // The phases that finished, and what the failed one measured, are still reported.
    console.error(error);
    results.failed = error instanceof Error ? error.message : String(error);
    process.exitCode = 1;
  } finally {
    run.step('stopping the stack');
    clearInterval(rssTimer);
    tracker.stop();
    results.workerRssMaxMiB = Math.max(...rssSamples.filter(Number.isFinite)) / 2 ** 20;
    results.unexpectedReplies = tracker.unexpected;
    results.workerBundleMs = stack.bundleMs;
    await stack.close();
    endPhase();
    results.phaseSeconds = phaseSeconds;
  }

  const { durationMs, concurrencies: concurrency, rates: rate, idle, history } = options;
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...machine(), loadavgBefore: loadBefore.map((n) => round(n, 2)) },
    options: {
      duration: durationMs / 1000,
      concurrency,
      rate,
      idle,
      history,
      db: args.db,
      temporal: args.temporal,
      phases: [...options.phases],
      tuning: args.tuning ?? null,
      note: args.note ?? null,
    },
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
