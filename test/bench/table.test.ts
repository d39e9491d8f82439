import { type LoadResult, type Report, renderTable } from '../../bench/table';

const summary = (p50: number, p95: number, p99: number) => ({ count: 100, p50, p95, p99, max: p99 * 2 });
const load = (perSecond: number, ack: number, total: number, extra: Partial<LoadResult> = {}): LoadResult => ({
  concurrency: 100,
  messages: perSecond * 10,
  perSecond,
  errors: 0,
  ack: summary(ack, ack * 2, ack * 4),
  total: summary(total, total * 2, total * 4),
  ...extra,
});
const machine = { nproc: 2, cpu: 'test cpu', memoryGiB: 24, loadavg: [1, 1, 1], loadavgBefore: [0.5, 0.5, 0.5], node: 'v20' };

/** The cells of the first table row whose first cell starts with `label` (below the row `below`). */
function row(table: string, label: string, below?: string): string[] {
  const lines = table.split('\n');
  const from = below ? lines.findIndex((l) => l.startsWith(`| ${below}`)) : 0;
  const line = lines.slice(from).find((l) => l.startsWith(`| ${label}`));
  if (!line) throw new Error(`no row "${label}" in\n${table}`);
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('bench table', () => {
  it('puts the product beside the floor with their ratios, the starts and the open loops', () => {
    const report: Report = {
      machine,
      options: {},
      results: {
        throughput: [
          {
            concurrency: 100,
            floor: load(180, 10, 500, {
              cpuPerMessage: { temporal: 6, floor: 3, bench: 1 },
              starts: { chats: 100, perSecond: 40, cpuPerStart: { temporal: 20, floor: 10, bench: 2 } },
            }),
            e2e: load(135, 9, 700, { cpuPerMessage: { temporal: 4, worker: 6, api: 2, bench: 2 }, starts: { chats: 100, perSecond: 30 } }),
          },
        ],
        rates: [
          {
            target: 100,
            ...load(100, 10, 60, { cpuPerMessage: { temporal: 9, worker: 8, api: 3, bench: 1 } }),
            floor: load(100, 8, 40, { cpuPerMessage: { temporal: 10, floor: 5, bench: 1 } }),
          },
        ],
        idle: {
          dialogs: 10_000,
          created: 7_900,
          measuredOver: 7_400,
          createdPerSecond: 33,
          errors: 0,
          workerRssBeforeMiB: 900,
          workerRssAfterMiB: 910,
          workerRssMaxMiB: 950,
          workerRssAlong: [
            { dialogs: 2_890, rssMiB: 905 },
            { dialogs: 10_000, rssMiB: 910 },
          ],
          databaseBytesPerDialog: 2600,
          temporalBytesPerDialog: 0,
          longHistories: [
            { events: 1019, runs: 5, lastRun: 19 },
            { events: 1210, runs: 5, lastRun: 206 },
          ],
          evicted: summary(40, 50, 58),
          cachedAfterwards: summary(16, 18, 20),
        },
        workerRssMaxMiB: 950,
        workerBundleMs: 2500,
        phaseSeconds: { 'starting the stack': 12, 'idle dialogs': 240, 'stopping the stack': 8 },
      },
    };
    const table = renderTable(report);
    expect(row(table, 'messages/s, 100 chats')).toEqual(['messages/s, 100 chats', '180.0', '135.0', '75%']);
    expect(row(table, '  CPU ms per message')).toEqual([
      'CPU ms per message',
      '10.0 (temporal 6.0, floor 3.0, bench 1.0)',
      '14.0 (temporal 4.0, worker 6.0, api 2.0, bench 2.0)',
      '140%',
    ]);
    expect(row(table, '  first messages/s')).toEqual(['first messages/s (workflow starts)', '40.0', '30.0', '75%']);
    expect(row(table, '  CPU ms per start')[1]).toBe('32.0 (temporal 20.0, floor 10.0, bench 2.0)');
    expect(row(table, 'open loop at 100 msg/s')).toEqual(['open loop at 100 msg/s', 'got 100.0/s', 'got 100.0/s', '']);
    // ack p99: the product's 40 ms against the floor's 32 ms at the same rate.
    expect(row(table, '  ack p50/p95/p99', 'open loop').slice(1)).toEqual(['8.0 ms / 16 ms / 32 ms', '10 ms / 20 ms / 40 ms', '125%']);
    expect(row(table, '  CPU ms per message', 'open loop').slice(1)).toEqual([
      '16.0 (temporal 10.0, floor 5.0, bench 1.0)',
      '21.0 (temporal 9.0, worker 8.0, api 3.0, bench 1.0)',
      '131%',
    ]);
    expect(table).toContain('| 10000 (7900 created here, 33/s over the last 7400)');
    expect(row(table, '  worker RSS (MiB) as dialogs pile up')[2]).toBe('2890 905, 10k 910');
    expect(row(table, '  evicted dialog')).toEqual([
      'evicted dialog (1019+ events, 5 runs, the last 19–206) answers p50/max',
      '',
      '40 ms / 116 ms',
      'cached: 16 ms',
    ]);
    expect(table).toMatch(/^took 4\.3 min: starting the stack 12 s, idle dialogs 240 s, stopping the stack 8 s$/m);
  });

  it('renders a report written before the starts, the floor open loop and the phase times', () => {
    const old: Report = {
      machine,
      options: {},
      results: {
        throughput: [{ concurrency: 100, floor: load(160, 10, 500), e2e: load(120, 9, 700) }],
        rate: { target: 100, ...load(98, 10, 60) },
        workerRssMaxMiB: 900,
        workerBundleMs: 2000,
      },
    };
    const table = renderTable(old);
    expect(row(table, 'messages/s, 100 chats')[3]).toBe('75%');
    expect(table).not.toContain('first messages/s');
    expect(row(table, 'open loop at 100 msg/s')).toEqual(['open loop at 100 msg/s', '', 'got 98.0/s', '']);
    expect(table.split('open loop')[1]).not.toContain('CPU ms per message');
    expect(table).not.toMatch(/^took/m);
  });

  it('puts one worker process against two, for the floor and the product, with the second one’s gain', () => {
    const report: Report = {
      machine,
      options: {},
      results: {
        workers: {
          chats: 100,
          one: { floor: load(200, 5, 400, { cpuPerMessage: { temporal: 6, floor: 3, bench: 1 } }), e2e: load(150, 9, 600) },
          two: {
            floor: load(210, 5, 380, { cpuPerMessage: { temporal: 6, floor: 2, bench: 1, floor2: 2 } }),
            e2e: load(165, 9, 550, { cpuPerMessage: { temporal: 4, worker: 3, api: 2, bench: 2, worker2: 3 } }),
          },
        },
        workerRssMaxMiB: 900,
        workerBundleMs: 2000,
      },
    };
    const table = renderTable(report);
    expect(row(table, '1 worker process, 100 chats: messages/s')).toEqual(['1 worker process, 100 chats: messages/s', '200.0', '150.0', '75%']);
    expect(row(table, '2 worker processes, 100 chats: messages/s')).toEqual(['2 worker processes, 100 chats: messages/s', '210.0', '165.0', '79%']);
    expect(row(table, '  CPU ms per message', '2 worker processes')[2]).toBe('14.0 (temporal 4.0, worker 3.0, api 2.0, bench 2.0, worker2 3.0)');
    // to send p99: 4 × the median of each side.
    expect(row(table, '  to send p50/p95/p99', '2 worker processes')[3]).toBe('145%');
    expect(row(table, '  2 worker processes / 1')).toEqual(['2 worker processes / 1', '105%', '110%', '']);
  });

  it('shows the one-worker loops of a workers phase that failed before the second worker', () => {
    const table = renderTable({
      machine,
      options: {},
      results: { workers: { chats: 50, one: { floor: load(90, 5, 400), e2e: load(60, 9, 600, { errors: 3 }) } }, workerRssMaxMiB: 1, workerBundleMs: 1 },
    });
    expect(row(table, '1 worker process, 50 chats: messages/s')[3]).toBe('67%');
    expect(row(table, '  errors', '1 worker process')).toEqual(['errors', '0', '3', '']);
    expect(table).not.toContain('2 worker processes');
  });

  it('reports what a failed phase measured, and why it failed', () => {
    const failed: Report = {
      machine,
      options: {},
      results: {
        idle: {
          dialogs: 70_380,
          created: 70_375,
          errors: 200,
          workerRssAlong: [
            { dialogs: 10_005, rssMiB: 690 },
            { dialogs: 70_380, rssMiB: 570 },
          ],
        },
        failed: 'idle dialogs: 200 failed in a row after 70380 dialogs; see children.log',
        workerRssMaxMiB: 700,
        workerBundleMs: 2000,
      },
    };
    const table = renderTable(failed);
    expect(row(table, 'idle dialogs')).toEqual(['idle dialogs', '', '70380 (70375 created here)', '200 errors']);
    expect(row(table, '  worker RSS (MiB) as dialogs pile up')[2]).toBe('10k 690, 70k 570');
    expect(table).not.toContain('evicted dialog');
    expect(table).toMatch(/^FAILED: idle dialogs: 200 failed in a row after 70380 dialogs; see children.log$/m);
  });
});
