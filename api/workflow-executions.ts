/**
 * Execution housekeeping for api/dialog-client.ts, the API's one door to Temporal: visibility
 * lists, terminating and deleting runs. Nothing but that module imports this one.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

/** One run of a workflow. */
export type Run = { workflowId: string; runId: string };

/** gRPC `NOT_FOUND`: the execution is gone already (deleted, or never was). */
const NOT_FOUND = 5;

export const isNotFound = (error: unknown) =>
  (error as { code?: number; name?: string })?.code === NOT_FOUND || (error as { name?: string })?.name === 'WorkflowNotFoundError';

/** A quoted string of a visibility query; null for text a query cannot hold as it is. */
function queryString(value: string): string | null {
  return /['\\]/.test(value) ? null : `'${value}'`;
}

/** Runs a visibility query lists (which may lag behind the server by a moment). */
export async function listExecutions(temporal: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const execution of temporal.workflow.list({ query })) found.push(execution);
  return found;
}

/**
 * Terminates the workflow's current run if it is running. Returns that run's id (running or not) and
 * whether this call stopped it; undefined when the workflow does not exist.
 */
export async function terminateCurrentRun(temporal: Client, workflowId: string, reason: string): Promise<{ runId: string; terminated: boolean } | undefined> {
  try {
    const described = await temporal.workflow.getHandle(workflowId).describe();
    if (described.status.name !== 'RUNNING') return { runId: described.runId, terminated: false };
    await temporal.workflow.getHandle(workflowId, described.runId).terminate(reason);
    return { runId: described.runId, terminated: true };
  } catch (error) {
    // Gone, or finished between the two calls: nothing left to stop.
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deletes one run (terminating it first if it runs); false when it was gone already. */
export async function deleteRun(temporal: Client, workflowId: string, runId?: string): Promise<boolean> {
  try {
    await temporal.workflowService.deleteWorkflowExecution({
      namespace: temporal.options.namespace,
      workflowExecution: { workflowId, ...(runId ? { runId } : {}) },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Deletes the closed runs of a workflow: `knownRunIds` (a run just terminated, which visibility may
 * not show closed yet) and every closed run visibility lists under the id (those that continued as
 * new). A running run is left alone: it started after the caller terminated the workflow (a new
 * message), and holds nothing of before. Returns how many runs were deleted.
 */
export async function deleteClosedRuns(temporal: Client, workflowId: string, knownRunIds: readonly string[]): Promise<number> {
  const runIds = new Set(knownRunIds);
  const quoted = queryString(workflowId);
  if (quoted) {
    for (const run of await listExecutions(temporal, `WorkflowId = ${quoted}`)) {
      if (run.workflowId === workflowId && run.status.name !== 'RUNNING') runIds.add(run.runId);
    }
  }
  let deleted = 0;
  for (const runId of runIds) if (await deleteRun(temporal, workflowId, runId)) deleted++;
  return deleted;
}
