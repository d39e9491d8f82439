import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { activityMetrics } from './activity-metrics';

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
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(deps),
    interceptors: { activity: [activityMetrics] },
    maxCachedWorkflows: 2000,
    ...tuning,
  });
}
