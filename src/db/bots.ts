import { randomUUID } from 'node:crypto';
import { type Db, fromJson, toIso, toJson } from './index';

export type BotStatus = 'active' | 'inactive';

export interface Bot {
  id: string;
  account_id: string;
  name: string;
  description: string;
  status: BotStatus;
  settings: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

type BotRow = Omit<Bot, 'settings' | 'created_at' | 'updated_at'> & { settings: unknown; created_at: unknown; updated_at: unknown };

function toBot(row: BotRow): Bot {
  return {
    ...row,
    settings: fromJson(row.settings, {}),
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

export function botsRepository(db: Db) {
  return {
    async create(input: { account_id: string; name: string; description?: string; settings?: Record<string, unknown> }): Promise<Bot> {
      const now = new Date().toISOString();
      const row: BotRow = {
        id: randomUUID(),
        account_id: input.account_id,
        name: input.name,
        description: input.description ?? '',
        status: 'inactive',
        settings: toJson(input.settings ?? {}),
        created_at: now,
        updated_at: now,
      };
      await db<BotRow>('bots').insert(row);
      return toBot(row);
    },

    async get(id: string): Promise<Bot | undefined> {
      const row = await db<BotRow>('bots').where({ id }).first();
      return row ? toBot(row) : undefined;
    },

    async list(accountIds: string[] | 'all', filter: { account_id?: string; status?: BotStatus; limit: number; offset: number }) {
      const query = db<BotRow>('bots').modify<BotRow, BotRow[]>((q) => {
        if (accountIds !== 'all') q.whereIn('account_id', accountIds);
        if (filter.account_id) q.where('account_id', filter.account_id);
        if (filter.status) q.where('status', filter.status);
      });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = await query.orderBy('created_at', 'asc').orderBy('id').limit(filter.limit).offset(filter.offset);
      return { items: rows.map(toBot), total: Number(total) };
    },

    async update(id: string, changes: { name?: string; description?: string; settings?: Record<string, unknown>; status?: BotStatus }) {
      const row: Partial<BotRow> = { updated_at: new Date().toISOString() };
      if (changes.name !== undefined) row.name = changes.name;
      if (changes.description !== undefined) row.description = changes.description;
      if (changes.settings !== undefined) row.settings = toJson(changes.settings);
      if (changes.status !== undefined) row.status = changes.status;
      await db<BotRow>('bots').where({ id }).update(row);
      return this.get(id);
    },

    /**
     * Removes the bot and everything of it in one transaction; returns how many rows of each kind
     * went. Tables added later reach the bot through `ON DELETE CASCADE`.
     */
    async deleteWithEverything(id: string): Promise<Record<string, number>> {
      return db.transaction(async (trx) => {
        const removed: Record<string, number> = {};
        const tables = {
          messages: 'dialog_messages',
          events: 'dialog_events',
          dialogs: 'dialogs',
          scenarios: 'scenarios',
          platforms: 'platform_connections',
          webhook_stats: 'webhook_stats',
        };
        for (const [name, table] of Object.entries(tables)) removed[name] = Number(await trx(table).where({ bot_id: id }).delete());
        await trx('bots').where({ id }).delete();
        return removed;
      });
    },
  };
}
