/**
 * Workarounds for behaviour of the Temporal SDK (1.24, its Rust core) that the dialog must not
 * depend on. Each says what it works around and when it can go.
 */
import { workflowInfo } from '@temporalio/workflow';

/**
 * When more than 100 events wait on a workflow task in flight, the server fails the task to write
 * them down (cause FORCE_CLOSE_COMMAND). If the task was running local activities, the SDK goes on
 * with the next task in the same run, in memory (it logs "Trying to send a new WFT for a run which
 * already has one!"). A replay cannot reproduce that run: an update accepted meanwhile lands where
 * a replay does not find it ("Update machine does not handle this event").
 *
 * A local activity that returns this many events after it began has come back in such a task: the
 * workflow fails the task, and the SDK replays the dialog from its history, where the commands of
 * the run continued in memory were never written. Deliveries already made are skipped by their
 * transcript rows. Never while replaying: a replay takes its tasks from the history.
 *
 * Waits for: the SDK to replay (or refuse) a run whose task the server failed while local
 * activities ran. No upstream issue is filed yet (temporalio/sdk-core, worker/workflow/managed_run.rs).
 */
const TASK_TAKEN_OVER_EVENTS = 100;

export class TaskTakenOver extends Error {}

/** Awaits a local activity, failing the workflow task when the SDK went on with another (above). */
export async function local<T>(run: Promise<T>): Promise<T> {
  const before = workflowInfo().historyLength;
  const settled = await run.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const { historyLength, unsafe } = workflowInfo();
  if (!unsafe.isReplaying && historyLength - before > TASK_TAKEN_OVER_EVENTS) {
    throw new TaskTakenOver(`workflow task taken over while a local activity ran (history ${before} → ${historyLength}): replaying from history`);
  }
  if ('error' in settled) throw settled.error;
  return settled.value;
}
