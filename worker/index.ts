import { bundleWorkflowCode, type Logger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { createActivities, type ActivityDeps } from '../activities';
import { dataConverter } from '../src/temporal/codec';
import { activityMetrics } from './activity-metrics';

/**
 * Modules of the workflow bundle that keep no per-workflow state: the phone-number library and the
 * pure scenario engine (with what it imports: re2js, so each pattern compiles once per worker).
 * With reuseV8Context (the default) every module a workflow loads is evaluated again for each
 * workflow in the cache; these are evaluated once per worker and shared (frozen) instead, which
 * makes each cached dialog smaller and each new one quicker to start.
 */
export const SHARED_WORKFLOW_MODULES = ['libphonenumber-js/min', require.resolve('../src/engine/advance'), require.resolve('../src/engine/timeouts')];

/**
 * The dialog workflows as a worker loads them, with their shared modules: bundled by the worker as
 * it starts, or ahead of time (`npm run build:workflows`, the tests, the bench) to save it that.
 */
export async function bundleDialogWorkflows(logger?: Logger): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), preloadModules: SHARED_WORKFLOW_MODULES, logger });
  return code;
}

/** The SDK's files that patches/ changes so that an isolateExecutionTimeout of 0 means no watchdog. */
const WATCHDOG_PATCHED_FILES = ['@temporalio/worker/lib/workflow/reusable-vm.js', '@temporalio/worker/lib/workflow/vm.js'];
/** What the patch writes in place of `timeout: isolateExecutionTimeoutMs` at each call into the sandbox. */
const WATCHDOG_PATCHED_LINE = '...(isolateExecutionTimeoutMs > 0 ? { timeout: isolateExecutionTimeoutMs } : {})';
/** The SDK's own default, used when the patch is missing: an activation that runs longer fails. */
export const STOCK_ISOLATE_EXECUTION_TIMEOUT = '5s';

/**
 * Whether an SDK file has the watchdog patch: without it (installed by another package manager, or
 * with --ignore-scripts), a timeout of 0 is handed to Node, which refuses it on every activation.
 */
export function hasWatchdogPatch(source: string): boolean {
  return source.includes(WATCHDOG_PATCHED_LINE) && !/\btimeout: isolateExecutionTimeoutMs,/.test(source);
}

/**
 * No watchdog when the installed SDK is patched; else the SDK's stock timeout and a warning. The
 * files are read once, as the worker starts (`sources` lets a test hand in other contents).
 */
export function watchdogTuning(
  warn: (message: string) => void,
  sources: () => string[] = () => WATCHDOG_PATCHED_FILES.map((file) => readFileSync(require.resolve(file), 'utf8')),
): { isolateExecutionTimeout: 0 | string } {
  let patched = false;
  try {
    patched = sources().every(hasWatchdogPatch);
  } catch {
    patched = false;
  }
  // The option is read by Worker.create but is not in WorkerOptions' type.
  if (patched) return { isolateExecutionTimeout: 0 };
  warn(
    `@temporalio/worker is installed without patches/ (run patch-package): workflow activations run with the SDK's ${STOCK_ISOLATE_EXECUTION_TIMEOUT} watchdog, which costs a thread per call`,
  );
  return { isolateExecutionTimeout: STOCK_ISOLATE_EXECUTION_TIMEOUT };
}

/**
 * Workflow code on the main thread, not the SDK's worker threads: no activation crosses threads
 * twice and the bundle is held once, not per thread (an evicted dialog replays about a third
 * faster). The SDK calls this `debugMode`, as debuggers need the same; with the watchdog off
 * (below) it changes nothing else.
 */
const workflowsOnMainThread: Partial<WorkerOptions> = { debugMode: true };

/**
 * How the SDK runs on this kind of box, whatever the workflows do (the bench's floor worker uses
 * the same, so the floor stays the best this box does with Temporal).
 */
export function sdkTuning(warn: (message: string) => void = (message) => void Runtime.instance().logger.warn(message)): Partial<WorkerOptions> {
  // The SDK as patched in patches/ (sdk-typescript#1587): without this, every promise a workflow
  // makes captures a stack trace, for the UI's stack trace view of a dialog, which always waits on
  // its queue or on an activity. Set TEMPORAL_WORKFLOW_STACK_TRACES=true to debug one.
  process.env.TEMPORAL_WORKFLOW_STACK_TRACES ??= 'false';
  return {
    // No watchdog on calls into the workflow sandbox: Node starts and joins a thread for every call
    // with a timeout, a fifth to a third of the workflow threads' time. 0 means none in the patched
    // SDK (the option is read by Worker.create, not in WorkerOptions' type); an unpatched SDK keeps
    // its own. Our workflow code cannot spin: every turn is bounded (docs/security.md, "Workflow code").
    ...watchdogTuning(warn),
    ...workflowsOnMainThread,
    // A workflow task holds its slot while its local activities run. With the SDK's 40, a busy
    // worker stops polling and tasks wait on its sticky queue until they time out there (10 s).
    maxConcurrentWorkflowTaskExecutions: 200,
    maxConcurrentLocalActivityExecutions: 200,
  };
}

export interface DialogWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  /** The configured ones (TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE) unless given. */
  namespace?: string;
  taskQueue?: string;
  /** Extra worker tuning (cache size, concurrency); the defaults suit one process on a small box. */
  tuning?: Partial<WorkerOptions>;
}

/** Dialog workflows kept in memory between messages (docs/performance.md, "Worker settings"). */
export const MAX_CACHED_WORKFLOWS = 1000;

export async function createWorker(options: DialogWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, tuning, ...deps } = options;
  return Worker.create({
    connection,
    namespace: namespace ?? deps.config.temporal.namespace,
    taskQueue: taskQueue ?? deps.config.temporal.taskQueue,
    dataConverter: dataConverter(deps.config),
    activities: createActivities(deps),
    interceptors: { activity: [activityMetrics] },
    maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
    ...sdkTuning(),
    workflowBundle: deps.config.workflowBundle ? { codePath: deps.config.workflowBundle } : { code: await bundleDialogWorkflows(Runtime.instance().logger) },
    ...tuning,
  });
}
