/** The load shapes the phases drive (closed loop, open loop, a bounded pool) and the CPU they cost. */
import { readFileSync } from 'node:fs';
import { now, type Send } from './messages';
import type { BenchStack } from './stack';
import { summarize } from './stats';
import type { LoadResult } from './table';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const range = (base: number, count: number) => Array.from({ length: count }, (_, i) => base + i);

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

/** CPU ms per message of each process since the meter started; undefined where /proc cannot tell. */
export type CpuMeter = (messages: number) => Record<string, number> | undefined;

/** Starts counting the CPU time of `roles` (names of `stack.pids()`). */
export function cpuMeter(stack: BenchStack, roles: string[]): CpuMeter {
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
export async function closedLoop(chats: number[], durationMs: number, one: Send, meter?: () => CpuMeter): Promise<LoadResult> {
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
  return {
    concurrency: chats.length,
    messages: acks.length,
    perSecond: inWindow / (durationMs / 1000),
    errors,
    ack: summarize(acks),
    total: summarize(totals),
    cpuPerMessage: cpu?.(acks.length),
    starts,
  };
}

/** Open loop: messages at a fixed rate over a pool of chats, whatever the answers take. */
export async function openLoop(chats: number[], rate: number, durationMs: number, one: Send, meter: () => CpuMeter): Promise<LoadResult> {
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
  return {
    concurrency: chats.length,
    messages: acks.length,
    perSecond: count / (sent / 1000),
    errors,
    ack: summarize(acks),
    total: summarize(totals),
    cpuPerMessage: cpu(acks.length),
  };
}

/** Runs `work` on every item, at most `parallel` at a time, until `stop` says so. */
export async function pool<T>(items: T[], parallel: number, work: (item: T) => Promise<void>, stop = () => false): Promise<void> {
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (index < items.length && !stop()) await work(items[index++]);
    }),
  );
}
