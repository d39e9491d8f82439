/** The `floor` and `e2e` phases: closed loops at each `--concurrency`, the floor first. */
import { closedLoop, cpuMeter, range } from '../loops';
import type { LoadResult } from '../table';
import { type BenchRun, FLOOR_PROCESSES, PRODUCT_PROCESSES } from './context';

export async function throughputPhase(run: BenchRun): Promise<void> {
  const { options, stack } = run;
  const throughput: { concurrency: number; floor?: LoadResult; e2e?: LoadResult }[] = [];
  run.results.throughput = throughput;
  for (const [i, concurrency] of options.concurrencies.entries()) {
    const row: (typeof throughput)[number] = { concurrency };
    throughput.push(row);
    const chats = range(1_000_000 * (i + 1), concurrency);
    if (options.phases.has('floor')) {
      run.step(`floor at ${concurrency} concurrent chats`);
      row.floor = await closedLoop(chats, options.durationMs, run.floor, () => cpuMeter(stack, FLOOR_PROCESSES));
    }
    if (options.phases.has('e2e')) {
      run.step(`end to end at ${concurrency} concurrent chats`);
      row.e2e = await closedLoop(chats, options.durationMs, run.product, () => cpuMeter(stack, PRODUCT_PROCESSES));
    }
  }
}
