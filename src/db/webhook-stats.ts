import type { PlatformName } from '../platforms/types';
import { type Db, toIso } from './index';

export interface WebhookStatus {
  bot_id: string;
  platform: PlatformName;
  last_event_at: string | null;
  counts: { received: number; accepted: number; rejected: number; messages: number };
  last_error: { message: string; at: string } | null;
}

export type WebhookOutcome = { accepted: true; messages: number } | { accepted: false; error: string };

/** Per bot and platform webhook counters: one upsert per call, so the webhook stays fast. */
export function webhookStatsRepository(db: Db) {
  return {
    async record(botId: string, platform: PlatformName, outcome: WebhookOutcome, at = new Date()): Promise<void> {
      const now = at.toISOString();
      const accepted = outcome.accepted ? 1 : 0;
      const messages = outcome.accepted ? outcome.messages : 0;
      const error = outcome.accepted ? null : outcome.error.slice(0, 500);
      const plus = (column: string, by: number) => db.raw('?? + ?', [`webhook_stats.${column}`, by]);
      await db('webhook_stats')
        .insert({
          bot_id: botId,
          platform,
          received: 1,
          accepted,
          rejected: 1 - accepted,
          messages,
          last_event_at: now,
          last_error: error,
          last_error_at: error ? now : null,
        })
        .onConflict(['bot_id', 'platform'])
        .merge({
          received: plus('received', 1),
          accepted: plus('accepted', accepted),
          rejected: plus('rejected', 1 - accepted),
          messages: plus('messages', messages),
          last_event_at: now,
          ...(error ? { last_error: error, last_error_at: now } : {}),
        });
    },

    async get(botId: string, platform: PlatformName): Promise<WebhookStatus> {
      const row = await db('webhook_stats').where({ bot_id: botId, platform }).first();
      return {
        bot_id: botId,
        platform,
        last_event_at: toIso(row?.last_event_at),
        counts: {
          received: Number(row?.received ?? 0),
          accepted: Number(row?.accepted ?? 0),
          rejected: Number(row?.rejected ?? 0),
          messages: Number(row?.messages ?? 0),
        },
        last_error: row?.last_error ? { message: row.last_error, at: toIso(row.last_error_at) as string } : null,
      };
    },
  };
}
