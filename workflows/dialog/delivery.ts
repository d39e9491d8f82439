/**
 * How a turn's replies and record reach the activities (activities/delivery.ts). A turn without
 * media goes first to `deliverTurnOrHandOver`, a local activity inside the workflow task: no round
 * trip through the server, and a marker instead of an activity's events. It does not retry: at the
 * first failure, or when the replies take long, it says where it stopped and `deliverTurn`, a
 * retried and heartbeating activity, goes on from there. Turns with media, and turns past the
 * task's budget of local deliveries, go to `deliverTurn` at once.
 */
import type { ChatAddress, Reply, PartsSent, TurnDelivery, TurnRecord } from '../../src/dialog/contract';
import { deliverTurn, deliverTurnOrHandOver, failureMessage } from './activities';
import { local, TaskTakenOver } from './sdk-workarounds';
import { type Dialog, nowIso } from './state';
import type { WorkflowTask } from './task';
import type { Turn } from './turn';

function summaryOf(turn: Turn, dialog: Dialog, replies: Reply[], recorded: boolean): string {
  const what = `deliver ${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
  if (!recorded) return what;
  const { state } = dialog;
  return `${what} and record turn ${turn.number}: ${turn.from.step ?? '-'} → ${state.currentStep ?? '-'} (${state.status})`;
}

/**
 * Sends the replies the turn has made so far and, when `record` is given, records the turn. The
 * events of replies that could not be delivered join the turn's events (and its record).
 */
export async function deliver(dialog: Dialog, task: WorkflowTask, turn: Turn, record?: () => TurnRecord): Promise<void> {
  let replies = turn.replies.splice(0);
  if (replies.length === 0 && !record) return;
  const chat: ChatAddress = {
    botId: dialog.botId,
    platform: dialog.platform,
    chatId: dialog.chatId,
    replyContext: dialog.replyContext,
    lastUserMessageAt: dialog.lastUserMessageAt,
    handoff: turn.from.status === 'handoff' || dialog.state.status === 'handoff',
  };
  const delivery = (sending: Reply[], resume?: PartsSent): TurnDelivery => ({ chat, replies: sending, record: record?.(), resume, at: nowIso() });
  let resume: PartsSent | undefined;

  // Media can take long to upload: those turns go to the activity at once.
  if (replies.every((reply) => !reply.message.media?.length) && task.mayDeliverLocally()) {
    task.countLocalTurn();
    try {
      const summary = summaryOf(turn, dialog, replies, record !== undefined);
      const attempt = await local(deliverTurnOrHandOver.executeWithOptions({ summary }, [delivery(replies)]));
      turn.events.push(...attempt.failed);
      if (!attempt.unfinished) return;
      const { reply, ...stopped } = attempt.unfinished;
      replies = replies.slice(reply);
      resume = stopped;
    } catch (error) {
      if (error instanceof TaskTakenOver) throw error;
      // The local attempt failed as a whole: the activity starts over, and skips the replies
      // already delivered by their transcript rows.
    }
  }
  try {
    const summary = summaryOf(turn, dialog, replies, record !== undefined);
    const { failed } = await task.outside(deliverTurn.executeWithOptions({ summary }, [delivery(replies, resume)]));
    turn.events.push(...failed);
  } catch (error) {
    // Out of retries (a platform down for the whole schedule-to-close): the turn is still recorded.
    const reason = failureMessage(error);
    for (const reply of replies) turn.events.push({ kind: 'error', step: reply.step, at: nowIso(), data: { code: 'send_failed', message: reason } });
    if (record) await task.outside(deliverTurn.executeWithOptions({ summary: `record turn ${turn.number}` }, [delivery([])]));
  }
}
