/**
 * The `conversations` phase: the examples' conversation tests run on the engine alone (no stack),
 * over and over until a few hundred conversations have run, timed as a whole.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runConversationSuite, validateScenarioText, type Scenario } from '../src/engine';

export interface ConversationsResult {
  conversations: number;
  turns: number;
  milliseconds: number;
  perSecond: number;
}

const EXAMPLES = path.join(__dirname, '../examples');

export function benchConversations(atLeast = 500): ConversationsResult {
  const suites: { scenario: Scenario; text: string; conversations: number; turns: number }[] = [];
  for (const file of readdirSync(EXAMPLES).filter((name) => name.endsWith('.tests.json'))) {
    const scenario = validateScenarioText(readFileSync(path.join(EXAMPLES, file.replace(/\.tests\.json$/, '.json')), 'utf8')).scenario;
    if (!scenario) throw new Error(`examples/${file}: its scenario is not valid`);
    const text = readFileSync(path.join(EXAMPLES, file), 'utf8');
    const parsed = JSON.parse(text) as { conversations: { turns: unknown[] }[] };
    suites.push({ scenario, text, conversations: parsed.conversations.length, turns: parsed.conversations.reduce((sum, c) => sum + c.turns.length, 0) });
  }
  if (suites.length === 0) throw new Error('no examples/*.tests.json to run');
  // One round first, so the timing is of warm code (and a failing example fails the phase).
  for (const suite of suites) {
    const result = runConversationSuite(suite.scenario, suite.text);
    if (result.failed > 0 || !result.valid)
      throw new Error('an example’s conversation tests fail: npm run test:scenario -- examples/<name>.json examples/<name>.tests.json');
  }
  let conversations = 0;
  let turns = 0;
  const started = performance.now();
  while (conversations < atLeast) {
    for (const suite of suites) {
      runConversationSuite(suite.scenario, suite.text);
      conversations += suite.conversations;
      turns += suite.turns;
    }
  }
  const milliseconds = performance.now() - started;
  return { conversations, turns, milliseconds, perSecond: (conversations / milliseconds) * 1000 };
}
