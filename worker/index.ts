import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityMetrics } from './activity-metrics';

/**
 * Modules of the workflow bundle that keep no per-workflow state: the phone-number library and the
 * pure scenario engine. With reuseV8Context (the default) every module a workflow loads is
 * evaluated again for each workflow in the cache; these are evaluated once per worker thread and
 * shared (frozen) instead, which makes each cached dialog smaller and each new one quicker to start.
 */
export const SHARED_WORKFLOW_MODULES = ['libphonenumber-js/min', require.resolve('../src/engine/advance'), require.resolve('../src/engine/timeouts')];

export interface DialogWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Extra worker tuning (cache size, concurrency); the defaults suit one process on a small box. */
  tuning?: Partial<WorkerOptions>;
}

export async function createWorker(options: DialogWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, tuning, ...deps } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createActivities(deps),
    interceptors: { activity: [activityMetrics] },
    maxCachedWorkflows: 1000,
    // Workflow code runs on these threads, not on the main one; with one (the SDK's default when V8
    // contexts are reused) a busy worker cannot use a second core for its dialogs.
    workflowThreadPoolSize: 2,
    // A prebuilt bundle (tests, bench) was given its preload list when it was built.
    ...(tuning?.workflowBundle ? {} : { workflowsPath: require.resolve('../workflows'), bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES } }),
    ...tuning,
  });
}
