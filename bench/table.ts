/** The bench's result shapes and the one table it prints of them (old reports render too). */
import type { Summary } from './stats';

/** An open loop of the product at `target` messages/s, and of the floor at the same rate. */
export type RateResult = LoadResult & { target: number; floor?: LoadResult };

export interface LoadResult {
  concurrency: number;
  messages: number;
  perSecond: number;
  errors: number;
  ack: Summary;
  total: Summary;
  /** CPU milliseconds per message of each process that took part (Linux only). */
  cpuPerMessage?: Record<string, number>;
  /** The warm-up: one first message per chat, which starts its workflow. */
  starts?: { chats: number; perSecond: number; cpuPerStart?: Record<string, number> };
}

/** The workers phase: closed loops of both sides on one worker process each, then on two. */
export interface WorkersResult {
  chats: number;
  one?: { floor: LoadResult; e2e: LoadResult };
  two?: { floor: LoadResult; e2e: LoadResult };
}

/** A dialog's history events over all its runs, and those of its last (the one an evicted dialog replays). */
export type DialogHistory = { events: number; runs: number; lastRun: number };

/** What `machine()` in run.ts records. */
export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  loadavg: number[];
  node: string;
}

export type Report = { machine: Machine & { loadavgBefore: number[] }; options: Record<string, unknown>; results: Record<string, any> };

const ms = (n: number | null | undefined) =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const pct = (a: number | undefined, b: number | undefined) => (a && b ? `${Math.round((a / b) * 100)}%` : '-');
const triple = (s: Summary | undefined) => (s ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}` : '-');

const cpuTotal = (load: LoadResult | undefined) => (load?.cpuPerMessage ? Object.values(load.cpuPerMessage).reduce((a, b) => a + b, 0) : undefined);
const cpu = (load: LoadResult | undefined) =>
  load?.cpuPerMessage
    ? `${cpuTotal(load)?.toFixed(1)} (${Object.entries(load.cpuPerMessage)
        .map(([role, v]) => `${role} ${v.toFixed(1)}`)
        .join(', ')})`
    : '-';

/** One worker process against two, for the floor and the product, with the second one's gain. */
function workersRows(w: WorkersResult): string[][] {
  const rows: string[][] = [];
  for (const [workers, sides] of [
    ['1 worker process', w.one],
    ['2 worker processes', w.two],
  ] as const) {
    if (!sides) continue;
    rows.push([
      `${workers}, ${w.chats} chats: messages/s`,
      sides.floor.perSecond.toFixed(1),
      sides.e2e.perSecond.toFixed(1),
      pct(sides.e2e.perSecond, sides.floor.perSecond),
    ]);
    rows.push([`  to send p50/p95/p99`, triple(sides.floor.total), triple(sides.e2e.total), pct(sides.e2e.total.p99, sides.floor.total.p99)]);
    rows.push([`  CPU ms per message`, cpu(sides.floor), cpu(sides.e2e), pct(cpuTotal(sides.e2e), cpuTotal(sides.floor))]);
    const errors = sides.floor.errors + sides.e2e.errors;
    if (errors) rows.push([`  errors`, String(sides.floor.errors), String(sides.e2e.errors), '']);
  }
  if (w.one && w.two)
    rows.push([`  2 worker processes / 1`, pct(w.two.floor.perSecond, w.one.floor.perSecond), pct(w.two.e2e.perSecond, w.one.e2e.perSecond), '']);
  return rows;
}

/** The one table: product against the floor, then the idle, eviction and recovery numbers. */
export function renderTable(report: Report): string {
  const r = report.results;
  const rows: string[][] = [['measure', 'raw Temporal floor', 'product (end to end)', 'product / floor']];
  for (const t of (r.throughput ?? []) as { concurrency: number; floor?: LoadResult; e2e?: LoadResult }[]) {
    rows.push([
      `messages/s, ${t.concurrency} chats`,
      t.floor ? t.floor.perSecond.toFixed(1) : '-',
      t.e2e ? t.e2e.perSecond.toFixed(1) : '-',
      pct(t.e2e?.perSecond, t.floor?.perSecond),
    ]);
    rows.push([`  ack p50/p95/p99`, triple(t.floor?.ack), triple(t.e2e?.ack), pct(t.e2e?.ack.p99, t.floor?.ack.p99)]);
    rows.push([`  to send p50/p95/p99`, triple(t.floor?.total), triple(t.e2e?.total), pct(t.e2e?.total.p99, t.floor?.total.p99)]);
    rows.push([`  CPU ms per message`, cpu(t.floor), cpu(t.e2e), pct(cpuTotal(t.e2e), cpuTotal(t.floor))]);
    // Reports from before the warm-up was measured have no starts.
    if (t.floor?.starts || t.e2e?.starts) {
      const startRate = (load: LoadResult | undefined) => (load?.starts ? load.starts.perSecond.toFixed(1) : '-');
      rows.push([`  first messages/s (workflow starts)`, startRate(t.floor), startRate(t.e2e), pct(t.e2e?.starts?.perSecond, t.floor?.starts?.perSecond)]);
      const startCpu = (load: LoadResult | undefined) => cpu(load?.starts && ({ cpuPerMessage: load.starts.cpuPerStart } as LoadResult));
      rows.push([`  CPU ms per start`, startCpu(t.floor), startCpu(t.e2e), '']);
    }
    const errors = (t.floor?.errors ?? 0) + (t.e2e?.errors ?? 0);
    if (errors) rows.push([`  errors`, String(t.floor?.errors ?? '-'), String(t.e2e?.errors ?? '-'), '']);
  }
  // Reports written before rates became a list hold one `rate`.
  for (const rate of (r.rates ?? (r.rate ? [r.rate] : [])) as RateResult[]) {
    const got = (load: LoadResult | undefined) => (load ? `got ${load.perSecond.toFixed(1)}/s` : '');
    rows.push([`open loop at ${rate.target} msg/s`, got(rate.floor), got(rate), '']);
    rows.push([`  ack p50/p95/p99`, triple(rate.floor?.ack), triple(rate.ack), pct(rate.ack.p99, rate.floor?.ack.p99)]);
    rows.push([`  to send p50/p95/p99`, triple(rate.floor?.total), triple(rate.total), pct(rate.total.p99, rate.floor?.total.p99)]);
    if (rate.cpuPerMessage || rate.floor?.cpuPerMessage)
      rows.push([`  CPU ms per message`, cpu(rate.floor), cpu(rate), pct(cpuTotal(rate), cpuTotal(rate.floor))]);
    const errors = (rate.floor?.errors ?? 0) + rate.errors;
    if (errors) rows.push([`  errors`, String(rate.floor?.errors ?? '-'), String(rate.errors), '']);
  }
  if (r.workers) rows.push(...workersRows(r.workers as WorkersResult));
  if (r.idle) {
    const i = r.idle;
    // A phase that failed midway left only its count and memory samples.
    // Since the long histories are built alongside, rate, CPU and bytes are those of the dialogs created after them.
    const window = i.measuredOver === undefined || i.measuredOver === i.created ? '' : ` over the last ${i.measuredOver}`;
    const rate = i.createdPerSecond === undefined ? '' : `, ${i.createdPerSecond.toFixed(0)}/s${window}`;
    rows.push([`idle dialogs`, '', `${i.dialogs} (${i.created ?? i.dialogs} created here${rate})`, i.errors ? `${i.errors} errors` : '']);
    if (i.cpuPerDialog) rows.push([`  CPU ms per dialog created`, '', cpu({ cpuPerMessage: i.cpuPerDialog } as LoadResult), '']);
    if (i.workerRssAfterMiB !== undefined)
      rows.push([
        `  worker RSS before / after / max`,
        '',
        `${i.workerRssBeforeMiB.toFixed(0)} / ${i.workerRssAfterMiB.toFixed(0)} / ${i.workerRssMaxMiB.toFixed(0)} MiB`,
        '',
      ]);
    if (i.workerRssAlong?.length) {
      const along = (i.workerRssAlong as { dialogs: number; rssMiB: number }[])
        .map((p) => `${p.dialogs >= 10_000 ? `${Math.round(p.dialogs / 1000)}k` : p.dialogs} ${p.rssMiB}`)
        .join(', ');
      rows.push([`  worker RSS (MiB) as dialogs pile up`, '', along, '']);
    }
    if (i.databaseBytesPerDialog !== undefined)
      rows.push([`  bytes per dialog: database / Temporal`, '', `${Math.round(i.databaseBytesPerDialog)} / ${Math.round(i.temporalBytesPerDialog)}`, '']);
    if (i.evicted) {
      const histories = i.longHistories as DialogHistory[];
      const least = histories.reduce((a, b) => (a.events <= b.events ? a : b));
      const lastRuns = histories.map((h) => h.lastRun);
      const [shortest, longest] = [Math.min(...lastRuns), Math.max(...lastRuns)];
      const last = shortest === longest ? `the last ${shortest}` : `the last ${shortest}–${longest}`;
      const runs = `${least.runs} run${least.runs === 1 ? '' : 's'}, ${last}`;
      rows.push([
        `  evicted dialog (${least.events}+ events, ${runs}) answers p50/max`,
        '',
        `${ms(i.evicted.p50)} / ${ms(i.evicted.max)}`,
        `cached: ${ms(i.cachedAfterwards.p50)}`,
      ]);
    }
  }
  if (r.recovery) {
    const c = r.recovery;
    rows.push([`recovery after SIGKILL (${c.chats} busy chats)`, '', `first reply ${ms(c.firstReplyMs)}`, `worker up ${ms(c.workerReadyMs)}`]);
    rows.push([
      `  every chat answered again`,
      '',
      c.allChatsAnsweredMs === null ? `${c.chatsAnswered}/${c.chats} chats` : ms(c.allChatsAnsweredMs),
      `duplicates ${c.duplicateSends}`,
    ]);
  }
  if (r.conversations) {
    const c = r.conversations as { conversations: number; milliseconds: number; perSecond: number };
    rows.push([`conversation tests/s on the engine (${c.conversations} in ${ms(c.milliseconds)})`, '', c.perSecond.toFixed(0), '']);
  }
  rows.push([`worker RSS max over the run`, '', `${(r.workerRssMaxMiB as number).toFixed(0)} MiB`, `bundle ${ms(r.workerBundleMs)}`]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  const m = report.machine;
  const phases = r.phaseSeconds as Record<string, number> | undefined;
  const took = phases
    ? `took ${(Object.values(phases).reduce((a, b) => a + b, 0) / 60).toFixed(1)} min: ${Object.entries(phases)
        .map(([name, s]) => `${name} ${Math.round(s)} s`)
        .join(', ')}`
    : '';
  return [
    `machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}; load before ${m.loadavgBefore.join(' ')}, after ${m.loadavg.join(' ')}`,
    `options: ${JSON.stringify(report.options)}`,
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
    ...(took ? [took] : []),
    ...(r.failed ? [`FAILED: ${r.failed}`] : []),
  ].join('\n');
}
