import type { Knex } from 'knex';
import { type Db, toIso } from './index';

/** A version's conversation test suite, as the operator sent it (docs/scenario-format.md). */
export interface ScenarioSuiteRecord {
  scenario_id: string;
  suite_text: string;
  created_at: string;
  updated_at: string;
}

/** A `scenario_tests` row as either driver returns it. */
interface SuiteRow {
  scenario_id: string;
  suite_text: string;
  created_at: Date | string;
  updated_at: Date | string;
}

function toSuite(row: SuiteRow): ScenarioSuiteRecord {
  return {
    scenario_id: row.scenario_id,
    suite_text: row.suite_text,
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

/**
 * Gives the new version `toId` the suite of `fromId`, if it has one: a scenario's next version is
 * tested by the conversations of the one before until the operator stores others.
 */
export async function carrySuiteOver(trx: Knex.Transaction, fromId: string, toId: string): Promise<void> {
  const row = await trx<SuiteRow>('scenario_tests').where({ scenario_id: fromId }).first('suite_text');
  if (!row) return;
  const now = new Date().toISOString();
  await trx<SuiteRow>('scenario_tests').insert({ scenario_id: toId, suite_text: row.suite_text, created_at: now, updated_at: now });
}

/** One suite per scenario version; rows go with their version (and its bot) by `ON DELETE CASCADE`. */
export function scenarioTestsRepository(db: Db) {
  return {
    async get(scenarioId: string): Promise<ScenarioSuiteRecord | undefined> {
      const row = await db<SuiteRow>('scenario_tests').where({ scenario_id: scenarioId }).first();
      return row ? toSuite(row) : undefined;
    },

    /** The suite of the latest version of `name`: the one its next version will carry over. */
    async latestOfName(botId: string, name: string): Promise<ScenarioSuiteRecord | undefined> {
      const latest = db('scenarios').where({ bot_id: botId, name }).orderBy('version', 'desc').limit(1).select('id');
      const row = await db<SuiteRow>('scenario_tests').whereIn('scenario_id', latest).first();
      return row ? toSuite(row) : undefined;
    },

    /** Stores or replaces the suite of a version. */
    async put(scenarioId: string, suiteText: string): Promise<ScenarioSuiteRecord> {
      const now = new Date().toISOString();
      await db<SuiteRow>('scenario_tests')
        .insert({ scenario_id: scenarioId, suite_text: suiteText, created_at: now, updated_at: now })
        .onConflict('scenario_id')
        .merge(['suite_text', 'updated_at']);
      return (await this.get(scenarioId)) as ScenarioSuiteRecord;
    },
  };
}
