/**
 * Conversation test suites as the API runs them: on demand, when a version is stored
 * (`?run_tests=true`) and before a version goes live, which a failing suite refuses unless forced.
 */
import { z } from 'zod';
import { runConversationSuite, type SuiteResult } from '../src/engine/conversations';
import type { Scenario } from '../src/engine/types';
import type { ScenarioSuiteRecord } from '../src/db/scenario-tests';
import { conflict } from '../src/errors';
import { diagnosticDetails, type suiteResultSchema } from './schemas';

const flag = (description: string) =>
  z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe(description);

const runTests = flag('answer the results of the version’s conversation test suite in the field "tests" (null when it has none)');
const force = flag('make the version active even when its conversation test suite fails');

export const createTestsQuery = z.object({ run_tests: runTests });
/** Routes that may make a version active: a failing suite refuses it (409 tests_failing) unless forced. */
export const activationTestsQuery = z.object({ run_tests: runTests, force });

/** Failures (and problems) a refusal names; the whole list is one `tests/run` away. */
const MAX_REFUSAL_DETAILS = 100;

export type SuiteResultView = z.infer<typeof suiteResultSchema>;

/** The runner's result in the API's spelling: diagnostics as in every `details`, snake_case names. */
export function suiteResultView(result: SuiteResult): SuiteResultView {
  const { unvisitedSteps, problems, ...rest } = result;
  return { ...rest, problems: diagnosticDetails(problems), unvisited_steps: unvisitedSteps };
}

export function suiteView(record: ScenarioSuiteRecord) {
  return { scenario_id: record.scenario_id, suite: JSON.parse(record.suite_text) as unknown, created_at: record.created_at, updated_at: record.updated_at };
}

/**
 * Runs `suite` (a version's, or the one a new version will carry over) on `scenario`. When the
 * version is about to become active, a suite with problems or a failing conversation is a 409
 * `tests_failing` naming each failing turn, unless `force`. Null when there is no suite.
 */
export function checkSuite(
  scenario: Scenario,
  suite: ScenarioSuiteRecord | undefined,
  options: { activating: boolean; force?: boolean },
): SuiteResultView | null {
  if (!suite) return null;
  const result = suiteResultView(runConversationSuite(scenario, suite.suite_text));
  if (options.activating && !options.force && (!result.valid || result.failed > 0)) {
    const problems = result.valid ? '' : `${result.problems.length} problem(s) in the suite`;
    const failures = result.conversations.flatMap((conversation) => conversation.failures);
    throw conflict(
      'tests_failing',
      `The version’s conversation tests fail (${problems || `${result.failed} of ${result.passed + result.failed} conversation(s)`}); fix the scenario or the suite, or repeat with ?force=true.`,
      {
        passed: result.passed,
        failed: result.failed,
        problems: result.problems.slice(0, MAX_REFUSAL_DETAILS),
        failures: failures.slice(0, MAX_REFUSAL_DETAILS),
        failures_total: failures.length,
      },
    );
  }
  return result;
}
