/**
 * The product's processes as an operator starts them (`npm run migrate`, `npm run api`,
 * `npm run worker`), each in a process group of its own: npm, its shell, tsx and the node process
 * tsx forks all share it, so one signal to the group reaches the real API or worker at once.
 *
 *   const api = startNpmScript('api 1', 'api', env);
 *   await waitForHealth(`http://127.0.0.1:${port}/health`, api);
 *   await api.kill('SIGKILL');          // returns once no process of the group is left
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually } from '../support/stack';

const ROOT = path.resolve(__dirname, '..', '..');
/** How much of a process's output is kept for the message of a failure. */
const OUTPUT_TAIL_CHARS = 6_000;

export interface NpmProcess {
  name: string;
  /** The id of the process group (the npm process's own pid). */
  pgid: number;
  child: ChildProcess;
  /** The last of what it printed on stdout and stderr. */
  output(): string;
  /** Pids of the group's live processes (npm, sh, tsx, node). */
  pids(): number[];
  /** Signals the whole group and waits until none of its processes is left. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The processes of a group that still run. Read from /proc, because a process whose parent died
 * first may stay a zombie (reparented to an init that does not reap), which `kill(-pgid, 0)` counts.
 */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited while we looked
    }
    // The fields after the command name, which may itself hold spaces and parentheses: state ppid pgrp ...
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** `npm run <script>` in a new process group, with exactly `env` (no settings of the test process leak in). */
export function startNpmScript(name: string, script: string, env: Record<string, string>): NpmProcess {
  const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: npm did not start`);
  const pgid = child.pid;
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`[${name}] ${chunk.toString()}`);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    name,
    pgid,
    child,
    output: () => tail,
    pids: () => liveGroupMembers(pgid),
    kill: async (signal = 'SIGKILL') => {
      try {
        process.kill(-pgid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      await eventually(() => liveGroupMembers(pgid).length === 0, 15_000, `every process of ${name} gone after ${signal}`);
    },
  };
}

/** Runs `npm run <script>` to its end; throws with its output unless it exits with 0. */
export async function runNpmScript(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<string> {
  const run = startNpmScript(script, script, env);
  const timer = setTimeout(() => void run.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(run.child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`npm run ${script} exited with ${signal ?? `code ${code}`}:\n${run.output()}`);
  return run.output();
}

const exited = (owner: NpmProcess) => owner.child.exitCode !== null || owner.child.signalCode !== null;

/** Polls until `ready` holds; fails at once, with the process's output, when `owner` exits first. */
async function waitWhileRunning(owner: NpmProcess, what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited(owner)) throw new Error(`${owner.name} exited before ${what}:\n${owner.output()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${owner.name}: no ${what} within ${timeoutMs} ms:\n${owner.output()}`);
    await delay(250);
  }
}

/** Polls `url` until it answers 200. */
export async function waitForHealth(url: string, owner: NpmProcess, timeoutMs = 90_000): Promise<void> {
  await waitWhileRunning(
    owner,
    `200 from ${url}`,
    async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      await response?.body?.cancel();
      return response?.status === 200;
    },
    timeoutMs,
  );
}

/**
 * Waits until a process of `owner`'s group polls `taskQueue` for workflow tasks (Temporal's
 * DescribeTaskQueue) and returns that poller's identity (the SDK's `<pid>@<host>`).
 */
export async function waitForWorkflowPoller(client: Client, taskQueue: string, owner: NpmProcess, timeoutMs = 90_000): Promise<string> {
  let identity: string | undefined;
  await waitWhileRunning(
    owner,
    `workflow poller on ${taskQueue}`,
    async () => {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      const members = owner.pids();
      identity = pollers?.map((poller) => poller.identity ?? '').find((id) => members.includes(Number(id.split('@')[0])));
      return identity !== undefined;
    },
    timeoutMs,
  );
  return identity as string;
}
