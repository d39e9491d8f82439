/**
 * The bench's own copy of the embedded stack, on free ports and a temporary directory: a Temporal
 * dev server (in memory, or file-backed as `npm start` runs it), the product database, the fake
 * Telegram, and the API, dialog worker and floor worker as child processes (so a worker can be
 * SIGKILLed and its memory read from /proc, and a second worker of each kind started beside it).
 */
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signToken } from '../api/auth';
import { startDevServer, type EmbeddedTemporal } from '../scripts/embedded-temporal';
import { startFakeTelegram, type FakeTelegram } from '../test/fakes';
import { bundleDialogWorkflows } from '../worker';
import { createBenchDatabase, filesSize } from './database';
import { echoScenario } from './echo-scenario';

const ROOT = path.resolve(__dirname, '..');
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');

export interface BenchStackOptions {
  db: 'sqlite' | 'postgres';
  /** WorkerOptions (JSON) laid over the dialog worker's defaults, for before/after comparisons. */
  tuning?: string;
  /** Temporal's own persistence: a SQLite file (as `npm start`) or memory (as the tests). */
  temporalStore: 'file' | 'memory';
  keep?: boolean;
}

/** Resident memory of a process in bytes (/proc, so Temporal Core's native memory counts too). */
export function rssOf(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Child {
  process: ChildProcess;
  ready: Promise<{ port?: number }>;
}

export async function startBenchStack(options: BenchStackOptions) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'getinn-bench-'));
  const stops: (() => Promise<unknown> | void)[] = [];
  const children = new Set<ChildProcess>();
  const floorDone = new EventEmitter();
  const stopChild = async (child: ChildProcess) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    }
    children.delete(child);
  };
  const close = async () => {
    for (const child of [...children]) await stopChild(child).catch(() => undefined);
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error(error);
      }
    }
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  };
  // Never leave the dev server or children running when the bench dies.
  const onSignal = () => void close().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  stops.push(() => {
    process.removeListener('SIGINT', onSignal);
  });

  try {
    const temporalDir = path.join(dir, 'temporal');
    // The children's output, the Temporal server's warnings and errors included.
    const log = openSync(path.join(dir, 'children.log'), 'a');
    const temporal: EmbeddedTemporal = await startDevServer({ dataDir: options.temporalStore === 'file' ? temporalDir : undefined, output: log });
    stops.push(() => temporal.stop());
    // The floor's load goes through the native client the API uses (src/temporal.ts), the cheaper one.
    const connection = await NativeConnection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    const bundleStarted = performance.now();
    const dialogBundle = await bundleDialogWorkflows(quietLogger);
    const bundleMs = performance.now() - bundleStarted;
    const floorBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./noop-workflow'), logger: quietLogger });
    const dialogBundlePath = path.join(dir, 'dialog-bundle.js');
    const floorBundlePath = path.join(dir, 'floor-bundle.js');
    writeFileSync(dialogBundlePath, dialogBundle);
    writeFileSync(floorBundlePath, floorBundle.code);

    const tg: FakeTelegram = await startFakeTelegram();
    stops.push(() => tg.close());
    const database = await createBenchDatabase(options.db, dir);
    stops.push(() => database.drop());

    const dialogQueue = `bench-dialogs-${randomBytes(4).toString('hex')}`;
    const floorQueue = `bench-floor-${randomBytes(4).toString('hex')}`;
    const env: Record<string, string> = {
      ...(Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'REDIS_URL', 'TEMPORAL_ADDRESS'].includes(k))) as Record<
        string,
        string
      >),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
      JWT_SECRET,
      ENCRYPTION_KEY,
      TEMPORAL_ADDRESS: temporal.address,
      TELEGRAM_API_BASE: tg.url,
      ...database.env,
    };

    const spawnChild = (role: 'api' | 'worker' | 'floor', extra: Record<string, string>): Child => {
      // `node --import tsx` rather than the tsx CLI, which forks: a SIGKILL must reach the worker itself.
      // BENCH_CPU_PROFILE=<dir>: each child writes a V8 CPU profile there when it exits.
      const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
      const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(__dirname, 'processes.ts')], {
        cwd: ROOT,
        env: { ...env, BENCH_ROLE: role, ...extra },
        stdio: ['ignore', log, log, 'ipc'],
      });
      children.add(child);
      const ready = new Promise<{ port?: number }>((resolve, reject) => {
        child.on('message', (message: { type: string; port?: number; id?: string }) => {
          if (message.type === 'ready') resolve(message);
          if (message.type === 'done') floorDone.emit('done', message.id);
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`bench ${role} process exited (${code ?? signal}) before it was ready; see ${path.join(dir, 'children.log')}`)),
        );
      });
      ready.catch(() => undefined);
      return { process: child, ready };
    };

    const workerEnv = {
      worker: { TEMPORAL_TASK_QUEUE: dialogQueue, WORKFLOW_BUNDLE: dialogBundlePath, BENCH_TUNING: options.tuning ?? '' },
      floor: { TEMPORAL_TASK_QUEUE: floorQueue, BENCH_BUNDLE: floorBundlePath },
    };
    const startWorker = async (role: 'worker' | 'floor'): Promise<ChildProcess> => {
      const child = spawnChild(role, workerEnv[role]);
      await child.ready;
      return child.process;
    };
    const api = spawnChild('api', { TEMPORAL_TASK_QUEUE: dialogQueue });
    const [floor, firstWorker] = await Promise.all([startWorker('floor'), startWorker('worker')]);
    let worker = firstWorker;
    /** The workers phase's second dialog worker and second floor worker, while they run. */
    let second: { worker: ChildProcess; floor: ChildProcess } | undefined;
    const { port } = await api.ready;
    const apiUrl = `http://127.0.0.1:${port}`;

    const token = signToken(JWT_SECRET, { sub: 'bench', role: 'admin', account_ids: ['bench'] });
    const call = async (method: string, route: string, body: unknown) => {
      const response = await fetch(apiUrl + route, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as Record<string, unknown>;
      if (response.status >= 300) throw new Error(`${method} ${route} answered ${response.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const bot = await call('POST', '/v1/accounts/bench/bots', { name: 'bench' });
    const botId = bot.id as string;
    const scenario = await call('POST', `/v1/bots/${botId}/scenarios`, { name: 'echo', scenario_data: echoScenario });
    await call('POST', `/v1/scenarios/${scenario.id as string}/activate`, { active: true });
    await call('POST', `/v1/bots/${botId}/platforms`, { platform: 'telegram', credentials: { token: '7000001:bench-token' } });
    await call('POST', `/v1/bots/${botId}/platforms/telegram/webhook`, {});
    await call('POST', `/v1/bots/${botId}/activate`, {});
    const secret = tg.webhook?.secret_token;
    if (!secret) throw new Error('the webhook registration did not reach the fake Telegram');

    const temporalSize = () => filesSize([path.join(temporalDir, 'temporal.sqlite'), path.join(temporalDir, 'temporal.sqlite-wal')]);

    return {
      dir,
      client,
      tg,
      botId,
      secret,
      webhookUrl: `${apiUrl}/v1/webhooks/telegram/${botId}`,
      dialogQueue,
      floorQueue,
      /** Every floor worker's activity reports the id of the message it handled here. */
      floorDone,
      api: api.process,
      get worker() {
        return worker;
      },
      bundleMs,
      /** The processes whose CPU time the bench reads, by role. */
      pids(): Record<string, number | undefined> {
        return {
          temporal: temporal.pid,
          worker: worker.pid,
          api: api.process.pid,
          floor: floor.pid,
          bench: process.pid,
          worker2: second?.worker.pid,
          floor2: second?.floor.pid,
        };
      },
      databaseSize: () => database.size(),
      temporalSize,
      /** SIGKILLs the dialog worker; resolves with the time it was sent. */
      killWorker(): number {
        const at = performance.now();
        worker.kill('SIGKILL');
        children.delete(worker);
        return at;
      },
      async restartWorker(): Promise<void> {
        worker = await startWorker('worker');
      },
      /** A second dialog worker and a second floor worker, on the same task queues; `stop` ends both. */
      async startSecondWorkers(): Promise<{ stop(): Promise<void> }> {
        if (second) throw new Error('the second workers run already');
        const [secondWorker, secondFloor] = await Promise.all([startWorker('worker'), startWorker('floor')]);
        const started = { worker: secondWorker, floor: secondFloor };
        second = started;
        return {
          stop: async () => {
            await Promise.all([stopChild(started.worker), stopChild(started.floor)]);
            second = undefined;
          },
        };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};
