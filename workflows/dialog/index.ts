/**
 * One dialog: one bot on one platform with one chat, for as long as that chat lives. A loop over
 * the dialog's queue of work (./queue.ts): wait for work or a timeout, take the queued items one
 * by one, and continue as new when the run is long (./continue-as-new.ts).
 */
import type { DialogWorkflowInput } from '../messages';
import { continueAsNewCarrying, HISTORY_LIMIT, mustContinueAsNew } from './continue-as-new';
import { setHandlers, takeRequest } from './operator';
import { type WorkItem, WorkQueue } from './queue';
import { ensureScenario } from './scenario';
import { openDialog, setMissingSearchAttributes, showDetails } from './state';
import { WorkflowTask } from './task';
import { waitForWork } from './timeouts';
import { takeMessage } from './user-message';

export async function dialogWorkflow(input: DialogWorkflowInput): Promise<void> {
  const dialog = openDialog(input);
  const queue = new WorkQueue(input.carried);
  const task = new WorkflowTask();
  setHandlers(dialog, queue);
  setMissingSearchAttributes(dialog);
  await ensureScenario(dialog, false);
  showDetails(dialog);

  const take = (item: WorkItem) => (item.kind === 'message' ? takeMessage(dialog, task, item) : takeRequest(dialog, task, item));
  const firstTurn = dialog.turn;
  const historyLimit = input.historyLimit ?? HISTORY_LIMIT;
  const due = () => mustContinueAsNew({ historyLimit, turns: dialog.turn - firstTurn, localTurnsInTask: task.localTurns, queueEmpty: queue.isEmpty });

  for (;;) {
    await waitForWork(dialog, queue, task);
    while (!queue.isEmpty && !due()) await take(queue.take());
    if (due()) await continueAsNewCarrying(dialog, queue, take, input.historyLimit);
  }
}
