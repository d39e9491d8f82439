/**
 * What operators and the API reach in a running dialog: its signals, its `state` query and its
 * updates, each update checked when it arrives and again when its turn comes in the queue.
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { RecordedEvent } from '../../src/dialog/contract';
import { changedData, stepOf } from '../../src/engine/advance';
import { checkData, TooLarge } from '../../src/engine/bounds';
import type { JsonValue } from '../../src/engine/types';
import {
  botActivatedSignal,
  closeUpdate,
  FAILURE,
  type ResetRequest,
  resetUpdate,
  stateQuery,
  type UpdateStateRequest,
  updateStateUpdate,
  userMessageSignal,
} from '../messages';
import type { OperatorItem, WorkQueue } from './queue';
import { ensureScenario } from './scenario';
import { conversationStarted, type Dialog, nowIso, resetMessage, snapshotOf } from './state';
import type { WorkflowTask } from './task';
import { runTurn } from './turn';

function checkUpdate(dialog: Dialog, request: UpdateStateRequest): void {
  const { revision, scenario } = dialog;
  if (request.expected_version !== revision) {
    throw ApplicationFailure.nonRetryable(`expected_version ${request.expected_version} is stale: the dialog is at version ${revision}`, FAILURE.staleVersion, {
      version: revision,
    });
  }
  if (request.current_step !== undefined && !(scenario && stepOf(scenario.data, request.current_step))) {
    throw ApplicationFailure.nonRetryable(
      `step "${request.current_step}" does not exist in scenario version ${scenario?.version ?? '(none)'}`,
      FAILURE.unknownStep,
    );
  }
  if (request.collected_data === undefined) return;
  try {
    checkData(changedData(dialog.state.collectedData, request.collected_data, request.replace_data === true));
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    throw ApplicationFailure.nonRetryable(`collected_data would be too large: ${error.message}`, FAILURE.dataTooLarge, { code: error.code });
  }
}

function checkReset(dialog: Dialog, request: ResetRequest): void {
  const step = typeof request.to_checkpoint === 'string' ? request.to_checkpoint : undefined;
  if (step === undefined) return;
  const { scenario } = dialog;
  const found = scenario ? stepOf(scenario.data, step) : undefined;
  if (!found) throw ApplicationFailure.nonRetryable(`step "${step}" does not exist in scenario version ${scenario?.version ?? '(none)'}`, FAILURE.unknownStep);
  if (!found.checkpoint) throw ApplicationFailure.nonRetryable(`step "${step}" is not a checkpoint (checkpoint: true)`, FAILURE.notACheckpoint);
}

export function setHandlers(dialog: Dialog, queue: WorkQueue): void {
  setHandler(userMessageSignal, (message) => queue.addMessage(message));
  setHandler(botActivatedSignal, () => {
    dialog.botActivations += 1;
  });
  setHandler(stateQuery, () => snapshotOf(dialog));
  setHandler(updateStateUpdate, (request) => queue.request({ kind: 'update', request }), {
    validator: (request: UpdateStateRequest) => checkUpdate(dialog, request),
  });
  setHandler(resetUpdate, (request) => queue.request({ kind: 'reset', request }), { validator: (request: ResetRequest) => checkReset(dialog, request) });
  setHandler(closeUpdate, (request) => queue.request({ kind: 'close', request }));
}

async function runRequest(dialog: Dialog, task: WorkflowTask, item: OperatorItem): Promise<void> {
  const step = dialog.state.currentStep;
  if (item.kind === 'update') {
    const at = nowIso();
    const { current_step: currentStep, collected_data: collectedData, replace_data: replaceData } = item.request;
    checkUpdate(dialog, item.request);
    dialog.lastInteractionAt = at;
    const data: JsonValue = { current_step: currentStep ?? null, variables: Object.keys(collectedData ?? {}) };
    await runTurn(
      dialog,
      task,
      { type: 'set_state', currentStep, collectedData, replaceData: replaceData === true },
      { leading: [{ kind: 'operator_update', step, at, data }] },
    );
  } else if (item.kind === 'reset') {
    const to = item.request.to_checkpoint;
    const fresh = !to;
    await ensureScenario(dialog, fresh);
    checkReset(dialog, item.request);
    const at = nowIso();
    if (fresh) dialog.startedAt = at;
    dialog.lastInteractionAt = at;
    const leading: RecordedEvent[] = [{ kind: 'operator_reset', step, at, data: { to_checkpoint: to } }];
    if (fresh && dialog.scenario) leading.push(conversationStarted(dialog, 'operator_reset'));
    await runTurn(dialog, task, { type: 'reset', toCheckpoint: to }, { leading, systemMessage: resetMessage(dialog, 'operator', to) });
  } else {
    const data = { reason: item.request.reason, merged_into: item.request.merged_into ?? null };
    const close = () => {
      dialog.state = { ...dialog.state, status: 'completed', currentStep: null, attempts: 0, reminders: 0 };
    };
    await runTurn(dialog, task, null, { leading: [{ kind: 'dialog_closed', step, at: nowIso(), data }], change: close });
  }
}

/** Runs an operator's request in its turn of the queue, and answers its update with the outcome. */
export async function takeRequest(dialog: Dialog, task: WorkflowTask, item: OperatorItem): Promise<void> {
  try {
    await runRequest(dialog, task, item);
    item.done = snapshotOf(dialog);
  } catch (error) {
    item.error = error instanceof Error ? error : new Error(String(error));
  }
}
