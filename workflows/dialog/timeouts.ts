/** The wait between turns: for the next work, or for the step's timeout (a durable timer). */
import { condition, setCurrentDetails } from '@temporalio/workflow';
import type { RecordedEvent } from '../../src/dialog/contract';
import { timeoutPolicy } from '../../src/engine/timeouts';
import { botIsActive } from './activities';
import type { WorkQueue } from './queue';
import { local } from './sdk-workarounds';
import { type Dialog, nowIso, showDetails } from './state';
import type { WorkflowTask } from './task';
import { runTurn } from './turn';

function describeDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/**
 * Whether a timeout that came due may act. An inactive bot's dialogs send nothing: the dialog
 * waits for the bot's activation or the next work, and the loop then arms the timer afresh, so
 * the reminders due meanwhile are not sent in a burst later.
 */
async function botAllowsTimeout(dialog: Dialog, queue: WorkQueue, task: WorkflowTask): Promise<boolean> {
  // Counted before asking: an activation between the answer and the wait still wakes it.
  const activationsBefore = dialog.botActivations;
  if (await local(botIsActive.executeWithOptions({ summary: 'is the bot active?' }, [{ botId: dialog.botId }]))) return true;
  setCurrentDetails(`bot inactive: timeout on "${dialog.state.currentStep ?? '-'}" held until it is activated again`);
  await task.outside(condition(() => !queue.isEmpty || dialog.botActivations > activationsBefore));
  showDetails(dialog);
  return false;
}

/**
 * Waits until there is work. A step waiting for input with a timeout arms a durable timer: it
 * survives worker and server restarts, any queued work cancels it, and when it fires first the
 * timeout's turn runs here.
 */
export async function waitForWork(dialog: Dialog, queue: WorkQueue, task: WorkflowTask): Promise<void> {
  const policy = dialog.scenario && queue.isEmpty ? timeoutPolicy(dialog.scenario.data, dialog.state) : null;
  if (!policy) {
    await task.outside(condition(() => !queue.isEmpty));
    return;
  }
  const { state } = dialog;
  const reminder = policy.action === 'remind' ? ` ${state.reminders + 1}/${policy.maxReminders}` : '';
  const summary = `timeout: ${policy.action}${reminder} after ${describeDuration(policy.afterMs)} on "${state.currentStep}"`;
  const woke = await task.outside(condition(() => !queue.isEmpty, policy.afterMs, { summary }));
  if (woke || !(await botAllowsTimeout(dialog, queue, task))) return;
  const action = policy.action === 'remind' && dialog.state.reminders >= policy.maxReminders ? policy.then : policy.action;
  const fired: RecordedEvent = { kind: 'timeout_fired', step: dialog.state.currentStep, at: nowIso(), data: { action, after_ms: policy.afterMs } };
  await runTurn(dialog, task, { type: 'timeout' }, { leading: [fired] });
}
