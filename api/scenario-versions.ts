/**
 * What the scenario routes share: how a stored version is shown, the 422 of an invalid scenario,
 * and the lookups that check the caller may touch a version and what validation must know of its bot.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { mediaRepository } from '../src/media/repository';
import type { Diagnostic, ValidationContext } from '../src/engine/types';
import { scenarioTestsRepository } from '../src/db/scenario-tests';
import type { ScenarioRecord } from '../src/db/scenarios';
import { AppError, notFound, unprocessable } from '../src/errors';
import type { Services } from './deps';
import { diagnosticDetails, scenarioSchema, suiteResultSchema } from './schemas';

export const versionResult = scenarioSchema.extend({
  dialogs_on_older_versions: z.number().int().describe('running dialogs that stay on older versions of this name'),
});

/** `?run_tests=true`: the results of the version's conversation test suite, null when it has none. */
export const withTests = <T extends z.ZodObject>(schema: T) =>
  schema.extend({ tests: suiteResultSchema.nullable().optional().describe('with ?run_tests=true') });
/** The field `tests` when asked for. */
export const testsField = (asked: boolean, tests: unknown) => (asked ? { tests } : {});

export function invalidScenario(errors: Diagnostic[]): AppError {
  return unprocessable('invalid_scenario', `The scenario has ${errors.length} error(s); the first: ${errors[0]?.message}`, diagnosticDetails(errors));
}

/**
 * The document as the operator wrote it, for `?format=export`: PostgreSQL's jsonb does not keep key
 * order, so the text is kept beside the parsed data.
 */
export function exportText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** What the API shows of a version: the stored upload text stays for `?format=export`. */
export function versionView(record: ScenarioRecord) {
  const { source_text: _text, ...rest } = record;
  return { ...rest, warnings: diagnosticDetails(record.warnings) };
}

/** Lookups of the scenario routes, bound to the app's services. */
export function scenarioVersions(s: Services) {
  return {
    suites: scenarioTestsRepository(s.db),

    /** The version and its bot, if the caller may `access` them (404 otherwise, whether or not it exists). */
    scenarioFor: async (ctx: Context, id: string, access: 'read' | 'write') => {
      const scenario = await s.scenarios.get(id);
      if (!scenario) throw notFound('Scenario');
      const bot = await s.botFor(ctx, scenario.bot_id, access).catch((error: AppError) => {
        throw error.status === 404 ? notFound('Scenario') : error;
      });
      return { scenario, bot };
    },

    /** What validation must know of the bot: the media ids it has (a scenario may use only those). */
    contextOf: async (botId: string): Promise<ValidationContext> => {
      return { knownMediaIds: new Set(await mediaRepository(s.db).idsOfBot(botId)) };
    },

    /** Running dialogs on the versions of this name older than `version`. */
    onOlder: async (record: ScenarioRecord): Promise<number> => {
      return s.dialogs.countActiveOn(await s.scenarios.olderVersionIds(record.bot_id, record.name, record.version));
    },
  };
}

export type ScenarioVersions = ReturnType<typeof scenarioVersions>;
