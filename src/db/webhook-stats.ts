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

/** A `webhook_stats` row as either driver returns it (PostgreSQL's bigints come back as text). */
interface WebhookStatsRow {
  bot_id: string;
  platform: PlatformName;
  received: number | string;
  accepted: number | string;
  rejected: number | string;
  messages: number | string;
  last_event_at: Date | string | null;
  last_error: string | null;
  last_error_at: Date | string | null;
}

/** Calls counted since the last write, per bot and platform. */
interface Pending {
  botId: string;
  platform: PlatformName;
  received: number;
  accepted: number;
  messages: number;
  lastEventAt: string;
  lastError: { message: string; at: string } | null;
}

/** How long counts wait to be written together: a busy webhook makes one write per period, not per call. */
export const WEBHOOK_STATS_FLUSH_MS = 250;

/**
 * Per bot and platform webhook counters. Calls are counted in memory and written together shortly
 * after (one upsert per bot and platform), so the webhook never waits for them; a read writes the
 * pending counts first. A process that dies loses at most the last period's counts.
 */
export function webhookStatsRepository(db: Db, flushMs = WEBHOOK_STATS_FLUSH_MS) {
  let pending = new Map<string, Pending>();
  let flushing: Promise<void> | null = null;

  async function write(p: Pending): Promise<void> {
    const plus = (column: string, by: number) => db.raw('?? + ?', [`webhook_stats.${column}`, by]);
    const rejected = p.received - p.accepted;
    await db<WebhookStatsRow>('webhook_stats')
      .insert({
        bot_id: p.botId,
        platform: p.platform,
        received: p.received,
        accepted: p.accepted,
        rejected,
        messages: p.messages,
        last_event_at: p.lastEventAt,
        last_error: p.lastError?.message ?? null,
        last_error_at: p.lastError?.at ?? null,
      })
      .onConflict(['bot_id', 'platform'])
      .merge({
        received: plus('received', p.received),
        accepted: plus('accepted', p.accepted),
        rejected: plus('rejected', rejected),
        messages: plus('messages', p.messages),
        last_event_at: p.lastEventAt,
        ...(p.lastError ? { last_error: p.lastError.message, last_error_at: p.lastError.at } : {}),
      });
  }

  /** Writes what is pending; the counts of a failed write are lost, and the failure is thrown. */
  function flush(): Promise<void> {
    if (!flushing) {
      flushing = (async () => {
        // Counted calls that arrive meanwhile wait for the next write.
        await new Promise((resolve) => setTimeout(resolve, flushMs).unref());
        const batch = [...pending.values()];
        pending = new Map();
        flushing = null;
        for (const p of batch) await write(p);
      })();
    }
    return flushing;
  }

  return {
    /** Counts one call; resolves once it is written (rejects when that write failed). */
    record(botId: string, platform: PlatformName, outcome: WebhookOutcome, at = new Date()): Promise<void> {
      const key = `${botId}:${platform}`;
      const now = at.toISOString();
      const p = pending.get(key) ?? { botId, platform, received: 0, accepted: 0, messages: 0, lastEventAt: now, lastError: null };
      p.received += 1;
      p.lastEventAt = now;
      if (outcome.accepted) {
        p.accepted += 1;
        p.messages += outcome.messages;
      } else {
        p.lastError = { message: outcome.error.slice(0, 500), at: now };
      }
      pending.set(key, p);
      return flush();
    },

    /** Writes every count still pending (at shutdown, before the database closes); never throws. */
    async drain(): Promise<void> {
      while (flushing || pending.size > 0) await (flushing ?? flush()).catch(() => undefined);
    },

    async get(botId: string, platform: PlatformName): Promise<WebhookStatus> {
      if (pending.has(`${botId}:${platform}`)) await flush();
      const row = await db<WebhookStatsRow>('webhook_stats').where({ bot_id: botId, platform }).first();
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
