import { isForeignKeyViolation } from './errors';
import { type Db, fromJson, toIso } from './index';

/** An active bot's Discord connection, as a Gateway process serves it. */
export interface GatewayBot {
  botId: string;
  settings: Record<string, unknown>;
  /** When the connection last changed (credentials, settings): a session of an older one is reopened. */
  version: string;
}

/**
 * What Discord Gateway processes read and share: the bots to keep a session for, and a lease per bot
 * (`gateway_leases`) so that of several processes exactly one holds each bot's session.
 */
export function gatewayRepository(db: Db) {
  return {
    /** Active bots with a Discord connection. */
    async discordBots(): Promise<GatewayBot[]> {
      const rows = await db('bots')
        .join('platform_connections', 'platform_connections.bot_id', 'bots.id')
        .where({ 'bots.status': 'active', 'platform_connections.platform': 'discord' })
        .select<{ bot_id: string; settings: unknown; updated_at: unknown }[]>(
          'bots.id as bot_id',
          'platform_connections.settings',
          'platform_connections.updated_at',
        );
      return rows.map((row) => ({ botId: row.bot_id, settings: fromJson(row.settings, {}), version: toIso(row.updated_at) as string }));
    },

    /**
     * Takes the bot's lease for `holder` until `now + ttlMs`, or renews it: in one statement, so two
     * processes cannot both win. Another holder's lease is taken only once it expired. True when
     * `holder` holds it now; false when another does or the bot is gone.
     */
    async acquire(botId: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
      try {
        const rows: unknown[] = await db('gateway_leases')
          .insert({ bot_id: botId, holder, expires_at: now + ttlMs })
          .onConflict('bot_id')
          .merge(['holder', 'expires_at'])
          .where('gateway_leases.holder', holder)
          .orWhere('gateway_leases.expires_at', '<', now)
          .returning('bot_id');
        return rows.length > 0;
      } catch (error) {
        if (isForeignKeyViolation(error)) return false;
        throw error;
      }
    },

    /** Gives the lease up, if `holder` has it. */
    async release(botId: string, holder: string): Promise<void> {
      await db('gateway_leases').where({ bot_id: botId, holder }).delete();
    },
  };
}

export type GatewayRepository = ReturnType<typeof gatewayRepository>;
