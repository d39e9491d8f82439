/**
 * One turn: the engine runs on an input and the workflow carries out what it asks, in order; then
 * the turn's replies go out and its record is written (./delivery.ts).
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { RecordedEvent, Reply, TurnRecord } from '../../src/dialog/contract';
import { advance } from '../../src/engine/advance';
import type { DialogStatus, EngineInput } from '../../src/engine/types';
import type { IncomingMessage } from '../../src/platforms/types';
import { searchAttributes } from '../messages';
import { failureMessage, httpRequest, requestFailureCode } from './activities';
import { deliver } from './delivery';
import { type Dialog, nowIso, showDetails, snapshotOf } from './state';
import type { WorkflowTask } from './task';

export interface Turn {
  number: number;
  /** The idempotency key of the turn's rows and replies. */
  key: string;
  /** Where the dialog was before the turn. */
  from: { status: DialogStatus; step: string | null };
  events: RecordedEvent[];
  /** Replies made and not yet handed to an activity. */
  replies: Reply[];
  repliesMade: number;
}

export interface TurnOptions {
  /** The user's message the turn answers (with the file it carried stored, when that worked). */
  incoming?: { message: IncomingMessage; receivedAt: string; storeError?: string };
  /** Facts the workflow itself knows (a new conversation, an operator's change, a timeout); they come first. */
  leading?: RecordedEvent[];
  systemMessage?: TurnRecord['systemMessage'];
  /** A change of state made by the workflow rather than the engine (an operator closing the dialog). */
  change?: () => void;
}

/** Runs the engine on `input` (if any) and carries out what it asks; then records the turn. */
export async function runTurn(dialog: Dialog, task: WorkflowTask, input: EngineInput | null, options: TurnOptions = {}): Promise<void> {
  dialog.turn += 1;
  const turn: Turn = {
    number: dialog.turn,
    key: `${dialog.firstRunId}:${dialog.turn}`,
    from: { status: dialog.state.status, step: dialog.state.currentStep },
    events: [...(options.leading ?? [])],
    replies: [],
    repliesMade: 0,
  };
  options.change?.();
  if (input) await runEngine(dialog, task, turn, input);

  dialog.revision += 1;
  if (options.incoming) dialog.lastInteractionAt = options.incoming.receivedAt;
  const { status, currentStep } = dialog.state;
  if (turn.from.status !== status || turn.from.step !== currentStep) {
    turn.events.push({
      kind: 'state_changed',
      step: currentStep,
      at: nowIso(),
      data: { from_status: turn.from.status, to_status: status, from_step: turn.from.step, to_step: currentStep },
    });
    upsertSearchAttributes([
      { key: searchAttributes.dialogStatus, value: status },
      { key: searchAttributes.currentStep, value: currentStep ?? '' },
    ]);
  }
  showDetails(dialog);
  await deliver(dialog, task, turn, () => recordOf(dialog, turn, options));
}

async function runEngine(dialog: Dialog, task: WorkflowTask, turn: Turn, input: EngineInput): Promise<void> {
  const scenario = dialog.scenario;
  if (!scenario) {
    turn.events.push({ kind: 'error', step: null, at: nowIso(), data: { code: 'no_active_scenario', message: 'The bot has no active scenario.' } });
    return;
  }
  for (let next: EngineInput | null = input; next;) {
    const result = advance(scenario.data, dialog.state, next);
    dialog.state = result.state;
    next = null;
    for (const effect of result.effects) {
      if (effect.type === 'event') {
        turn.events.push({ kind: effect.event.kind, step: 'step' in effect.event ? effect.event.step : null, at: nowIso(), data: effect.event });
      } else if (effect.type === 'send') {
        turn.repliesMade += 1;
        turn.replies.push({ message: effect.message, step: effect.step, dedupeKey: `${turn.key}:send:${turn.repliesMade}` });
      } else if (effect.type === 'http_request') {
        // Replies the engine produced before the call go out before it is made.
        await deliver(dialog, task, turn);
        try {
          const value = await task.outside(httpRequest.executeWithOptions({ summary: `http_request of step "${effect.step}"` }, [effect.request]));
          next = { type: 'action_result', step: effect.step, ok: true, value };
        } catch (error) {
          next = { type: 'action_result', step: effect.step, ok: false, error: failureMessage(error), code: requestFailureCode(error) };
        }
      } else if (effect.type === 'handoff') {
        turn.events.push({ kind: 'handoff', step: effect.step, at: nowIso(), data: { reason: effect.reason ?? null } });
      }
    }
  }
}

function recordOf(dialog: Dialog, turn: Turn, options: TurnOptions): TurnRecord {
  const { incoming, systemMessage } = options;
  return {
    turnKey: turn.key,
    scenarioId: dialog.scenario?.id ?? null,
    incoming: incoming && {
      messageId: incoming.message.messageId,
      input: incoming.message.input,
      step: turn.from.step,
      at: incoming.receivedAt,
      storeError: incoming.storeError,
    },
    systemMessage,
    events: [...turn.events],
    projection: snapshotOf(dialog),
  };
}
