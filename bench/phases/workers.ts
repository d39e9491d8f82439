/**
 * The `workers` phase: what a second worker process buys. Closed loops at the first
 * `--concurrency` with one floor worker and one dialog worker, then again with a second of each
 * (a child process like the first, polling the same task queue of the same Temporal server).
 *
 * Each loop has chats of its own: a workflow stays on the worker that cached it (its sticky queue),
 * so only new dialogs are shared between the two, the way they are when a worker is added.
 */
import { closedLoop, cpuMeter, range } from '../loops';
import { noting } from '../messages';
import type { WorkersResult } from '../table';
import { type BenchRun, FLOOR_PROCESSES, PRODUCT_PROCESSES } from './context';

/** The processes whose CPU counts, by worker processes per side (`floor2`, `worker2`: the second ones). */
const PROCESSES = {
  1: { floor: FLOOR_PROCESSES, product: PRODUCT_PROCESSES },
  2: { floor: [...FLOOR_PROCESSES, 'floor2'], product: [...PRODUCT_PROCESSES, 'worker2'] },
};

export async function workersPhase(run: BenchRun): Promise<void> {
  const { options, stack } = run;
  const chats = options.concurrencies[0] ?? 100;
  const product = noting(run.workersDialogs, run.send.product);
  const result: WorkersResult = { chats };
  run.results.workers = result;
  const measure = async (workers: 1 | 2, base: number) => {
    const processes = workers === 1 ? 'one worker process' : 'two worker processes';
    run.step(`floor at ${chats} concurrent chats on ${processes}`);
    const floor = await closedLoop(range(base, chats), options.durationMs, run.send.floor, () => cpuMeter(stack, PROCESSES[workers].floor));
    run.step(`end to end at ${chats} concurrent chats on ${processes}`);
    const e2e = await closedLoop(range(base, chats), options.durationMs, product, () => cpuMeter(stack, PROCESSES[workers].product));
    return { floor, e2e };
  };
  result.one = await measure(1, 50_000_000);
  run.step('starting a second dialog worker and a second floor worker');
  const second = await stack.startSecondWorkers();
  try {
    result.two = await measure(2, 51_000_000);
  } finally {
    await second.stop();
  }
}
