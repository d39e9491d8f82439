/** When a run hands the dialog over to a new run, and what it carries. */
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { CarriedState, DialogWorkflowInput } from '../messages';
import type { WorkItem, WorkQueue } from './queue';
import type { Dialog } from './state';

/**
 * Continue-as-new past this many events. A dialog evicted from the worker's cache replays its
 * current run to answer (docs/performance.md, "evicted dialog"), so runs are kept short: 120
 * events are some 25 turns.
 */
export const HISTORY_LIMIT = 120;
/** A local delivery's marker, and room for the turn's search attribute change. */
const EVENTS_PER_LOCAL_TURN = 2;
/** The fewest events a message's turn adds: its signal and its delivery's marker. */
const MIN_EVENTS_PER_TURN = 2;

export interface RunSize {
  historyLimit: number;
  /** Turns this run has taken. */
  turns: number;
  /** Local deliveries of the open workflow task, whose markers are not in the history length yet. */
  localTurnsInTask: number;
  /** Whether the queue is empty: only then may the history length decide (below). */
  queueEmpty: boolean;
}

/**
 * Whether the run stops taking work and continues as new. The server's suggestion comes only with
 * thousands of events, before its hard limit would end the dialog. The history length the SDK
 * reports is that at the start of the workflow task; between turns it can differ on replay (when
 * the SDK continued a run in memory, ./sdk-workarounds.ts, the rest of a burst lands in the middle
 * of the task, where a replay has it from the start), so it is read only once the queue is empty.
 * Between turns the run goes by its own count of turns, so a queue that never empties still moves on.
 */
export function mustContinueAsNew(run: RunSize): boolean {
  const { historyLength, continueAsNewSuggested } = workflowInfo();
  if (continueAsNewSuggested || run.turns * MIN_EVENTS_PER_TURN > run.historyLimit) return true;
  return run.queueEmpty && historyLength + EVENTS_PER_LOCAL_TURN * run.localTurnsInTask > run.historyLimit;
}

/**
 * Continues as new, carrying everything the next run needs. Operator requests are update handlers
 * waiting for their reply: they run in this run, and so do the messages queued before them (order
 * is kept); later messages move to the next run. Returns (without continuing) when an operator
 * request arrived meanwhile: the caller takes it and comes back.
 */
export async function continueAsNewCarrying(
  dialog: Dialog,
  queue: WorkQueue,
  take: (item: WorkItem) => Promise<void>,
  historyLimit: number | undefined,
): Promise<void> {
  for (let count = queue.untilLastRequest(); count > 0; count = queue.untilLastRequest()) {
    for (let i = 0; i < count; i++) await take(queue.take());
  }
  await condition(allHandlersFinished);
  if (queue.untilLastRequest() > 0) return;
  const carried: CarriedState = {
    state: dialog.state,
    scenarioId: dialog.scenario?.id ?? null,
    revision: dialog.revision,
    turn: dialog.turn,
    seenIds: queue.seenIds,
    pending: queue.pendingMessages(),
    startedAt: dialog.startedAt,
    lastInteractionAt: dialog.lastInteractionAt,
    lastUserMessageAt: dialog.lastUserMessageAt,
    replyContext: dialog.replyContext,
  };
  await continueAsNew<(input: DialogWorkflowInput) => Promise<void>>({
    botId: dialog.botId,
    platform: dialog.platform,
    chatId: dialog.chatId,
    carried,
    historyLimit,
  });
}
