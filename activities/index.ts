import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { botsRepository } from '../src/db/bots';
import { dialogsRepository, type DialogKey, type DialogRecord } from '../src/db/dialogs';
import { type PlatformSecrets, platformsRepository } from '../src/db/platforms';
import { CONNECTION_CACHE_TTL_MS, expiringCache } from '../src/expiring-cache';
import { type ScenarioRoute, scenariosRepository } from '../src/db/scenarios';
import type { JsonValue, OutgoingMessage, Scenario, UserInput } from '../src/engine/types';
import type { LogEvent, Logger } from '../src/log';
import { getAdapter } from '../src/platforms';
import type { PlatformName, SendProgress, SendResult } from '../src/platforms/types';
import { platformFailure } from './failures';
import { createHttpRequest } from './http-request';
import { createMediaActivities, incomingForTranscript, rememberSentMedia, resolveOutgoingMedia } from './media';

export interface LoadedScenario {
  id: string;
  /** The scenario's name (its versions share it); absent in histories from before triggers. */
  name?: string;
  version: number;
  data: Scenario;
  /** The triggers of the bot's active scenarios as they were at loading, when asked for. */
  routes?: ScenarioRoute[];
}

export type { ScenarioRoute };

/**
 * How long a worker goes on matching messages against a bot's trigger table that an operator
 * changed: the table is read when a dialog starts or refreshes its own, and changes rarely.
 */
export const ROUTES_CACHE_TTL_MS = 5_000;

export interface SendMessageInput {
  botId: string;
  platform: PlatformName;
  chatId: string;
  message: OutgoingMessage;
  step: string | null;
  /** Unique per send of a dialog; a retried activity with a key already delivered sends nothing. */
  dedupeKey: string;
  replyContext?: Record<string, string>;
}

export interface RecordedEvent {
  kind: string;
  step: string | null;
  at: string;
  data?: JsonValue;
}

export interface RecordTurnInput {
  key: DialogKey;
  /** `${firstExecutionRunId}:${turn}`: unique per turn of a dialog, the idempotency key of its rows. */
  turnKey: string;
  scenarioId: string | null;
  incoming?: { messageId: string; input: UserInput; step: string | null; at: string };
  /** A `system` history row: what happened to the dialog that no message says (a reset). */
  systemMessage?: { text: string; payload: JsonValue; step: string | null; at: string };
  events: RecordedEvent[];
  projection: DialogRecord;
}

/** A turn's replies, then its record: one activity per turn, so a turn costs one round trip. */
export interface DeliverTurnInput {
  sends: SendMessageInput[];
  /** Written after the sends, with a reply that could not be delivered as an `error` event. */
  record?: RecordTurnInput;
  /** Where an earlier (local) attempt stopped: the first reply resumes after these parts. */
  resume?: SendCheckpoint;
  /**
   * Set on the local attempt: rather than retry, it stops at the first failure, or before a reply
   * once this long has passed, and says where (`unfinished`), for an activity to go on from there.
   */
  handOverAfterMs?: number;
}

export interface DeliverTurnResult {
  /** The `send_failed` events of replies the platform refused for good (also in the record). */
  failed: RecordedEvent[];
  /** Handed over: the reply at `send` (and those after it) and the record are still to do. */
  unfinished?: SendCheckpoint & { send: number };
}

export interface ActivityDeps {
  db: Db;
  config: Config;
  log: Logger;
  fetch?: typeof fetch;
}

/** A readable one-line form of what the user sent, for the transcript. */
export function describeInput(input: UserInput): string {
  switch (input.kind) {
    case 'text':
      return input.text;
    case 'button':
      return input.text ?? input.value;
    case 'command':
      return input.args ? `${input.command} ${input.args}` : input.command;
    case 'media':
      return input.media.caption ?? `[${input.media.type}]`;
    case 'location':
      return `[location ${input.latitude},${input.longitude}]`;
    case 'contact':
      return `[contact ${input.name ?? ''} ${input.phone}]`.replace(/\s+/g, ' ');
  }
}

/** The workflow an activity runs for, when it runs inside Temporal (log context). */
function currentWorkflowId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

/**
 * Runs the activity's work while heartbeating every second, so Temporal notices within the
 * heartbeat timeout when the worker running it died, and retries it elsewhere instead of waiting
 * out the start-to-close timeout. Each beat carries the latest details the work `report`ed (at
 * first those of the previous attempt), so the periodic beat never overwrites progress.
 */
async function withHeartbeat<T>(work: (progress: Progress) => Promise<T>, handedOver?: unknown): Promise<T> {
  const context = currentContext();
  const progress: Progress = {
    latest: context?.info.heartbeatDetails ?? handedOver,
    report(details) {
      progress.latest = details;
    },
  };
  // A local activity runs inside its workflow task, which Temporal watches instead.
  const beat = context && !context.info.isLocal ? setInterval(() => context.heartbeat(progress.latest), 1000) : undefined;
  try {
    return await work(progress);
  } finally {
    clearInterval(beat);
  }
}

/** How far a send got: the details of the last beat (at first the previous attempt's). */
interface Progress {
  latest: unknown;
  report(details: unknown): void;
}

/** The activity's context when it runs inside Temporal. */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * How far earlier attempts of this send got: the heartbeat details they recorded after each part
 * (Temporal hands the last recorded details to the next attempt of the same activity).
 */
export interface SendCheckpoint {
  partsSent: number;
  messageIds: string[];
  mediaFileIds: (string | null)[];
}

/** The checkpoint in heartbeat details, when they belong to the send at `index` of the activity. */
function checkpointOf(details: unknown, index = 0): SendCheckpoint {
  const value = details as (Partial<SendCheckpoint> & { send?: number }) | undefined;
  const fresh = { partsSent: 0, messageIds: [], mediaFileIds: [] };
  if (!value || typeof value.partsSent !== 'number' || !Array.isArray(value.messageIds)) return fresh;
  if ((value.send ?? 0) !== index) return fresh;
  return { partsSent: value.partsSent, messageIds: value.messageIds, mediaFileIds: Array.isArray(value.mediaFileIds) ? value.mediaFileIds : [] };
}

/** Log event types of the engine's events (src/log.ts LogEvent); the others are DEBUG lines. */
const EVENT_LOG_TYPES: Record<string, LogEvent> = {
  variable_set: 'VARIABLE_UPDATE',
  condition_evaluated: 'CONDITION_EVAL',
  auto_transition: 'AUTO_TRANSITION',
  state_changed: 'STATE_CHANGE',
  error: 'ERROR',
};

function attemptOf(): number | undefined {
  try {
    return Context.current().info.attempt;
  } catch {
    return undefined;
  }
}

/** Event data safe for logs: everything but collected values. */
function redactValues(kind: string, data: Record<string, JsonValue>): Record<string, JsonValue> {
  if (kind !== 'operator_update') return data;
  return { current_step: data.current_step ?? null, variables: data.variables ?? [] };
}

/** Every side effect of a dialog. Each one is safe to retry. */
export function createActivities(deps: ActivityDeps) {
  const dialogs = dialogsRepository(deps.db);
  const scenarios = scenariosRepository(deps.db);
  const bots = botsRepository(deps.db);
  const platforms = platformsRepository(deps.db, { current: deps.config.encryptionKey });
  // Read and decrypted for every reply otherwise; a change made elsewhere shows within the TTL.
  const connections = expiringCache<PlatformSecrets>(CONNECTION_CACHE_TTL_MS);
  const scenarioCache = new Map<string, { botId: string; loaded: LoadedScenario }>();
  const routesCache = expiringCache<ScenarioRoute[]>(ROUTES_CACHE_TTL_MS);
  const routesOf = (botId: string) => routesCache.get(botId, () => scenarios.routes(botId));

  /**
   * Delivers one reply, unless an earlier attempt did; `index` is its place in the activity.
   * Its progress goes to `progress`, the heartbeat details of the activity's periodic beat.
   */
  async function sendReply(input: SendMessageInput, index: number, progress: Progress): Promise<{ messageIds: string[] }> {
    const context = { bot_id: input.botId, platform: input.platform, chat_id: input.chatId, workflow_id: currentWorkflowId() };
    const delivered = await dialogs.findTranscriptEntry(input.dedupeKey);
    if (delivered) {
      deps.log.debug({ event: 'DEBUG', ...context, step: input.step, dedupe_key: input.dedupeKey }, 'send already delivered: not sent again');
      return { messageIds: delivered.platform_message_id ? delivered.platform_message_id.split(',') : [] };
    }

    const secrets = await connections.get(`${input.botId}:${input.platform}`, async () => {
      const found = await platforms.secrets(input.botId, input.platform);
      if (!found) throw ApplicationFailure.nonRetryable(`The bot has no ${input.platform} connection.`, 'PlatformNotConnected');
      return found;
    });
    const adapter = getAdapter(input.platform);
    const platformContext = { apiBase: deps.config.apiBases[input.platform], fetch: deps.fetch };
    const resolved = await resolveOutgoingMedia(deps, input.botId, input.platform, input.message);
    // A retry resumes after the parts earlier attempts delivered: the user never gets one twice.
    const activity = currentContext();
    let checkpoint = checkpointOf(progress.latest, index);
    const resumedAt = checkpoint.partsSent;
    const partsProgress: SendProgress = {
      done: checkpoint.partsSent,
      onPartSent(part) {
        checkpoint = {
          partsSent: part.partsSent,
          messageIds: [...checkpoint.messageIds, ...part.messageIds],
          mediaFileIds: [...checkpoint.mediaFileIds, ...(part.mediaFileIds ?? [])],
        };
        progress.report({ send: index, ...checkpoint });
      },
    };
    if (resumedAt > 0) {
      deps.log.debug({ event: 'DEBUG', ...context, step: input.step, attempt: attemptOf(), parts_sent: resumedAt }, 'send resumed after the parts already delivered');
    }
    let sent: SendResult;
    try {
      sent = await adapter.send(platformContext, secrets.credentials, input.chatId, resolved.message, input.replyContext, partsProgress);
    } catch (error) {
      // The next attempt starts from here. Parts are not each reported as they go: a heartbeat is a
      // write on the Temporal server, and most replies are one part; the periodic beat covers a
      // worker that dies during a long send.
      if (checkpoint.partsSent > resumedAt && !activity?.info.isLocal) activity?.heartbeat({ send: index, ...checkpoint });
      deps.log.error(
        { event: 'ERROR', ...context, step: input.step, attempt: attemptOf(), parts_sent: checkpoint.partsSent, err: error },
        'send failed',
      );
      throw platformFailure(error);
    }
    const result: SendResult = sent.mediaFileIds
      ? { messageIds: checkpoint.messageIds, mediaFileIds: checkpoint.mediaFileIds }
      : { messageIds: checkpoint.messageIds };
    await rememberSentMedia(deps, input.platform, resolved, result);
    const key = { bot_id: input.botId, platform: input.platform, chat_id: input.chatId };
    await dialogs.appendTranscript(key, [
      {
        message_type: 'bot',
        text: input.message.text ?? null,
        payload: input.message as unknown as JsonValue,
        step: input.step,
        platform_message_id: result.messageIds.join(','),
        dedupe_key: input.dedupeKey,
        created_at: new Date().toISOString(),
      },
    ]);
    deps.log.info(
      { event: 'OUTGOING', ...context, step: input.step, message_ids: result.messageIds, text_length: input.message.text?.length ?? 0, media: input.message.media?.length ?? 0 },
      'message sent',
    );
    return result;
  }

  /** The user's message, the engine's events and the new state, written once per turn (idempotent). */
  async function recordTurn(input: RecordTurnInput): Promise<void> {
    const context = { bot_id: input.key.bot_id, platform: input.key.platform, chat_id: input.key.chat_id, workflow_id: input.projection.workflow_id };
    const incomingInput = input.incoming && (await incomingForTranscript(deps, input.key.bot_id, input.key.platform, input.incoming.input));
    await deps.db.transaction(async (trx) => {
      const repo = dialogsRepository(trx as unknown as Db);
      if (input.incoming) {
        await repo.appendTranscript(input.key, [
          {
            message_type: 'user',
            text: describeInput(input.incoming.input),
            payload: incomingInput as unknown as JsonValue,
            step: input.incoming.step,
            platform_message_id: input.incoming.messageId,
            dedupe_key: `in:${input.key.bot_id}:${input.key.platform}:${input.key.chat_id}:${input.incoming.messageId}`,
            created_at: input.incoming.at,
          },
        ]);
      }
      if (input.systemMessage) {
        const { text, payload, step, at } = input.systemMessage;
        await repo.appendTranscript(input.key, [{ message_type: 'system', text, payload, step, dedupe_key: `${input.turnKey}:system`, created_at: at }]);
      }
      await repo.appendEvents(
        input.key,
        input.scenarioId,
        input.events.map((e, i) => ({ kind: e.kind, step: e.step, data: e.data, dedupe_key: `${input.turnKey}:event:${i}`, created_at: e.at })),
      );
      await repo.saveProjection(input.projection);
    });
    if (input.incoming) {
      const text = describeInput(input.incoming.input);
      deps.log.info({ event: 'INCOMING', ...context, message_id: input.incoming.messageId, kind: input.incoming.input.kind, step: input.incoming.step, length: text.length }, 'message received');
    }
    // Values are not logged (they are the user's data); names, steps and outcomes are.
    for (const e of input.events) {
      const type = EVENT_LOG_TYPES[e.kind] ?? 'DEBUG';
      const data = (e.data ?? {}) as Record<string, JsonValue>;
      const fields: Record<string, unknown> = { event: type, ...context, step: e.step, kind: e.kind };
      if (e.kind === 'variable_set') fields.variable = data.variable;
      else if (e.kind === 'condition_evaluated') Object.assign(fields, { condition: data.condition, result: data.result });
      else if (e.kind === 'auto_transition') Object.assign(fields, { from: data.from, to: data.to });
      else if (e.kind === 'error') Object.assign(fields, { code: data.code, error: data.message });
      else if (e.kind !== 'input_invalid') fields.data = redactValues(e.kind, data);
      if (type === 'ERROR') deps.log.error(fields, e.kind);
      else if (type === 'DEBUG') deps.log.debug(fields, e.kind);
      else deps.log.info(fields, e.kind);
    }
    deps.log.debug({ event: 'DEBUG', ...context, turn: input.turnKey, status: input.projection.status, step: input.projection.current_step, version: input.projection.version }, 'turn recorded');
  }

  return {
    /**
     * The given version (immutable, so cached), or the bot's default one; null when there is none.
     * With `withRoutes`, the bot's trigger table comes along (one marker for both).
     */
    async loadScenario(input: { botId: string; scenarioId?: string; withRoutes?: boolean }): Promise<LoadedScenario | null> {
      const cached = input.scenarioId === undefined ? undefined : scenarioCache.get(input.scenarioId);
      let loaded = cached?.botId === input.botId ? cached.loaded : undefined;
      if (!cached) {
        const record = input.scenarioId ? await scenarios.get(input.scenarioId) : await scenarios.getDefault(input.botId);
        // A dialog runs only its own bot's scenarios, whatever id its workflow input names.
        if (record && record.bot_id === input.botId) {
          loaded = { id: record.id, name: record.name, version: record.version, data: record.scenario_data };
          scenarioCache.set(record.id, { botId: record.bot_id, loaded });
        }
      }
      if (!loaded) return null;
      return input.withRoutes ? { ...loaded, routes: await routesOf(input.botId) } : loaded;
    },

    /** The triggers of the bot's active scenarios (workflows/dialog.ts refreshes its table with it). */
    async loadTriggers(input: { botId: string }): Promise<ScenarioRoute[]> {
      return routesOf(input.botId);
    },

    /** Whether the bot is active: an inactive bot's dialogs hold their timeouts (a bot deleted is not active). */
    async botIsActive(input: { botId: string }): Promise<boolean> {
      return (await bots.get(input.botId))?.status === 'active';
    },

    async sendMessage(input: SendMessageInput): Promise<{ messageIds: string[] }> {
      return withHeartbeat((progress) => sendReply(input, 0, progress));
    },

    /**
     * The replies of a turn in order, then the turn's record. A retry skips the replies already
     * delivered (transcript) and resumes the one in flight after its delivered parts (heartbeat).
     * A reply the platform refuses for good becomes an `error` event and the others still go out.
     */
    async deliverTurn(input: DeliverTurnInput): Promise<DeliverTurnResult> {
      const started = Date.now();
      const { handOverAfterMs } = input;
      const handingOver = handOverAfterMs !== undefined;
      // The beat runs for the whole activity, waits for the database included, so a slow but live
      // attempt is never taken for a dead one (a second attempt beside it could send twice).
      return withHeartbeat(async (progress) => {
        const failed: RecordedEvent[] = [];
        for (const [index, send] of input.sends.entries()) {
          if (handingOver && index > 0 && Date.now() - started > handOverAfterMs) {
            return { failed, unfinished: { send: index, ...checkpointOf(undefined) } };
          }
          try {
            await sendReply(send, index, progress);
          } catch (error) {
            if (error instanceof ApplicationFailure && error.nonRetryable) {
              failed.push({ kind: 'error', step: send.step, at: new Date().toISOString(), data: { code: 'send_failed', message: error.message } });
            } else if (handingOver) {
              return { failed, unfinished: { send: index, ...checkpointOf(progress.latest, index) } };
            } else {
              throw error;
            }
          }
        }
        if (input.record) await recordTurn({ ...input.record, events: [...input.record.events, ...failed] });
        return { failed };
      }, input.resume && { send: 0, ...input.resume });
    },

    httpRequest: createHttpRequest({ allowedHosts: deps.config.httpRequest.allowedHosts }),

    recordTurn,

    ...createMediaActivities(deps),
  };
}

export type DialogActivities = ReturnType<typeof createActivities>;
