import { randomUUID } from 'node:crypto';
import type { Diagnostic, Scenario } from '../engine/types';
import { type Db, fromJson, isUniqueViolation, toIso, toJson } from './index';

export interface ScenarioRecord {
  id: string;
  bot_id: string;
  name: string;
  version: number;
  is_active: boolean;
  scenario_data: Scenario;
  source_text: string | null;
  warnings: Diagnostic[];
  created_at: string;
  updated_at: string;
}

function toScenario(row: Record<string, unknown>): ScenarioRecord {
  return {
    id: row.id as string,
    bot_id: row.bot_id as string,
    name: row.name as string,
    version: Number(row.version),
    is_active: Boolean(row.is_active),
    scenario_data: fromJson(row.scenario_data, {} as Scenario),
    source_text: (row.source_text as string | null) ?? null,
    warnings: fromJson(row.warnings, []),
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

export function scenariosRepository(db: Db) {
  return {
    /**
     * Stores a new immutable version: the next number for this bot and name. With `activate` it
     * becomes the bot's active scenario in the same transaction.
     */
    async createVersion(input: { bot_id: string; name: string; scenario_data: Scenario; source_text?: string | null; warnings: Diagnostic[]; activate?: boolean }) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction(async (trx) => {
            const last = await trx('scenarios').where({ bot_id: input.bot_id, name: input.name }).max<{ v: number | null }[]>({ v: 'version' });
            const now = new Date().toISOString();
            const row = {
              id: randomUUID(),
              bot_id: input.bot_id,
              name: input.name,
              version: Number(last[0]?.v ?? 0) + 1,
              is_active: Boolean(input.activate),
              scenario_data: toJson(input.scenario_data),
              source_text: input.source_text ?? null,
              warnings: toJson(input.warnings),
              created_at: now,
              updated_at: now,
            };
            if (input.activate) await trx('scenarios').where({ bot_id: input.bot_id, is_active: true }).update({ is_active: false, updated_at: now });
            await trx('scenarios').insert(row);
            return toScenario(row);
          });
        } catch (error) {
          // Two writers took the same next version number: the unique key caught it, take the next one.
          if (isUniqueViolation(error) && attempt < 5) continue;
          throw error;
        }
      }
    },

    async get(id: string): Promise<ScenarioRecord | undefined> {
      const row = await db('scenarios').where({ id }).first();
      return row ? toScenario(row) : undefined;
    },

    async latest(botId: string, name: string): Promise<ScenarioRecord | undefined> {
      const row = await db('scenarios').where({ bot_id: botId, name }).orderBy('version', 'desc').first();
      return row ? toScenario(row) : undefined;
    },

    /** Ids of the versions of this name older than `version`. */
    async olderVersionIds(botId: string, name: string, version: number): Promise<string[]> {
      const rows = await db('scenarios').where({ bot_id: botId, name }).where('version', '<', version).select('id');
      return rows.map((r: { id: string }) => r.id);
    },

    async getActive(botId: string): Promise<ScenarioRecord | undefined> {
      const row = await db('scenarios').where({ bot_id: botId, is_active: true }).first();
      return row ? toScenario(row) : undefined;
    },

    async list(botId: string, filter: { active_only?: boolean; version?: number; name?: string; limit: number; offset: number }) {
      const query = db('scenarios')
        .where({ bot_id: botId })
        .modify((q) => {
          if (filter.active_only) q.where('is_active', true);
          if (filter.version !== undefined) q.where('version', filter.version);
          if (filter.name !== undefined) q.where('name', filter.name);
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = await query.orderBy('created_at', 'asc').orderBy('version', 'asc').limit(filter.limit).offset(filter.offset);
      return { items: rows.map(toScenario), total: Number(total) };
    },

    /** One active scenario per bot: activating one deactivates the others in the same transaction. */
    async setActive(id: string, active: boolean): Promise<ScenarioRecord | undefined> {
      await db.transaction(async (trx) => {
        const row = await trx('scenarios').where({ id }).first();
        if (!row) return;
        const now = new Date().toISOString();
        if (active) await trx('scenarios').where({ bot_id: row.bot_id, is_active: true }).update({ is_active: false, updated_at: now });
        await trx('scenarios').where({ id }).update({ is_active: active, updated_at: now });
      });
      return this.get(id);
    },

    async delete(id: string): Promise<void> {
      await db('scenarios').where({ id }).delete();
    },
  };
}
