/**
 * How a turn's replies and record reach the platform and the database. Two entry points, one
 * protocol: the replies in order, each skipped when its transcript row says it went out already and
 * resumed after the parts an earlier attempt sent, then the turn's record in one transaction.
 *
 * - `deliverTurnOrHandOver` runs as a local activity inside the workflow task: no retries; at the
 *   first failure that may pass, or once it has sent for HAND_OVER_AFTER_MS, it stops and says where.
 * - `deliverTurn` runs as a retried activity and goes on from there (or does a whole turn), beating
 *   its heartbeat every second so a dead worker's attempt is retried within seconds.
 *
 * A reply the platform refuses for good becomes a `send_failed` event and the others still go out; one
 * that cannot go past Meta's 24-hour window (src/platforms/window.ts) a `send_skipped` event.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { dialogsRepository } from '../src/db/dialogs';
import { type PlatformSecrets, platformsRepository } from '../src/db/platforms';
import type { ChatAddress, Delivered, DeliveredOrHandedOver, RecordedEvent, Reply, PartsSent, TurnDelivery, TurnRecord } from '../src/dialog/contract';
import type { JsonValue } from '../src/engine/types';
import { CONNECTION_CACHE_TTL_MS, expiringCache } from '../src/expiring-cache';
import { getAdapter } from '../src/platforms';
import { CONSOLE_PLATFORM, type PlatformName, type SendProgress, type SendResult } from '../src/platforms/types';
import { hasWindow, type OutsideWindow, pastWindow, throughWindow, windowRefusal } from '../src/platforms/window';
import { connectionStatusRecorder } from './connection-status';
import { activityContext } from './context';
import { platformFailure } from './failures';
import type { ActivityDeps } from './index';
import { rememberSentMedia, resolveOutgoingMedia } from './media';
import { describeInput } from './transcript';
import { logTurn } from './turn-log';

/** How long a local attempt sends before it hands the rest of the turn over to `deliverTurn`. */
export const HAND_OVER_AFTER_MS = 2_000;

/** The parts sent of a reply, with the reply it belongs to, as heartbeat details carry it. */
type ReplyPartsSent = PartsSent & { reply: number };

const NOTHING_SENT: PartsSent = { partsSent: 0, messageIds: [], mediaFileIds: [] };

/** The parts sent in `details` when they belong to the reply at `index`; else nothing sent yet. */
function partsSentOf(details: unknown, index: number): PartsSent {
  const value = details as Partial<ReplyPartsSent> | undefined;
  if (!value || typeof value.partsSent !== 'number' || !Array.isArray(value.messageIds)) return NOTHING_SENT;
  if ((value.reply ?? 0) !== index) return NOTHING_SENT;
  return { partsSent: value.partsSent, messageIds: value.messageIds, mediaFileIds: Array.isArray(value.mediaFileIds) ? value.mediaFileIds : [] };
}

/** How far the turn's sending got; a heartbeat carries it to the next attempt. */
interface Progress {
  /** The latest parts sent; at first the one an earlier attempt left. */
  latest: ReplyPartsSent | undefined;
  report(sentSoFar: ReplyPartsSent): void;
  /** Keeps the latest parts sent for the next attempt now, not at the next beat. */
  save(): void;
}

/** Progress kept in memory; `save` (a heartbeat) hands it to the next attempt when there is one. */
function trackProgress(resume: ReplyPartsSent | undefined, save?: (latest: ReplyPartsSent | undefined) => void): Progress {
  const progress: Progress = {
    latest: resume,
    report: (sentSoFar) => {
      progress.latest = sentSoFar;
    },
    save: () => save?.(progress.latest),
  };
  return progress;
}

/**
 * Runs `work` while heartbeating every second with the latest progress (at first the previous
 * attempt's), for the whole activity, database waits included: a slow but live attempt is never
 * taken for a dead one, which a second attempt beside it could make send twice.
 */
async function withHeartbeat<T>(resume: ReplyPartsSent | undefined, work: (progress: Progress) => Promise<T>): Promise<T> {
  const context = activityContext();
  const previous = context?.info.heartbeatDetails as ReplyPartsSent | undefined;
  const progress = trackProgress(previous ?? resume, (latest) => context?.heartbeat(latest));
  const timer = context ? setInterval(() => progress.save(), 1000) : undefined;
  try {
    return await work(progress);
  } finally {
    clearInterval(timer);
  }
}

/** A chat on a connected platform; the console's chat is its transcript, so nothing is sent there. */
type PlatformChat = ChatAddress & { platform: PlatformName };
const onPlatform = (chat: ChatAddress): chat is PlatformChat => chat.platform !== CONSOLE_PLATFORM;

const sendFailed = (reply: Reply, reason: string): RecordedEvent => ({
  kind: 'error',
  step: reply.step,
  at: new Date().toISOString(),
  data: { code: 'send_failed', message: reason },
});

/** The failure type of a reply that cannot go past Meta's 24-hour window: not retried, recorded as `send_skipped`. */
const OUTSIDE_WINDOW = 'OutsideWindow';

const sendSkipped = (reply: Reply, platform: string, reason: string): RecordedEvent => ({
  kind: 'error',
  step: reply.step,
  at: new Date().toISOString(),
  data: { code: 'send_skipped', reason: 'outside_24h_window', platform, message: reason },
});

export function createDelivery(deps: ActivityDeps) {
  const dialogs = dialogsRepository(deps.db);
  const platforms = platformsRepository(deps.db, { current: deps.config.encryptionKey });
  // Read and decrypted for every reply otherwise; a change made elsewhere shows within the TTL.
  const connections = expiringCache<PlatformSecrets>(CONNECTION_CACHE_TTL_MS);
  const connectionStatus = connectionStatusRecorder(deps.db, deps.log);

  /** The reply's transcript row: the record that it went out, and on the console the chat itself (idempotent). */
  async function recordReply(chat: ChatAddress, reply: Reply, platformMessageId: string | null): Promise<void> {
    const key = { bot_id: chat.botId, platform: chat.platform, chat_id: chat.chatId };
    await dialogs.appendTranscript(key, [
      {
        message_type: 'bot',
        text: reply.message.text ?? null,
        payload: reply.message as unknown as JsonValue,
        step: reply.step,
        platform_message_id: platformMessageId,
        dedupe_key: reply.dedupeKey,
        created_at: new Date().toISOString(),
      },
    ]);
  }

  /** How a reply goes past Meta's 24-hour window (src/platforms/window.ts); undefined inside it or where there is none. */
  async function throughWindowOf(chat: PlatformChat, reply: Reply, now: number): Promise<{ outside: OutsideWindow } | { skip: string } | undefined> {
    if (!hasWindow(chat.platform)) return undefined;
    const age = pastWindow(chat.lastUserMessageAt, now);
    if (age === null) return undefined;
    const settings = (await platforms.get(chat.botId, chat.platform))?.settings ?? {};
    return throughWindow({ platform: chat.platform, message: reply.message, age, handoff: chat.handoff === true, settings });
  }

  /** Sends one reply, unless its transcript row says it went out; `index` is its place in the turn, `now` the time the window is judged at. */
  async function sendReply(chat: PlatformChat, reply: Reply, index: number, progress: Progress, now: number): Promise<void> {
    const context = { bot_id: chat.botId, platform: chat.platform, chat_id: chat.chatId, workflow_id: activityContext()?.info.workflowExecution?.workflowId };
    if (await dialogs.findTranscriptEntry(reply.dedupeKey)) {
      deps.log.debug({ event: 'DEBUG', ...context, step: reply.step, dedupe_key: reply.dedupeKey }, 'send already delivered: not sent again');
      return;
    }
    const secrets = await connections.get(`${chat.botId}:${chat.platform}`, async () => {
      const found = await platforms.secrets(chat.botId, chat.platform);
      if (!found) throw ApplicationFailure.nonRetryable(`The bot has no ${chat.platform} connection.`, 'PlatformNotConnected');
      return found;
    });
    const resolved = await resolveOutgoingMedia(deps, chat.botId, chat.platform, reply.message);
    // A retry resumes after the parts earlier attempts delivered: the user never gets one twice.
    let sentSoFar = partsSentOf(progress.latest, index);
    const resumedAt = sentSoFar.partsSent;
    // A reply begun inside the window goes on as it began (the platform's refusal is mapped below).
    const windowed = resumedAt === 0 ? await throughWindowOf(chat, reply, now) : undefined;
    if (windowed && 'skip' in windowed) {
      deps.log.warn(
        { event: 'ERROR', ...context, step: reply.step, code: 'send_skipped', reason: 'outside_24h_window' },
        'send skipped: past the 24-hour window',
      );
      throw ApplicationFailure.nonRetryable(windowed.skip, OUTSIDE_WINDOW);
    }
    const parts: SendProgress = {
      done: resumedAt,
      onPartSent(part) {
        sentSoFar = {
          partsSent: part.partsSent,
          messageIds: [...sentSoFar.messageIds, ...part.messageIds],
          mediaFileIds: [...sentSoFar.mediaFileIds, ...(part.mediaFileIds ?? [])],
        };
        progress.report({ reply: index, ...sentSoFar });
      },
    };
    const attempt = activityContext()?.info.attempt;
    if (resumedAt > 0)
      deps.log.debug({ event: 'DEBUG', ...context, step: reply.step, attempt, parts_sent: resumedAt }, 'send resumed after the parts already delivered');
    let sent: SendResult;
    try {
      sent = await getAdapter(chat.platform).send(
        { apiBase: deps.config.apiBases[chat.platform], fetch: deps.fetch },
        secrets.credentials,
        chat.chatId,
        resolved.message,
        chat.replyContext,
        parts,
        windowed?.outside,
      );
    } catch (error) {
      // Parts are not each saved as they go (a heartbeat is a write on the Temporal server, and most
      // replies are one part); the periodic beat covers a worker that dies during a long send.
      if (sentSoFar.partsSent > resumedAt) progress.save();
      deps.log.error({ event: 'ERROR', ...context, step: reply.step, attempt, parts_sent: sentSoFar.partsSent, err: error }, 'send failed');
      await connectionStatus.failed(chat.botId, chat.platform, error);
      const refused = windowRefusal(error);
      if (refused) throw ApplicationFailure.nonRetryable(refused, OUTSIDE_WINDOW);
      throw platformFailure(error);
    }
    const result: SendResult = sent.mediaFileIds
      ? { messageIds: sentSoFar.messageIds, mediaFileIds: sentSoFar.mediaFileIds }
      : { messageIds: sentSoFar.messageIds };
    await rememberSentMedia(deps, chat.platform, resolved, result);
    await recordReply(chat, reply, result.messageIds.join(','));
    // After the transcript row, which is what keeps a retry from sending the reply again.
    await connectionStatus.sent(chat.botId, chat.platform);
    const { text, media } = reply.message;
    deps.log.info(
      { event: 'OUTGOING', ...context, step: reply.step, message_ids: result.messageIds, text_length: text?.length ?? 0, media: media?.length ?? 0 },
      'message sent',
    );
  }

  /** The user's message, the turn's events and the new state, in one transaction (idempotent). */
  async function recordTurn(record: TurnRecord): Promise<void> {
    const { projection, incoming, systemMessage } = record;
    const key = { bot_id: projection.bot_id, platform: projection.platform, chat_id: projection.chat_id };
    await deps.db.transaction(async (trx) => {
      const repo = dialogsRepository(trx);
      if (incoming) {
        const payload = incoming.storeError ? { ...incoming.input, store_error: incoming.storeError } : incoming.input;
        await repo.appendTranscript(key, [
          {
            message_type: 'user',
            text: describeInput(incoming.input),
            payload,
            step: incoming.step,
            platform_message_id: incoming.messageId,
            dedupe_key: `in:${key.bot_id}:${key.platform}:${key.chat_id}:${incoming.messageId}`,
            created_at: incoming.at,
          },
        ]);
      }
      if (systemMessage) {
        const { text, payload, step, at } = systemMessage;
        await repo.appendTranscript(key, [{ message_type: 'system', text, payload, step, dedupe_key: `${record.turnKey}:system`, created_at: at }]);
      }
      const events = record.events.map((e, i) => ({ kind: e.kind, step: e.step, data: e.data, dedupe_key: `${record.turnKey}:event:${i}`, created_at: e.at }));
      await repo.appendEvents(key, record.scenarioId, events);
      await repo.saveProjection(projection);
    });
    logTurn(deps.log, record);
  }

  /** The protocol both entry points follow; with `handOverAt`, it stops instead of failing. */
  async function deliver(delivery: TurnDelivery, progress: Progress, handOverAt?: number): Promise<DeliveredOrHandedOver> {
    const failed: RecordedEvent[] = [];
    const now = Math.max(Date.now(), Date.parse(delivery.at ?? '') || 0);
    for (const [index, reply] of delivery.replies.entries()) {
      if (handOverAt !== undefined && index > 0 && Date.now() > handOverAt) return { failed, unfinished: { reply: index, ...NOTHING_SENT } };
      try {
        await (onPlatform(delivery.chat) ? sendReply(delivery.chat, reply, index, progress, now) : recordReply(delivery.chat, reply, null));
      } catch (error) {
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          failed.push(error.type === OUTSIDE_WINDOW ? sendSkipped(reply, delivery.chat.platform, error.message) : sendFailed(reply, error.message));
        } else if (handOverAt !== undefined) return { failed, unfinished: { reply: index, ...partsSentOf(progress.latest, index) } };
        else throw error;
      }
    }
    if (delivery.record) await recordTurn({ ...delivery.record, events: [...delivery.record.events, ...failed] });
    return { failed };
  }

  const resumeOf = (delivery: TurnDelivery): ReplyPartsSent | undefined => delivery.resume && { reply: 0, ...delivery.resume };

  return {
    async deliverTurn(delivery: TurnDelivery): Promise<Delivered> {
      return withHeartbeat(resumeOf(delivery), (progress) => deliver(delivery, progress));
    },

    async deliverTurnOrHandOver(delivery: TurnDelivery): Promise<DeliveredOrHandedOver> {
      // A local attempt dies with its workflow task: its progress is kept in memory only.
      return deliver(delivery, trackProgress(resumeOf(delivery)), Date.now() + HAND_OVER_AFTER_MS);
    },
  };
}
