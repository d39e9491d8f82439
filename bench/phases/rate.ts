/** The `rate` phase: open loops at each `--rate`, the floor's (when it runs) before the product's. */
import { cpuMeter, openLoop, pool, range } from '../loops';
import type { Send } from '../messages';
import type { LoadResult, RateResult } from '../table';
import { type BenchRun, FLOOR_PROCESSES, PRODUCT_PROCESSES, STARTS_PARALLEL } from './context';

export async function ratePhase(run: BenchRun): Promise<void> {
  const { options, stack } = run;
  const rates: RateResult[] = [];
  run.results.rates = rates;
  // Steady chats, not starts: the ones started last (still cached, as a busy chat's are), and new
  // ones warmed up first only where the earlier phases left too few.
  const steadyChats = async (started: Set<number>, wanted: number, base: number, one: Send) => {
    const chats = [...started].slice(-wanted);
    const fresh = range(base, wanted - chats.length);
    await pool(fresh, STARTS_PARALLEL, async (chat) => void (await one(chat).catch(() => undefined)));
    return [...chats, ...fresh];
  };
  for (const [i, rate] of options.rates.entries()) {
    const wanted = Math.max(100, rate * 10);
    const base = 9_000_000 + 100_000 * i;
    let floor: LoadResult | undefined;
    if (options.phases.has('floor')) {
      run.step(`floor open loop at ${rate} messages/s`);
      const chats = await steadyChats(run.floorChats, wanted, base, run.floor);
      floor = await openLoop(chats, rate, options.durationMs, run.floor, () => cpuMeter(stack, FLOOR_PROCESSES));
    }
    run.step(`open loop at ${rate} messages/s`);
    const chats = await steadyChats(run.dialogs, wanted, base, run.product);
    const e2e = await openLoop(chats, rate, options.durationMs, run.product, () => cpuMeter(stack, PRODUCT_PROCESSES));
    rates.push({ target: rate, ...e2e, floor });
  }
}
