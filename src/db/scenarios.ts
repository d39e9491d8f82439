import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { findTriggerClash } from '../engine/triggers';
import type { Diagnostic, Scenario, ScenarioTriggers } from '../engine/types';
import { conflict } from '../errors';
import { type Db, fromJson, isPostgres, isUniqueViolation, toIso, toJson } from './index';
import { carrySuiteOver } from './scenario-tests';

/**
 * Active scenarios per bot. Each dialog carries its bot's trigger table (workflows/dialog/scenario.ts), so
 * this keeps that table, and matching a message against it, small.
 */
export const MAX_ACTIVE_SCENARIOS = 20;

export interface ScenarioRecord {
  id: string;
  bot_id: string;
  name: string;
  version: number;
  is_active: boolean;
  /** The active scenario new dialogs start when no trigger matches their first message. */
  is_default: boolean;
  scenario_data: Scenario;
  source_text: string | null;
  warnings: Diagnostic[];
  created_at: string;
  updated_at: string;
}

/** A `scenarios` row as either driver returns it (SQLite's booleans are 0 and 1). */
interface ScenarioRow {
  id: string;
  bot_id: string;
  name: string;
  version: number;
  is_active: boolean | number;
  is_default: boolean | number;
  scenario_data: unknown;
  source_text: string | null;
  warnings: unknown;
  created_at: Date | string;
  updated_at: Date | string;
}

function toScenario(row: ScenarioRow): ScenarioRecord {
  return {
    id: row.id,
    bot_id: row.bot_id,
    name: row.name,
    version: Number(row.version),
    is_active: Boolean(row.is_active),
    is_default: Boolean(row.is_default),
    scenario_data: fromJson(row.scenario_data, {} as Scenario),
    source_text: row.source_text ?? null,
    warnings: fromJson(row.warnings, []),
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

/** An active scenario's triggers, as dialogs match messages against them. */
export interface ScenarioRoute {
  scenarioId: string;
  name: string;
  triggers: ScenarioTriggers;
}

const triggersOf = (row: Pick<ScenarioRow, 'scenario_data'>): ScenarioTriggers | undefined =>
  fromJson<Scenario>(row.scenario_data, {} as Scenario).settings?.triggers;

/**
 * Makes `row` active inside `trx`: the other versions of its name stop being active, and it is the
 * bot's default when asked, when the version it replaces was, or when the bot has none. Refused (409)
 * when another active scenario has one of its triggers, or when the bot has too many active ones.
 */
async function activateIn(trx: Knex.Transaction, row: ScenarioRow, makeDefault: boolean): Promise<void> {
  const botId = row.bot_id;
  // Two activations of one bot at once would each miss the other's triggers: they take turns.
  if (isPostgres(trx)) await trx('bots').where({ id: botId }).forUpdate().first();
  const active = await trx<ScenarioRow>('scenarios').where({ bot_id: botId, is_active: true }).select('id', 'name', 'version', 'is_default', 'scenario_data');
  const siblings = active.filter((other) => other.name === row.name && other.id !== row.id);
  const others = active.filter((other) => other.name !== row.name);
  const clash = findTriggerClash(
    triggersOf(row),
    others.map((other) => ({ row: other, triggers: triggersOf(other) })),
  );
  if (clash) {
    const describe = (r: Pick<ScenarioRow, 'id' | 'name' | 'version'>) => ({ id: r.id, name: r.name, version: Number(r.version) });
    const other = describe(clash.other.row);
    throw conflict(
      'trigger_conflict',
      `The trigger "${clash.trigger}" of scenario "${row.name}" is already a trigger of the active scenario "${other.name}"; remove it from one of them or deactivate "${other.name}" first.`,
      { trigger: clash.trigger, kind: clash.kind, scenario: describe(row), active_scenario: other },
    );
  }
  if (others.length >= MAX_ACTIVE_SCENARIOS) {
    throw conflict('too_many_active_scenarios', `A bot may have at most ${MAX_ACTIVE_SCENARIOS} active scenarios; deactivate one first.`, {
      limit: MAX_ACTIVE_SCENARIOS,
    });
  }
  const isDefault = makeDefault || Boolean(row.is_default) || siblings.some((other) => other.is_default) || !others.some((other) => other.is_default);
  const now = new Date().toISOString();
  if (siblings.length > 0)
    await trx<ScenarioRow>('scenarios')
      .whereIn(
        'id',
        siblings.map((other) => other.id),
      )
      .update({ is_active: false, is_default: false, updated_at: now });
  if (isDefault)
    await trx<ScenarioRow>('scenarios').where({ bot_id: botId, is_default: true }).whereNot({ id: row.id }).update({ is_default: false, updated_at: now });
  await trx<ScenarioRow>('scenarios').where({ id: row.id }).update({ is_active: true, is_default: isDefault, updated_at: now });
}

/** Makes `row` inactive inside `trx`; when it was the default, the oldest active scenario left takes over. */
async function deactivateIn(trx: Knex.Transaction, row: ScenarioRow): Promise<void> {
  const now = new Date().toISOString();
  await trx<ScenarioRow>('scenarios').where({ id: row.id }).update({ is_active: false, is_default: false, updated_at: now });
  if (!row.is_default) return;
  const next = await trx<ScenarioRow>('scenarios').where({ bot_id: row.bot_id, is_active: true }).orderBy('created_at', 'asc').orderBy('id', 'asc').first('id');
  if (next) await trx<ScenarioRow>('scenarios').where({ id: next.id }).update({ is_default: true, updated_at: now });
}

export function scenariosRepository(db: Db) {
  return {
    /**
     * Stores a new immutable version: the next number for this bot and name, with the previous
     * version's test suite. With `activate` it replaces the active version of its name in the same
     * transaction (see `setActive`).
     */
    async createVersion(input: {
      bot_id: string;
      name: string;
      scenario_data: Scenario;
      source_text?: string | null;
      warnings: Diagnostic[];
      activate?: boolean;
    }) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction(async (trx) => {
            const previous = await trx<ScenarioRow>('scenarios')
              .where({ bot_id: input.bot_id, name: input.name })
              .orderBy('version', 'desc')
              .first('id', 'version');
            const now = new Date().toISOString();
            const row: ScenarioRow = {
              id: randomUUID(),
              bot_id: input.bot_id,
              name: input.name,
              version: Number(previous?.version ?? 0) + 1,
              is_active: false,
              is_default: false,
              scenario_data: toJson(input.scenario_data),
              source_text: input.source_text ?? null,
              warnings: toJson(input.warnings),
              created_at: now,
              updated_at: now,
            };
            await trx<ScenarioRow>('scenarios').insert(row);
            if (previous) await carrySuiteOver(trx, previous.id, row.id);
            if (!input.activate) return toScenario(row);
            await activateIn(trx, row, false);
            return toScenario((await trx<ScenarioRow>('scenarios').where({ id: row.id }).first()) as ScenarioRow);
          });
        } catch (error) {
          // Two writers took the same next version number: the unique key caught it, take the next one.
          if (isUniqueViolation(error) && attempt < 5) continue;
          throw error;
        }
      }
    },

    async get(id: string): Promise<ScenarioRecord | undefined> {
      const row = await db<ScenarioRow>('scenarios').where({ id }).first();
      return row ? toScenario(row) : undefined;
    },

    async latest(botId: string, name: string): Promise<ScenarioRecord | undefined> {
      const row = await db<ScenarioRow>('scenarios').where({ bot_id: botId, name }).orderBy('version', 'desc').first();
      return row ? toScenario(row) : undefined;
    },

    /** Ids of the versions of this name older than `version`. */
    async olderVersionIds(botId: string, name: string, version: number): Promise<string[]> {
      const rows = await db<ScenarioRow>('scenarios').where({ bot_id: botId, name }).where('version', '<', version).select('id');
      return rows.map((r) => r.id);
    },

    /** The bot's active scenarios, the default first, then in the order they were created. */
    async listActive(botId: string): Promise<ScenarioRecord[]> {
      const rows = await db<ScenarioRow>('scenarios')
        .where({ bot_id: botId, is_active: true })
        .orderBy('is_default', 'desc')
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc');
      return rows.map(toScenario);
    },

    /** The scenario a new dialog starts when no trigger matches its first message. */
    async getDefault(botId: string): Promise<ScenarioRecord | undefined> {
      const row = await db<ScenarioRow>('scenarios').where({ bot_id: botId, is_active: true, is_default: true }).first();
      return row ? toScenario(row) : undefined;
    },

    /** The triggers of the bot's active scenarios that have any, the default first. */
    async routes(botId: string): Promise<ScenarioRoute[]> {
      return (await this.listActive(botId)).flatMap((record) => {
        const triggers = record.scenario_data.settings?.triggers;
        return triggers && (triggers.commands?.length || triggers.keywords?.length) ? [{ scenarioId: record.id, name: record.name, triggers }] : [];
      });
    },

    async list(botId: string, filter: { active_only?: boolean; version?: number; name?: string; limit: number; offset: number }) {
      const query = db<ScenarioRow>('scenarios')
        .where({ bot_id: botId })
        .modify<ScenarioRow, ScenarioRow[]>((q) => {
          if (filter.active_only) q.where('is_active', true);
          if (filter.version !== undefined) q.where('version', filter.version);
          if (filter.name !== undefined) q.where('name', filter.name);
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = await query.orderBy('created_at', 'asc').orderBy('version', 'asc').limit(filter.limit).offset(filter.offset);
      return { items: rows.map(toScenario), total: Number(total) };
    },

    /**
     * Several scenarios of a bot may be active, one version of each name, one of them the default.
     * Activating a version deactivates the other versions of its name (it inherits their default),
     * and `makeDefault` makes it the bot's default; all in one transaction. Throws a 409
     * `trigger_conflict` when another active scenario has one of its triggers.
     */
    async setActive(id: string, active: boolean, options: { makeDefault?: boolean } = {}): Promise<ScenarioRecord | undefined> {
      await db.transaction(async (trx) => {
        const row = await trx<ScenarioRow>('scenarios').where({ id }).first();
        if (!row) return;
        if (active) await activateIn(trx, row, Boolean(options.makeDefault));
        else if (row.is_active) await deactivateIn(trx, row);
      });
      return this.get(id);
    },

    async delete(id: string): Promise<void> {
      await db('scenarios').where({ id }).delete();
    },
  };
}
