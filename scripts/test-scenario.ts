/**
 * Runs a scenario's conversation tests on the engine (docs/scenario-format.md, "Conversation tests"):
 *   npm run test:scenario -- examples/table-booking.json examples/table-booking.tests.json
 * Prints each failing turn as `tests.json:line:col: expected … got …`, the steps no conversation
 * visited, and `N passed, M failed`. Exit code 1 on any failure or malformed input.
 */
import { readFileSync } from 'node:fs';
import { runConversationSuite, validateScenarioText, type Diagnostic } from '../src/engine';

function format(file: string, diagnostic: Diagnostic): string {
  const where = `${file}:${diagnostic.line ?? 1}:${diagnostic.column ?? 1}`;
  const suggestion = diagnostic.suggestion ? ` [${diagnostic.suggestion}]` : '';
  return `${where}: ${diagnostic.severity}: ${diagnostic.message}${suggestion}`;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    process.stdout.write(`${file}:1:1: error: cannot read the file (${(error as Error).message})\n`);
    return undefined;
  }
}

function main([scenarioFile, suiteFile, ...rest]: string[]): number {
  if (scenarioFile === undefined || suiteFile === undefined || rest.length > 0) {
    process.stderr.write('usage: test-scenario <scenario.json> <tests.json>\n');
    return 2;
  }
  const scenarioText = read(scenarioFile);
  const suiteText = read(suiteFile);
  if (scenarioText === undefined || suiteText === undefined) return 1;
  const validation = validateScenarioText(scenarioText);
  if (!validation.valid || !validation.scenario) {
    for (const diagnostic of validation.errors) process.stdout.write(`${format(scenarioFile, diagnostic)}\n`);
    return 1;
  }
  const result = runConversationSuite(validation.scenario, suiteText);
  if (!result.valid) {
    for (const problem of result.problems) process.stdout.write(`${format(suiteFile, problem)}\n`);
    return 1;
  }
  for (const conversation of result.conversations) {
    for (const failure of conversation.failures) {
      process.stdout.write(
        `${suiteFile}:${failure.line}:${failure.column}: expected ${failure.expected}, got ${failure.got} (${conversation.name}, turn ${failure.turn})\n`,
      );
    }
  }
  if (result.unvisitedSteps.length > 0) process.stdout.write(`steps no conversation visited: ${result.unvisitedSteps.join(', ')}\n`);
  process.stdout.write(`${result.passed} passed, ${result.failed} failed\n`);
  return result.failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
