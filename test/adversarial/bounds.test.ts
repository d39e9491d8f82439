/**
 * The hostile chat user and the hostile tenant against workflow code: catastrophic patterns, huge
 * answers, templates that double a value each step, huge replies and operator data. Every turn must
 * stay bounded (CONTRACT §3 "Bounds"): the engine answers at once, never throws, and on the real
 * stack another chat's reply and /health keep their normal latency while the attack runs.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { advance, initialState, validateInput, validateScenarioText } from '../../src/engine';
import { MAX_DATA_BYTES, MAX_INPUT_CHARACTERS, MAX_TEXT_BYTES, MAX_VALUE_BYTES, jsonBytes } from '../../src/engine/bounds';
import { utf8Length } from '../../src/engine/json';
import { evaluateCondition, parseCondition } from '../../src/engine/conditions';
import type { AdvanceResult, DialogState, EngineInput, Scenario, UserInput } from '../../src/engine/types';
import { hasWatchdogPatch, STOCK_ISOLATE_EXECUTION_TIMEOUT, watchdogTuning } from '../../worker';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { events, play, say, scenario } from '../engine/helpers';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

const CATASTROPHIC = '^([a-z]+\\s?)*$';
/** Hostile messages per attacking chat in the stack test (40 letters alone would take hours with a backtracking engine). */
const ATTACK_ROUNDS = 30;
const DOUBLING_STEPS = 40;

/** `set_variable` steps that each double `x`, chained without input (2^40 characters if unbounded). */
function doublingSteps(count: number, last: string): Record<string, object> {
  const steps: Record<string, object> = {};
  for (let index = 1; index <= count; index += 1) {
    steps[`double${index}`] = {
      type: 'action',
      action: { type: 'set_variable', variable: 'x', value: '{{x}}{{x}}' },
      next_step: index === count ? last : `double${index + 1}`,
    };
  }
  return steps;
}

const doubling = scenario({
  start_step: 'double1',
  variables: { x: { type: 'string', default: 'ab' } },
  settings: { max_auto_transitions: DOUBLING_STEPS + 5 },
  steps: { ...doublingSteps(DOUBLING_STEPS, 'done'), done: { type: 'action', action: { type: 'end' }, message: { text: 'done' } } },
});

const asking = (expected: object) =>
  scenario({
    start_step: 'ask',
    steps: {
      ask: { type: 'message', message: { text: 'Your answer?' }, expected_input: { variable: 'answer', ...expected }, next_step: 'thanks' },
      thanks: { type: 'message', message: { text: 'Thanks.' } },
    },
  });

/** The dialog as it waits on the start step of `scenarioValue`. */
const waiting = (scenarioValue: Scenario): DialogState => advance(scenarioValue, initialState(), { type: 'start' }).state;

const errorsOf = (result: AdvanceResult) => events(result.effects).filter((event) => event.kind === 'error');
const sentTexts = (result: AdvanceResult) => result.effects.flatMap((effect) => (effect.type === 'send' ? [effect.message] : []));

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

describe('patterns run in linear time', () => {
  it.each([32, 40, MAX_INPUT_CHARACTERS])('the catastrophic pattern on %i letters and "!" answers at once (no match)', (length) => {
    const answer = `${'a'.repeat(length)}!`;
    const { value, ms } = timed(() => validateInput({ type: 'text', pattern: CATASTROPHIC }, { kind: 'text', text: answer }));
    expect(value.valid).toBe(false);
    expect(ms).toBeLessThan(1_000);
  });

  it('the catastrophic pattern through advance(): the answer is refused and re-asked, in well under a second', () => {
    const ask = asking({ type: 'text', pattern: CATASTROPHIC, error_message: 'Letters only.' });
    const { value, ms } = timed(() => advance(ask, waiting(ask), say(`${'a'.repeat(MAX_INPUT_CHARACTERS - 1)}!`)));
    expect(events(value.effects).map((event) => event.kind)).toEqual(['input_invalid']);
    expect(sentTexts(value).map((message) => message.text)).toEqual(['Letters only.']);
    expect(ms).toBeLessThan(1_000);
  });

  it('keeps the meaning of an unanchored search, and anchors where the pattern says so', () => {
    expect(validateInput({ type: 'text', pattern: '\\d' }, { kind: 'text', text: 'room 12' }).valid).toBe(true);
    expect(validateInput({ type: 'text', pattern: '^\\d+$' }, { kind: 'text', text: 'room 12' }).valid).toBe(false);
    expect(validateInput({ type: 'text', pattern: "^[\\p{L} .'-]+$" }, { kind: 'text', text: "Zoë O'Neil" }).valid).toBe(true);
  });

  const withPattern = (pattern: string) =>
    JSON.stringify(
      {
        version: '1.0',
        start_step: 'ask',
        steps: {
          ask: { id: 'ask', type: 'message', message: { text: 'Code?' }, expected_input: { type: 'text', variable: 'code', pattern }, next_step: 'done' },
          done: { id: 'done', type: 'message', message: { text: 'Thanks.' } },
        },
      },
      null,
      2,
    );

  it.each([
    ['a backreference', '^(a+)\\1$', '\\1', /backreference/],
    ['a lookahead', '^(?=.*\\d)[a-z0-9]+$', '(?=', /lookahead/],
    ['a negative lookbehind', '(?<!x)y', '(?<!', /lookbehind/],
    ['a JavaScript \\u escape', '^\\u00e9$', '\\u', /\\u escapes/],
  ])('%s is refused at validation, with line, column and a suggestion', (_name, pattern, culprit, message) => {
    const text = withPattern(pattern);
    const result = validateScenarioText(text);
    expect(result.valid).toBe(false);
    const error = result.errors.find((item) => item.code === 'invalid_pattern');
    expect(error).toMatchObject({ path: '/steps/ask/expected_input/pattern', message: expect.stringMatching(message), suggestion: expect.any(String) });
    // The column points at the construct inside the pattern string, as an editor shows the file.
    const line = text.split('\n')[(error?.line as number) - 1];
    const rawCulprit = JSON.stringify(culprit).slice(1, -1);
    expect(line.slice((error?.column as number) - 1).startsWith(rawCulprit)).toBe(true);
  });

  it('a pattern too complex to match quickly is refused at validation', () => {
    const result = validateScenarioText(withPattern('.{1000}.{1000}'));
    expect(result.errors.find((item) => item.code === 'invalid_pattern')?.message).toMatch(/too complex/);
  });

  it('a pattern RE2 accepts passes validation', () => {
    expect(validateScenarioText(withPattern('^[A-Za-z]{2}-?\\d{3,8}$')).valid).toBe(true);
  });
});

describe('answers are cut at 4,096 characters before any rule runs', () => {
  it('a 100,000-character answer is stored as its first 4,096 characters', () => {
    const ask = asking({ type: 'text', max_length: MAX_INPUT_CHARACTERS });
    const result = advance(ask, waiting(ask), say('x'.repeat(100_000)));
    expect(result.state.collectedData.answer).toBe('x'.repeat(MAX_INPUT_CHARACTERS));
    expect(result.state.status).toBe('completed');
  });

  it('characters are code points: 100,000 emoji keep 4,096 whole emoji, no half surrogate pair', () => {
    const ask = asking({ type: 'any' });
    const result = advance(ask, waiting(ask), say('😀'.repeat(100_000)));
    const stored = result.state.collectedData.answer as string;
    expect([...stored]).toHaveLength(MAX_INPUT_CHARACTERS);
    expect(stored).toBe('😀'.repeat(MAX_INPUT_CHARACTERS));
  });

  it.each<[string, UserInput]>([
    ['a button value', { kind: 'button', value: 'v'.repeat(100_000) }],
    ['command arguments', { kind: 'command', command: 'order', args: 'a'.repeat(100_000) }],
    ['a contact name', { kind: 'contact', phone: '+44 20 7946 0958', name: 'n'.repeat(100_000) }],
  ])('%s is cut too', (_name, input) => {
    const ask = asking({ type: 'any' });
    const result = advance(ask, waiting(ask), { type: 'message', input });
    const stored = JSON.stringify(result.state.collectedData.answer);
    expect(stored.length).toBeLessThan(2 * MAX_INPUT_CHARACTERS + 100);
  });

  it('a command name full of "@" is read in linear time', () => {
    const ask = asking({ type: 'any' });
    const { ms } = timed(() => advance(ask, waiting(ask), { type: 'message', input: { kind: 'command', command: `${'@'.repeat(100_000)} x` } }));
    expect(ms).toBeLessThan(1_000);
  });
});

describe('texts, values and data are capped as they are built', () => {
  it(`a chain of ${DOUBLING_STEPS} set_variable steps doubling {{x}} stops with an error event, no huge string built`, () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const { value: result, ms } = timed(() => advance(doubling, initialState(), { type: 'start' }));
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(result.state.status).toBe('failed');
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: expect.stringMatching(/^(text|value)_too_large$/) })]);
    // The step that would pass the bound did not store anything: x is at most 64 KiB.
    expect(jsonBytes(result.state.collectedData.x)).toBeLessThanOrEqual(MAX_VALUE_BYTES);
    expect(result.state.currentStep).toMatch(/^double\d+$/);
    expect(Number(result.state.currentStep?.slice('double'.length))).toBeLessThan(20);
    expect(sentTexts(result)).toEqual([]);
    expect(ms).toBeLessThan(1_000);
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  });

  it('the failed dialog starts over at the next message, and fails the same way again', () => {
    const [first, second] = play(doubling, [{ type: 'start' }, say('hello')]);
    expect(first.state.status).toBe('failed');
    expect(second.state.status).toBe('failed');
    expect(events(second.effects)[0]).toMatchObject({ kind: 'step_entered', step: 'double1' });
  });

  it('a template with 10,000 placeholders of a 60 KB value stops at the bound instead of building 600 MB', () => {
    const wide = scenario({
      start_step: 'show',
      variables: { big: { type: 'string', default: 'b'.repeat(60_000) } },
      steps: { show: { type: 'message', message: { text: '{{big}}'.repeat(10_000) } } },
    });
    const { value: result, ms } = timed(() => advance(wide, initialState(), { type: 'start' }));
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'text_too_large', step: 'show' })]);
    expect(result.state.status).toBe('failed');
    expect(sentTexts(result)).toEqual([]);
    expect(ms).toBeLessThan(1_000);
  });

  it('a message whose buttons together pass 64 KiB is not sent', () => {
    const buttons = Array.from({ length: 10 }, (_, index) => ({ text: '{{big}}', value: `b${index}` }));
    const crowded = scenario({
      start_step: 'show',
      variables: { big: { type: 'string', default: 'b'.repeat(10_000) } },
      steps: { show: { type: 'message', message: { text: 'Pick one' }, buttons, expected_input: { type: 'button', variable: 'pick' } } },
    });
    const result = advance(crowded, initialState(), { type: 'start' });
    expect(errorsOf(result)[0]).toMatchObject({ code: 'text_too_large' });
    expect(sentTexts(result)).toEqual([]);
  });

  it('set_variable copying a value into an array many times stops at the value bound', () => {
    const copies = scenario({
      start_step: 'copy',
      variables: { big: { type: 'string', default: 'c'.repeat(30_000) } },
      steps: { copy: { type: 'action', action: { type: 'set_variable', variable: 'list', value: Array.from({ length: 1_000 }, () => '{{big}}') } } },
    });
    const { value: result, ms } = timed(() => advance(copies, initialState(), { type: 'start' }));
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'value_too_large' })]);
    expect(result.state.collectedData.list).toBeUndefined();
    expect(ms).toBeLessThan(1_000);
  });

  it('an http_request URL repeating a 60 KB value 1,000 times stops at the bound: no request, no 180 MB string', () => {
    const repeating = scenario({
      start_step: 'fetch',
      variables: { big: { type: 'string', default: 'u'.repeat(60_000) } },
      steps: { fetch: { type: 'action', action: { type: 'http_request', url: `https://api.example.com/x?q=${'{{big}}'.repeat(1_000)}`, variable: 'r' } } },
    });
    const { value: result, ms } = timed(() => advance(repeating, initialState(), { type: 'start' }));
    expect(result.effects.some((effect) => effect.type === 'http_request')).toBe(false);
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'text_too_large', step: 'fetch' })]);
    expect(ms).toBeLessThan(1_000);
  });

  it('an http_request reply of 200 KiB is not stored: value_too_large, the dialog fails', () => {
    const fetcher = scenario({
      start_step: 'fetch',
      steps: {
        fetch: { type: 'action', action: { type: 'http_request', url: 'https://api.example.com/menu', variable: 'menu' }, next_step: 'show' },
        show: { type: 'message', message: { text: 'Menu: {{menu.title}}' } },
      },
    });
    const started = advance(fetcher, initialState(), { type: 'start' });
    expect(started.effects.at(-1)).toMatchObject({ type: 'http_request', step: 'fetch' });
    const reply = { title: 'Menu', items: 'i'.repeat(200 * 1024) };
    const result = advance(fetcher, started.state, { type: 'action_result', step: 'fetch', ok: true, value: reply });
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'value_too_large', step: 'fetch' })]);
    expect(result.state).toMatchObject({ status: 'failed', currentStep: 'fetch' });
    expect(result.state.collectedData.menu).toBeUndefined();
    expect(sentTexts(result)).toEqual([]);
  });

  it('collected data growing past 256 KiB stops at the variable that would pass it', () => {
    const steps: Record<string, object> = {};
    for (let index = 1; index <= 6; index += 1) {
      steps[`copy${index}`] = {
        type: 'action',
        action: { type: 'set_variable', variable: `v${index}`, value: '{{big}}' },
        next_step: index === 6 ? null : `copy${index + 1}`,
      };
    }
    const growing = scenario({ start_step: 'copy1', variables: { big: { type: 'string', default: 'g'.repeat(60_000) } }, steps });
    const result = advance(growing, initialState(), { type: 'start' });
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'data_too_large', step: 'copy4' })]);
    expect(Object.keys(result.state.collectedData).sort()).toEqual(['big', 'v1', 'v2', 'v3']);
    expect(jsonBytes(result.state.collectedData)).toBeLessThanOrEqual(MAX_DATA_BYTES);
  });

  it("an operator's set_state over the bounds changes nothing and says why", () => {
    const ask = asking({ type: 'text' });
    const before = waiting(ask);
    for (const [collectedData, code] of [
      [{ note: 'n'.repeat(MAX_VALUE_BYTES + 1) }, 'value_too_large'],
      [Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`k${index}`, 'd'.repeat(60_000)])), 'data_too_large'],
    ] as const) {
      const result = advance(ask, before, { type: 'set_state', currentStep: 'thanks', collectedData });
      expect(errorsOf(result)).toEqual([expect.objectContaining({ code })]);
      expect(result.state).toEqual(before);
    }
  });

  it('a reminder over the text bound does not break the timeout policy the workflow asks for', () => {
    const reminding = scenario({
      start_step: 'ask',
      variables: { big: { type: 'string', default: 'r'.repeat(40_000) } },
      settings: { timeout: { after: '1m', action: 'remind', message: '{{big}}{{big}}', max_reminders: 1 } },
      steps: { ask: { type: 'message', message: { text: 'Still?' }, expected_input: { type: 'text', variable: 'a' } } },
    });
    const state = waiting(reminding);
    const result = advance(reminding, state, { type: 'timeout' });
    expect(errorsOf(result)).toEqual([expect.objectContaining({ code: 'text_too_large' })]);
    expect(result.state.status).toBe('failed');
  });
});

describe('conditions are bounded', () => {
  it('a condition of 100,000 characters is refused at once', () => {
    const { value, ms } = timed(() => parseCondition(`x == ${'1'.repeat(100_000)}`));
    expect(value.ok).toBe(false);
    expect(ms).toBeLessThan(100);
  });

  it('parentheses nested 500 deep are a syntax error, not a stack overflow', () => {
    const deep = `${'('.repeat(500)}x${')'.repeat(500)}`;
    expect(parseCondition(deep)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/nested more than/) } });
    expect(parseCondition(`${'not '.repeat(400)}x`)).toMatchObject({ ok: false });
  });

  it('"in [...]" against a large object reads the object once', () => {
    const data = { order: Object.fromEntries(Array.from({ length: 2_000 }, (_, index) => [`k${index}`, 'v'.repeat(25)])) };
    const list = Array.from({ length: 250 }, (_, index) => `"w${index}"`).join(',');
    const { value, ms } = timed(() => evaluateCondition(`order in [${list}]`, data));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(200);
  });
});

describe('advance never throws for hostile input', () => {
  const hostileScenarios = [
    doubling,
    asking({ type: 'text', pattern: CATASTROPHIC }),
    asking({ type: 'email' }),
    asking({ type: 'number' }),
    asking({ type: 'phone' }),
    asking({ type: 'date' }),
  ];
  const hugeText = fc.oneof(
    fc.string({ maxLength: 50 }),
    fc
      .tuple(fc.constantFrom('a', 'a ', '@', '😀', '1', '.', '{{x}}'), fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('', '!', ' ', '@x'))
      .map(([unit, count, tail]) => unit.repeat(count) + tail),
  );
  const userInput: fc.Arbitrary<UserInput> = fc.oneof(
    hugeText.map((text) => ({ kind: 'text' as const, text })),
    hugeText.map((value) => ({ kind: 'button' as const, value })),
    fc.tuple(hugeText, hugeText).map(([command, args]) => ({ kind: 'command' as const, command, args })),
  );

  it('for any scenario above and any sequence of huge answers, within the bounds', () => {
    fc.assert(
      fc.property(fc.constantFrom(...hostileScenarios), fc.array(userInput, { minLength: 1, maxLength: 4 }), (chosen, inputs) => {
        let state = initialState();
        const started = performance.now();
        for (const input of [{ type: 'start' } as EngineInput, ...inputs.map((item): EngineInput => ({ type: 'message', input: item }))]) {
          const result = advance(chosen, state, input);
          for (const message of sentTexts(result)) expect(utf8Length(message.text ?? '')).toBeLessThanOrEqual(MAX_TEXT_BYTES);
          for (const value of Object.values(result.state.collectedData)) expect(jsonBytes(value)).toBeLessThanOrEqual(MAX_VALUE_BYTES);
          state = result.state;
        }
        expect(performance.now() - started).toBeLessThan(2_000);
      }),
      { numRuns: 60, seed: 27 },
    );
  });
});

describe('the SDK patch that removes the sandbox watchdog', () => {
  const patchedFiles = ['reusable-vm.js', 'vm.js'].map((file) => readFileSync(require.resolve(`@temporalio/worker/lib/workflow/${file}`), 'utf8'));
  /** The SDK's own text of each call into the sandbox, as before patches/ (see the patch's "-" lines). */
  const unpatch = (source: string) =>
    source.replace(/\.\.\.\(isolateExecutionTimeoutMs > 0 \? \{ timeout: isolateExecutionTimeoutMs \} : \{\}\),/g, 'timeout: isolateExecutionTimeoutMs,');

  it('is applied in this install, and the worker then runs without the watchdog', () => {
    expect(patchedFiles.every(hasWatchdogPatch)).toBe(true);
    const warnings: string[] = [];
    expect(watchdogTuning((message) => warnings.push(message))).toEqual({ isolateExecutionTimeout: 0 });
    expect(warnings).toEqual([]);
  });

  it('missing (another package manager, --ignore-scripts): detected at start, stock timeout and a warning', () => {
    const unpatched = patchedFiles.map(unpatch);
    expect(unpatched[0]).not.toEqual(patchedFiles[0]);
    expect(unpatched.some(hasWatchdogPatch)).toBe(false);
    const warnings: string[] = [];
    expect(
      watchdogTuning(
        (message) => warnings.push(message),
        () => unpatched,
      ),
    ).toEqual({ isolateExecutionTimeout: STOCK_ISOLATE_EXECUTION_TIMEOUT });
    expect(warnings).toEqual([expect.stringMatching(/without patches/)]);
  });

  it('unreadable SDK files count as unpatched', () => {
    const warnings: string[] = [];
    const unreadable = () => {
      throw new Error('ENOENT');
    };
    expect(watchdogTuning((message) => warnings.push(message), unreadable)).toEqual({ isolateExecutionTimeout: STOCK_ISOLATE_EXECUTION_TIMEOUT });
    expect(warnings).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// On the real stack: the worker and the API share this process, as with `npm start`.

const victimScenario = {
  version: '1.0',
  start_step: 'ask',
  steps: {
    ask: { id: 'ask', type: 'message', message: { text: 'Your name?' }, expected_input: { type: 'text', variable: 'name' }, next_step: 'thanks' },
    thanks: { id: 'thanks', type: 'message', message: { text: 'Thanks, {{name}}.' } },
  },
};
const patternScenario = {
  version: '1.0',
  start_step: 'ask',
  steps: {
    ask: {
      id: 'ask',
      type: 'message',
      message: { text: 'Word?' },
      expected_input: { type: 'text', variable: 'w', pattern: CATASTROPHIC, error_message: 'Letters only.' },
      next_step: 'done',
    },
    done: { id: 'done', type: 'message', message: { text: 'Done.' } },
  },
};
const doublingScenario = {
  version: '1.0',
  start_step: 'double1',
  variables: { x: { type: 'string', default: 'ab' } },
  settings: { max_auto_transitions: DOUBLING_STEPS + 5 },
  steps: Object.fromEntries(
    Object.entries({ ...doublingSteps(DOUBLING_STEPS, 'done'), done: { type: 'action', action: { type: 'end' }, message: { text: 'done' } } }).map(
      ([id, step]) => [id, { id, ...step }],
    ),
  ),
};

describe.each(DB_KINDS)('on the real stack (%s)', (dbKind) => {
  let stack: Stack;
  let tg: FakeTelegram;
  let victim: Awaited<ReturnType<Stack['createBot']>>;
  let patterned: Awaited<ReturnType<Stack['createBot']>>;
  let doubler: Awaited<ReturnType<Stack['createBot']>>;
  let update = 1;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    victim = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: victimScenario });
    patterned = await stack.createBot({ platform: 'telegram', credentials: { token: '7000002:AAH-test-token' }, scenario: patternScenario });
    doubler = await stack.createBot({ platform: 'telegram', credentials: { token: '7000003:AAH-test-token' }, scenario: doublingScenario });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
  });

  const post = (bot: { id: string; webhookSecret?: string }, chat: number, text: string) => {
    const req = telegramUpdate({ updateId: update++, chatId: chat, text, secret: bot.webhookSecret });
    return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);
  };
  const textsTo = (chat: number) =>
    tg
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chat) && c.status === 200)
      .map((c) => c.body.text as string);

  /** A fresh victim chat: the time from its first message to its bot's reply, and /health's time. */
  async function victimRound(chat: number): Promise<{ replyMs: number; healthMs: number }> {
    const started = performance.now();
    expect((await post(victim, chat, '/start')).status).toBe(200);
    await eventually(() => textsTo(chat).length >= 1 || undefined, 30_000, `reply to victim chat ${chat}`);
    const replyMs = performance.now() - started;
    const healthStarted = performance.now();
    const health = await stack.http.get('/health');
    expect(health.status).toBe(200);
    return { replyMs, healthMs: performance.now() - healthStarted };
  }

  it("while one chat sends the worst pattern input and another the doubling template, a third chat's reply and /health keep their latency", async () => {
    // Warm up, then the baseline: the slowest of three rounds.
    await victimRound(100);
    const baseline = [await victimRound(101), await victimRound(102), await victimRound(103)];
    const baseReply = Math.max(...baseline.map((round) => round.replyMs));
    const baseHealth = Math.max(...baseline.map((round) => round.healthMs));

    expect((await post(patterned, 200, '/start')).status).toBe(200);
    await eventually(() => textsTo(200).length >= 1 || undefined, 30_000, 'the pattern bot asks');
    // Sent while the victim's rounds run (a supertest request leaves on its first `then`).
    const attacks: Promise<unknown>[] = [];
    for (let round = 0; round < ATTACK_ROUNDS; round += 1) {
      attacks.push(post(patterned, 200, `${'a'.repeat(4_000)}!`).then((answer) => expect(answer.status).toBe(200)));
      attacks.push(post(doubler, 300, `go ${round}`).then((answer) => expect(answer.status).toBe(200)));
    }
    const underAttack = [await victimRound(104), await victimRound(105), await victimRound(106)];
    await Promise.all(attacks);

    for (const round of underAttack) {
      expect(round.replyMs).toBeLessThan(5 * baseReply + 1_000);
      expect(round.healthMs).toBeLessThan(5 * baseHealth + 1_000);
    }
    // The attacks were really run: every pattern answer was refused and re-asked...
    await eventually(
      () => textsTo(200).filter((text) => text === 'Letters only.').length >= ATTACK_ROUNDS || undefined,
      60_000,
      'every pattern answer refused',
    );
    // ...and every doubling run stopped at its bound, leaving the dialog failed, the value within it.
    const doublerErrors = async () =>
      (await stack.db('dialog_events').where({ bot_id: doubler.id, chat_id: '300', kind: 'error' }).select('data')).map((row) =>
        typeof row.data === 'string' ? JSON.parse(row.data) : row.data,
      );
    const errors = await eventually(
      async () => ((await doublerErrors()).length >= ATTACK_ROUNDS ? doublerErrors() : undefined),
      60_000,
      'every doubling run stopped',
    );
    for (const error of errors) expect(error.code).toMatch(/^(text|value)_too_large$/);
    const state = (await stack.http.get(`/v1/bots/${doubler.id}/dialogs/telegram/300`).set(doubler.headers)).body;
    expect(state.status).toBe('failed');
    expect(jsonBytes(state.collected_data.x)).toBeLessThanOrEqual(MAX_VALUE_BYTES);
    expect(textsTo(300)).toEqual([]);
  }, 180_000);

  it('an operator PUT over the bounds is 413 in the error envelope, and the dialog is unchanged', async () => {
    const path = `/v1/bots/${victim.id}/dialogs/telegram/400`;
    expect((await post(victim, 400, '/start')).status).toBe(200);
    await eventually(() => textsTo(400).length >= 1 || undefined, 30_000, 'victim chat 400 started');
    const before = (await stack.http.get(path).set(victim.headers)).body;

    for (const [collectedData, code] of [
      [{ note: 'n'.repeat(MAX_VALUE_BYTES + 1) }, 'value_too_large'],
      [Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`k${index}`, 'd'.repeat(60_000)])), 'data_too_large'],
    ] as const) {
      const answer = await stack.http.put(path).set(victim.headers).send({ collected_data: collectedData, expected_version: before.version });
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({ error: { code, message: expect.stringMatching(/too large/), details: null } });
    }
    const after = (await stack.http.get(path).set(victim.headers)).body;
    expect(after).toMatchObject({ version: before.version, collected_data: before.collected_data, current_step: before.current_step });
  });
});
