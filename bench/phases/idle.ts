/**
 * The `idle` phase: new dialogs until `--idle` exist, while five dialogs are driven to long
 * histories; then each long one, evicted by the dialogs created after it, answers a message.
 */
import { cpuMeter, pool, range, sleep } from '../loops';
import { now } from '../messages';
import { rssOf } from '../stack';
import { summarize } from '../stats';
import type { DialogHistory } from '../table';
import { type BenchRun, PRODUCT_PROCESSES, STARTS_PARALLEL } from './context';

/** Dialogs with a long history, measured after they were evicted. */
const LONG_DIALOGS = 5;
/**
 * Each long dialog goes this many events further than the one before, so their last runs (what an
 * evicted dialog replays; a run ends every ~120 events) have different lengths, long ones included.
 */
const LONG_DIALOG_SPREAD = 50;
/** Failures in a row after which the phase gives up: the stack is down, not busy. */
const FAILURES_IN_A_ROW = 200;

export async function idlePhase(run: BenchRun): Promise<void> {
  const { options, stack, product } = run;
  const dialogCount = () => run.dialogs.size + run.workersDialogs.size;
  const longChats = range(20_000_000, LONG_DIALOGS);
  // The dialogs of the phases before are idle now too: only the rest is created here.
  const existing = dialogCount() + longChats.length;
  const created = Math.max(0, options.idle - existing);
  const longRange = `${options.history}–${options.history + (LONG_DIALOGS - 1) * LONG_DIALOG_SPREAD}`;
  run.step(`${options.idle} idle dialogs (${existing} exist, ${created} to create) and ${LONG_DIALOGS} dialogs with ${longRange}-event histories`);
  // A dialog's history is that of all its runs (continue-as-new); an evicted one replays its last.
  const historyOf = async (chat: number): Promise<DialogHistory> => {
    const workflowId = `dialog:${stack.botId}:telegram:${chat}`;
    const lastRun = (await stack.client.workflow.getHandle(workflowId).describe()).historyLength;
    const history = { events: lastRun, runs: 1, lastRun };
    for await (const past of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus != 'Running'` })) {
      history.events += past.historyLength;
      history.runs += 1;
    }
    return history;
  };
  // The long dialogs take one message at a time, which leaves the cores half idle: they are
  // built while the idle dialogs are created. The last idle dialogs, half as many again as the
  // worker caches, wait for them, so that the long ones are evicted before they answer.
  const evicting = Math.round(1.5 * options.workerCache);
  const longHistories = Promise.all(
    longChats.map(async (chat, k) => {
      for (let turn = 1; ; turn++) {
        await product(chat);
        if (turn % 10 !== 0) continue;
        if ((await historyOf(chat)).events >= options.history + k * LONG_DIALOG_SPREAD) return;
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
  const window = longHistories.then(async () => ({
    dialogs: dialogCount(),
    at: now(),
    cpu: cpuMeter(stack, PRODUCT_PROCESSES),
    db: await stack.databaseSize(),
    temporal: stack.temporalSize(),
  }));
  window.catch(() => undefined);
  let idleErrors = 0;
  let failuresInARow = 0;
  // The worker's memory as the dialogs pile up: flat once its workflow cache is full.
  const rssAlong: { dialogs: number; rssMiB: number }[] = [];
  const checkpoint = Math.max(1, Math.round(created / 10));
  let done = 0;
  const sample = () => rssAlong.push({ dialogs: dialogCount(), rssMiB: Math.round(rssOf(stack.worker.pid) / 2 ** 20) });
  const gaveUp = () => failuresInARow >= FAILURES_IN_A_ROW;
  await pool(
    range(0, created),
    STARTS_PARALLEL,
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
    run.results.idle = { dialogs: dialogCount(), created: done - idleErrors, errors: idleErrors, workerRssAlong: rssAlong };
    throw new Error(`idle dialogs: ${FAILURES_IN_A_ROW} failed in a row after ${dialogCount()} dialogs; see children.log`);
  }
  // Fewer idle dialogs than the long ones take to build leave the window empty.
  // The timer stops whether the window opened or a long dialog failed (the phase then fails).
  const from = await window.finally(() => clearInterval(idleTimer));
  const inWindow = dialogCount() - from.dialogs;
  const windowSeconds = (now() - from.at) / 1000;
  const cpuPerDialog = from.cpu(inWindow);
  await sleep(2000);
  const rssAfter = rssOf(stack.worker.pid);
  const dbAfter = await stack.databaseSize();
  const temporalAfter = stack.temporalSize();

  run.step('evicted dialogs answer their next message');
  // Read now rather than while building: a run past the limit continues as new just after the
  // message that took it there, and then the dialog replays that new, short run.
  const histories = await Promise.all(longChats.map(historyOf));
  const evicted: number[] = [];
  const cached: number[] = [];
  for (const chat of longChats) {
    evicted.push((await product(chat)).totalMs);
    cached.push((await product(chat)).totalMs);
  }
  run.results.idle = {
    dialogs: dialogCount(),
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
