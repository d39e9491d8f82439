import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { dialogsRepository, type DialogKey, type DialogRecord } from '../src/db/dialogs';
import { platformsRepository } from '../src/db/platforms';
import { scenariosRepository } from '../src/db/scenarios';
import type { HttpRequestSpec, JsonValue, OutgoingMessage, Scenario, UserInput } from '../src/engine/types';
import type { Logger } from '../src/log';
import { getAdapter } from '../src/platforms';
import { PlatformApiError } from '../src/platforms/errors';
import type { PlatformName } from '../src/platforms/types';

export interface LoadedScenario {
  id: string;
  version: number;
  data: Scenario;
}

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
  turnKey: string;
  scenarioId: string | null;
  incoming?: { messageId: string; input: UserInput; step: string | null; at: string };
  events: RecordedEvent[];
  projection: DialogRecord;
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

/** Turns a platform's refusal into the failure Temporal should act on: retry later, or give up now. */
function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof PlatformApiError)) return error;
  const details = [{ platform: error.platform, method: error.method, status: error.status, description: error.description }];
  if (!error.retryable) return ApplicationFailure.nonRetryable(error.message, 'PlatformPermanentError', ...details);
  return ApplicationFailure.create({
    message: error.message,
    type: 'PlatformRetryableError',
    details,
    nextRetryDelay: error.retryAfterSeconds !== undefined ? `${error.retryAfterSeconds} seconds` : undefined,
  });
}

/** Every side effect of a dialog. Each one is safe to retry. */
export function createActivities(deps: ActivityDeps) {
  const dialogs = dialogsRepository(deps.db);
  const scenarios = scenariosRepository(deps.db);
  const platforms = platformsRepository(deps.db, { current: deps.config.encryptionKey });
  const scenarioCache = new Map<string, LoadedScenario>();

  return {
    /** The given version (immutable, so cached), or the bot's active one; null when there is none. */
    async loadScenario(input: { botId: string; scenarioId?: string }): Promise<LoadedScenario | null> {
      if (input.scenarioId && scenarioCache.has(input.scenarioId)) return scenarioCache.get(input.scenarioId) as LoadedScenario;
      const record = input.scenarioId ? await scenarios.get(input.scenarioId) : await scenarios.getActive(input.botId);
      if (!record) return null;
      const loaded = { id: record.id, version: record.version, data: record.scenario_data };
      scenarioCache.set(record.id, loaded);
      return loaded;
    },

    async sendMessage(input: SendMessageInput): Promise<{ messageIds: string[] }> {
      const delivered = await dialogs.findTranscriptEntry(input.dedupeKey);
      if (delivered) return { messageIds: delivered.platform_message_id ? delivered.platform_message_id.split(',') : [] };

      const secrets = await platforms.secrets(input.botId, input.platform);
      if (!secrets) {
        throw ApplicationFailure.nonRetryable(`The bot has no ${input.platform} connection.`, 'PlatformNotConnected');
      }
      const adapter = getAdapter(input.platform);
      const context = { apiBase: deps.config.apiBases[input.platform], fetch: deps.fetch };
      let result: { messageIds: string[] };
      try {
        result = await adapter.send(context, secrets.credentials, input.chatId, input.message, input.replyContext);
      } catch (error) {
        throw toActivityFailure(error);
      }
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
      deps.log.info({ event: 'OUTGOING', bot_id: input.botId, platform: input.platform, chat_id: input.chatId, step: input.step, message_ids: result.messageIds });
      return result;
    },

    async httpRequest(spec: HttpRequestSpec): Promise<JsonValue> {
      const fetcher = deps.fetch ?? fetch;
      const response = await fetcher(spec.url, {
        method: spec.method,
        headers: { accept: 'application/json', ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
        body: spec.body !== undefined && spec.method !== 'GET' ? JSON.stringify(spec.body) : undefined,
        signal: AbortSignal.timeout(spec.timeout_ms ?? 10_000),
      });
      const text = await response.text();
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        throw ApplicationFailure.nonRetryable(`${spec.method} ${spec.url} answered ${response.status}`, 'HttpRequestRejected');
      }
      if (!response.ok) throw new Error(`${spec.method} ${spec.url} answered ${response.status}`);
      try {
        return text === '' ? null : (JSON.parse(text) as JsonValue);
      } catch {
        return text;
      }
    },

    /** The user's message, the engine's events and the new state, written once per turn (idempotent). */
    async recordTurn(input: RecordTurnInput): Promise<void> {
      const context = { bot_id: input.key.bot_id, platform: input.key.platform, chat_id: input.key.chat_id, workflow_id: input.projection.workflow_id };
      await deps.db.transaction(async (trx) => {
        const repo = dialogsRepository(trx as unknown as Db);
        if (input.incoming) {
          await repo.appendTranscript(input.key, [
            {
              message_type: 'user',
              text: describeInput(input.incoming.input),
              payload: input.incoming.input as unknown as JsonValue,
              step: input.incoming.step,
              platform_message_id: input.incoming.messageId,
              dedupe_key: `in:${input.key.bot_id}:${input.key.platform}:${input.key.chat_id}:${input.incoming.messageId}`,
              created_at: input.incoming.at,
            },
          ]);
        }
        await repo.appendEvents(
          input.key,
          input.scenarioId,
          input.events.map((e, i) => ({ kind: e.kind, step: e.step, data: e.data, dedupe_key: `${input.turnKey}:event:${i}`, created_at: e.at })),
        );
        await repo.saveProjection(input.projection);
      });
      if (input.incoming) deps.log.info({ event: 'INCOMING', ...context, message_id: input.incoming.messageId, kind: input.incoming.input.kind });
      for (const e of input.events.filter((ev) => ev.kind === 'error')) deps.log.warn({ event: 'ERROR', ...context, step: e.step, error: e.data });
      deps.log.info({ event: 'STATE_CHANGE', ...context, status: input.projection.status, step: input.projection.current_step, version: input.projection.version });
    },
  };
}

export type DialogActivities = ReturnType<typeof createActivities>;
