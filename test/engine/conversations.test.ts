import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConversationSuite, SUITE_LIMITS, validateScenarioText } from '../../src/engine';
import type { Scenario, SuiteResult } from '../../src/engine';
import { scenario, validScenario } from './helpers';

const ROOT = join(__dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');

function example(name: string): Scenario {
  const result = validateScenarioText(readFileSync(join(EXAMPLES, `${name}.json`), 'utf8'));
  if (!result.scenario) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
  return result.scenario;
}

function testScenario(...files: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/test-scenario.ts'), ...files], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: result.status, out: result.stdout };
}

/** Runs one conversation (as a suite) and returns its failures as `expected → got` lines. */
function run(scenario: Scenario, conversation: object): string[] {
  const result = runConversationSuite(scenario, JSON.stringify({ conversations: [{ name: 'c', ...conversation }] }, null, 2));
  if (!result.valid) throw new Error(`invalid suite: ${JSON.stringify(result.problems)}`);
  return result.conversations[0].failures.map((failure) => `${failure.expected} → ${failure.got}`);
}

const problems = (scenario: Scenario, text: string) =>
  runConversationSuite(scenario, text).problems.map(({ line, column, message, suggestion }) => ({ line, column, message, suggestion }));

describe('the examples’ conversation tests', () => {
  const names = readdirSync(EXAMPLES)
    .filter((file) => file.endsWith('.json') && !file.endsWith('.tests.json'))
    .map((file) => file.replace(/\.json$/, ''));

  it('every example has a suite', () => {
    expect(names.map((name) => readdirSync(EXAMPLES).includes(`${name}.tests.json`))).toEqual(names.map(() => true));
  });

  it.each(names)('%s passes its suite and visits every step', (name) => {
    const result: SuiteResult = runConversationSuite(example(name), readFileSync(join(EXAMPLES, `${name}.tests.json`), 'utf8'));
    expect(result.problems).toEqual([]);
    expect(result.conversations.flatMap((conversation) => conversation.failures)).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(1);
    expect(result.unvisitedSteps).toEqual([]);
  });

  it('a changed step text fails the exact turn, with its line and column (CLI)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'test-scenario-'));
    const scenarioFile = join(folder, 'table-booking.json');
    const suiteFile = join(folder, 'table-booking.tests.json');
    const original = readFileSync(join(EXAMPLES, 'table-booking.json'), 'utf8');
    writeFileSync(scenarioFile, original.replace('"message": {"text": "How many guests?"}', '"message": {"text": "How many people?"}'));
    writeFileSync(suiteFile, readFileSync(join(EXAMPLES, 'table-booking.tests.json'), 'utf8'));
    const { code, out } = testScenario(scenarioFile, suiteFile);
    expect(code).toBe(1);
    expect(out.split('\n')).toEqual([
      `${suiteFile}:18:9: expected "How many guests?", got "How many people?" (books a table for a small party, turn 10)`,
      '3 passed, 1 failed',
      '',
    ]);
    expect(testScenario(join(EXAMPLES, 'table-booking.json'), join(EXAMPLES, 'table-booking.tests.json'))).toEqual({ code: 0, out: '4 passed, 0 failed\n' });
  });

  it('the CLI prints scenario errors like lint:scenario, suite problems, and unvisited steps', () => {
    const folder = mkdtempSync(join(tmpdir(), 'test-scenario-'));
    const bad = join(folder, 'bad.json');
    writeFileSync(bad, '{\n  "version": "1.0",\n  "start_step": "welcom",\n  "steps": {"welcome": {"type": "message", "message": {"text": "Hi"}}}\n}\n');
    const suite = join(folder, 'suite.json');
    writeFileSync(suite, '{"conversations": [{"name": "hi", "turns": [{"user": "hi"}, {"bot": "Hi"}]}]}');
    expect(testScenario(bad, suite)).toEqual({ code: 1, out: `${bad}:3:17: error: start_step "welcom" is not a step [did you mean "welcome"?]\n` });

    const malformed = join(folder, 'malformed.json');
    writeFileSync(malformed, '{"conversations": [{"name": "hi", "turns": [{"usr": "hi"}]}]}');
    expect(testScenario(join(EXAMPLES, 'menu.json'), malformed)).toEqual({
      code: 1,
      out: `${malformed}:1:46: error: unknown key "usr" in a turn [did you mean "user"?]\n`,
    });

    writeFileSync(suite, '{"conversations": [{"name": "sections only", "turns": [{"user": "hi"}, {"bot": "What would you like to see?"}]}]}');
    expect(testScenario(join(EXAMPLES, 'menu.json'), suite)).toEqual({
      code: 0,
      out: 'steps no conversation visited: starters, mains, desserts, more, bye\n1 passed, 0 failed\n',
    });
    expect(testScenario(join(EXAMPLES, 'menu.json')).code).toBe(2);
  });
});

describe('turns', () => {
  const booking = validScenario({
    version: '1.0',
    start_step: 'hello',
    settings: {
      timeout: { after: '10m', action: 'remind', message: 'Still there?', max_reminders: 2, then: 'abandon' },
      triggers: { commands: ['/book'], keywords: ['book'] },
    },
    steps: {
      hello: {
        type: 'message',
        message: { text: 'Hello, {{user.name|guest}}! How many?' },
        expected_input: { type: 'number', variable: 'guests', max_value: 20 },
        next_step: 'time',
      },
      time: {
        type: 'message',
        message: { text: 'When?' },
        buttons: [
          { text: '18:00', value: '18' },
          { text: '20:00', value: '20' },
        ],
        expected_input: { type: 'button', variable: 'time' },
        next_step: 'photo',
      },
      photo: { type: 'message', message: { text: 'A photo of your ticket?' }, expected_input: { type: 'media', variable: 'ticket' }, next_step: 'done' },
      done: { type: 'action', action: { type: 'end' }, message: { text: 'Booked {{guests}} at {{time}}.' } },
    },
  });

  it('user, bot (exact and regex), press by value or text, media and expect', () => {
    const turns = [
      { user: '/start' },
      { bot: 'Hello, guest! How many?' },
      { user: '4' },
      { bot: { text: '/^when\\?$/i', buttons: ['18:00', '/^20/'] } },
      { press: '20:00' },
      { bot: 'A photo of your ticket?' },
      { expect: { step: 'photo', status: 'active', data: { guests: 4, time: '20' } } },
      { media: { type: 'image', url: 'https://example.com/t.jpg', caption: 'ticket' } },
      { bot: 'Booked 4 at 20.' },
      { expect: { step: null, status: 'completed', data: { ticket: { type: 'image', url: 'https://example.com/t.jpg' } } } },
    ];
    expect(run(booking, { turns })).toEqual([]);
    expect(run(booking, { turns: [{ user: 'hi' }, { user: '4' }, { press: '18' }, { expect: { data: { time: '18' } } }] })).toEqual([]);
  });

  it('says what was expected and what came', () => {
    expect(
      run(booking, {
        turns: [
          { user: 'hi' },
          { bot: 'Hello!' },
          { user: '4' },
          { bot: { text: 'When?', buttons: ['18:00'] } },
          { press: '19:00' },
          { expect: { step: 'photo', status: 'completed', data: { guests: 5, nothing: 1 } } },
          { bot: '/x/' },
        ],
      }),
    ).toEqual([
      '"Hello!" → "Hello, guest! How many?"',
      '"When?" with buttons ["18:00"] → "When?" with buttons ["18:00", "20:00"]',
      'a button "19:00" to press → buttons shown: "18:00", "20:00"',
      'step "photo" → step "time" (active)',
      'status completed → status active',
      'data guests = 5 → guests = 4',
      'data nothing = 1 → nothing = missing',
      '/x/ → no reply',
    ]);
  });

  it('the user profile is the chat user templates read', () => {
    expect(run(booking, { user: { id: '7', name: 'Anna' }, turns: [{ user: 'hi' }, { bot: 'Hello, Anna! How many?' }] })).toEqual([]);
  });

  it('replies no bot turn took are skipped, unless the conversation is strict', () => {
    const turns = [{ user: 'hi' }, { user: '4' }, { bot: 'When?' }, { press: '18' }];
    expect(run(booking, { turns })).toEqual([]);
    expect(run(booking, { strict: true, turns })).toEqual([
      'no further reply before the next message (strict) → "Hello, guest! How many?"',
      'no further reply before the end of the conversation (strict) → "A photo of your ticket?"',
    ]);
  });

  it('a wait fires the timeouts due within it, several in a long one; waits add up', () => {
    expect(run(booking, { turns: [{ user: 'hi' }, { wait: '9m' }, { expect: { status: 'active' } }, { wait: '1m' }, { bot: 'Still there?' }] })).toEqual([]);
    expect(run(booking, { strict: true, turns: [{ user: 'hi' }, { bot: '/Hello/' }, { wait: '9m' }, { wait: '9m' }, { bot: 'Still there?' }] })).toEqual([]);
    expect(
      run(booking, { turns: [{ user: 'hi' }, { wait: '1h' }, { bot: 'Still there?' }, { bot: 'Still there?' }, { expect: { status: 'abandoned' } }] }),
    ).toEqual([]);
    // A message sets the clock back to zero.
    expect(run(booking, { turns: [{ user: 'hi' }, { wait: '9m' }, { user: 'x' }, { wait: '9m' }, { expect: { status: 'active' } }] })).toEqual([]);
  });

  it('a trigger of the scenario starts it over, as the workflow does; its keyword mid-conversation is an answer', () => {
    expect(
      run(booking, {
        turns: [{ user: 'hi' }, { user: '4' }, { user: '/book' }, { bot: 'Hello, guest! How many?' }, { expect: { step: 'hello', data: { guests: null } } }],
      }),
    ).toEqual([]);
    expect(run(booking, { turns: [{ user: 'hi' }, { user: 'I want to book' }, { bot: '/number/' }, { expect: { step: 'hello' } }] })).toEqual([]);
  });

  it('/help answers and changes nothing', () => {
    expect(run(booking, { turns: [{ user: 'hi' }, { user: '4' }, { user: '/help' }, { bot: '/Send \\/start/' }, { expect: { step: 'time' } }] })).toEqual([]);
  });
});

describe('http_request with canned replies', () => {
  const lookup = validScenario({
    version: '1.0',
    start_step: 'ask',
    steps: {
      ask: { type: 'message', message: { text: 'Order?' }, expected_input: { type: 'text', variable: 'id' }, next_step: 'lookup' },
      lookup: {
        type: 'action',
        action: { type: 'http_request', url: 'https://api.example.com/orders/{{id}}', variable: 'order', on_error_step: 'failed' },
        message: { text: 'Status: {{order.status}}' },
        next_step: 'ask',
      },
      failed: { type: 'message', message: { text: 'Lookup failed.' }, next_step: 'ask' },
    },
  });

  it('by URL prefix or /regex/, the first that matches; a status outside 2xx fails the request', () => {
    const http = {
      '/orders\\/A[0-9]+$/': { status: 'ready' },
      'https://api.example.com/orders/B': { status: 200, body: { status: 'late' } },
      'https://api.example.com/orders/': { status: 500 },
    };
    const turns = [
      { user: 'hi' },
      { user: 'A12' },
      { bot: 'Status: ready' },
      { user: 'B7' },
      { bot: 'Status: late' },
      { user: 'C1' },
      { bot: 'Lookup failed.' },
      { expect: { step: 'ask', data: { order: null, id: 'C1' } } },
    ];
    expect(run(lookup, { http, turns })).toEqual([]);
  });

  it('no canned reply: the request fails and the failure names the URL', () => {
    expect(run(lookup, { turns: [{ user: 'hi' }, { user: 'A 1' }, { bot: 'Lookup failed.' }] })).toEqual([
      'a canned reply in "http" for GET https://api.example.com/orders/A%201 → no URL pattern matches; the request failed (http_request_failed)',
    ]);
  });

  it('a chain of requests in one turn is bounded (in a scenario validation would refuse)', () => {
    const loop = scenario({
      version: '1.0',
      start_step: 'ask',
      steps: {
        ask: { type: 'message', message: { text: 'Go?' }, expected_input: { type: 'any' }, next_step: 'call' },
        call: {
          type: 'action',
          action: { type: 'http_request', url: 'https://api.example.com/x', variable: 'r' },
          conditions: [{ condition: 'r.again', next_step: 'call' }],
          next_step: 'ask',
        },
      },
    });
    expect(run(loop, { http: { 'https://api.example.com/': { again: true } }, turns: [{ user: 'hi' }, { user: 'go' }] })).toEqual([
      `at most ${SUITE_LIMITS.requestsPerTurn} http requests in one turn → more; the conversation stopped there`,
    ]);
  });
});

describe('malformed suites', () => {
  const menu = example('menu');

  it('JSON syntax errors, shapes, unknown keys and steps, with line, column and suggestions', () => {
    expect(problems(menu, '{"conversations": [}')).toEqual([{ line: 1, column: 20, message: 'JSON syntax error: ValueExpected', suggestion: undefined }]);
    expect(problems(menu, '[]')).toEqual([{ line: 1, column: 1, message: 'a conversation suite must be an object, not an array', suggestion: undefined }]);
    const text = [
      '{"conversations": [',
      '  {"name": "a", "turns": [',
      '    {"user": "hi", "bot": "x"},',
      '    {"wait": "soon"},',
      '    {"bot": "/(a/"},',
      '    {"expect": {"step": "section", "status": "done"}},',
      '    {"media": {"type": "photo"}},',
      '    {"press": 3},',
      '    {}',
      '  ], "strct": true},',
      '  {"name": "a", "turns": []},',
      '  {"turns": [], "http": {"https://x/": {"status": 999}}}',
      ']}',
    ].join('\n');
    const result = runConversationSuite(menu, text);
    expect(result.valid).toBe(false);
    expect(result.conversations).toEqual([]);
    expect(result.problems.map(({ line, column, message, suggestion }) => [line, column, message, suggestion ?? null])).toEqual([
      [3, 5, 'a turn has exactly one of user, press, media, wait, bot, expect; this one has user and bot', null],
      [4, 14, '"wait" must be a duration such as "30s", "30m", "2h" or "1d", not "soon"', null],
      [5, 15, '"bot": pattern is not valid RE2 syntax: missing closing ): `(a`', null],
      [6, 25, 'the scenario has no step "section"', 'did you mean "sections"?'],
      [6, 46, '"status" must be one of active, completed, abandoned, handoff, failed', null],
      [7, 24, '"type" must be one of image, video, audio, document', null],
      [8, 15, '"press" must be a string, not a number', null],
      [9, 5, 'an empty turn: give one of user, press, media, wait, bot, expect', null],
      [10, 6, 'unknown key "strct" in a conversation', 'did you mean "strict"?'],
      [12, 3, 'missing required field "name"', null],
      [12, 51, '"status" must be an HTTP status (100 to 599), not 999', null],
    ]);
  });

  it('two conversations with one name', () => {
    const text = '{"conversations": [{"name": "a", "turns": []}, {"name": "a", "turns": []}]}';
    expect(problems(menu, text)).toEqual([
      { line: 1, column: 57, message: 'two conversations are named "a"; names identify their results', suggestion: undefined },
    ]);
  });
});

describe('hostile sizes are bounded', () => {
  const menu = example('menu');
  const codes = (text: string) => runConversationSuite(menu, text).problems.map((problem) => problem.code);

  it('a suite of 10,000 turns runs in well under the time box', () => {
    const turns = Array.from({ length: 500 }, (_, i) => [
      { user: 'hi' },
      { press: i % 2 ? 'mains' : 'Desserts' },
      { press: 'menu' },
      { bot: 'What would you like to see?' },
    ])
      .flat()
      .slice(0, 1000);
    const suite = JSON.stringify({ conversations: Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, turns })) });
    const started = performance.now();
    const result = runConversationSuite(menu, suite);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.passed).toBe(10);
  });

  it('too many conversations, turns, characters or levels are refused, not run', () => {
    const many = (count: number) => JSON.stringify({ conversations: Array.from({ length: count }, (_, i) => ({ name: `c${i}`, turns: [] })) });
    expect(codes(many(SUITE_LIMITS.conversations))).toEqual([]);
    expect(codes(many(SUITE_LIMITS.conversations + 1))).toEqual(['invalid_suite']);
    const long = JSON.stringify({
      conversations: [{ name: 'a', turns: Array.from({ length: SUITE_LIMITS.turnsPerConversation + 1 }, () => ({ user: 'x' })) }],
    });
    expect(codes(long)).toEqual(['invalid_suite']);
    const total = JSON.stringify({
      conversations: Array.from({ length: 21 }, (_, i) => ({ name: `c${i}`, turns: Array.from({ length: 1000 }, () => ({ user: 'x' })) })),
    });
    expect(codes(total)).toEqual(['invalid_suite']);
    expect(codes(' '.repeat(SUITE_LIMITS.textCharacters + 1))).toEqual(['suite_too_large']);
    expect(codes('['.repeat(1_000_000))).toEqual(['suite_too_large']);
    expect(codes(JSON.stringify({ conversations: [{ name: 'a', turns: [{ bot: `/${'a'.repeat(1001)}/` }] }] }))).toEqual(['invalid_suite']);
    expect(codes(JSON.stringify({ conversations: [{ name: 'a', turns: [{ bot: '/a{1000}{1000}/' }] }] }))).toEqual(['invalid_suite']);
    expect(runConversationSuite(menu, 42 as unknown as string).valid).toBe(false);
  });

  it('a long wait fires a bounded number of timeouts', () => {
    const reminders = validScenario({
      version: '1.0',
      start_step: 'ask',
      settings: { timeout: { after: '1s', action: 'remind', message: 'ping', max_reminders: 100_000 } },
      steps: { ask: { type: 'message', message: { text: 'Q?' }, expected_input: { type: 'text' }, next_step: 'ask' } },
    });
    const result = runConversationSuite(
      reminders,
      JSON.stringify({ conversations: [{ name: 'a', strict: true, turns: [{ user: 'hi' }, { bot: 'Q?' }, { wait: '1000d' }] }] }),
    );
    const [failure] = result.conversations[0].failures;
    expect(failure.got.split('; ')).toHaveLength(SUITE_LIMITS.timeoutsPerWait);
  });
});
