import fc from 'fast-check';
import {
  advance,
  DEFAULT_MAX_AUTO_TRANSITIONS,
  evaluateCondition,
  initialState,
  parseCondition,
  renderTemplate,
  validateInput,
  validateScenario,
  validateScenarioText,
} from '../../src/engine';
import type { AdvanceResult, CollectedData, DialogState, EngineInput, Scenario } from '../../src/engine';
import { kinds } from './helpers';

const RUNS = { numRuns: 300 };

describe('the validator never throws', () => {
  it('on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validateScenario(value);
        expect(typeof result.valid).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('on any text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => void validateScenarioText(text)),
      RUNS,
    );
  });

  it('on any JSON text of a scenario-like object', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (steps, extra) => {
        void validateScenarioText(
          JSON.stringify({
            version: '1.0',
            start_step: 'a',
            steps: { a: steps, b: { type: 'message', ...(typeof extra === 'object' && extra && !Array.isArray(extra) ? extra : {}) } },
          }),
        );
      }),
      RUNS,
    );
  });
});

describe('the pure helpers never throw', () => {
  const data = fc.dictionary(fc.string(), fc.jsonValue()) as fc.Arbitrary<CollectedData>;

  it('renderTemplate on any template and data', () => {
    fc.assert(
      fc.property(fc.string(), data, (template, values) => {
        expect(typeof renderTemplate(template, values)).toBe('string');
      }),
      RUNS,
    );
  });

  it('renderTemplate on templates made of placeholders', () => {
    const piece = fc.oneof(fc.string(), fc.stringMatching(/^\{\{[a-z0-9.|]{0,8}\}\}$/), fc.constant('\\{{'));
    fc.assert(
      fc.property(fc.array(piece), data, (pieces, values) => void renderTemplate(pieces.join(''), values)),
      RUNS,
    );
  });

  it('parseCondition on any text, and evaluation of whatever parses', () => {
    const token = fc.constantFrom(
      'a',
      'b.c',
      '1',
      '-2.5',
      '"s"',
      "'t'",
      '==',
      '!=',
      '>',
      '<',
      '>=',
      '<=',
      'contains',
      'exists',
      'in',
      '[',
      ']',
      ',',
      '(',
      ')',
      'and',
      'or',
      'not',
      'true',
      'null',
      'word',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(token).map((tokens) => tokens.join(' ')),
        ),
        data,
        (text, values) => {
          const parsed = parseCondition(text);
          if (parsed.ok) expect(typeof evaluateCondition(parsed.ast, values)).toBe('boolean');
          else expect(parsed.error.column).toBeGreaterThanOrEqual(1);
        },
      ),
      RUNS,
    );
  });

  it('validateInput on any text for every type', () => {
    const type = fc.constantFrom('text', 'number', 'button', 'date', 'email', 'phone', 'media', 'any' as const);
    fc.assert(
      fc.property(type, fc.string(), (inputType, text) => void validateInput({ type: inputType }, { kind: 'text', text })),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random scenarios

const STEP_COUNT = 6;
const ids = Array.from({ length: STEP_COUNT }, (_, index) => `s${index}`);
const stepId = fc.constantFrom(...ids);
const condition = fc.constantFrom('n > 3', 'n == 2', 'choice == a', 'not flag', 'n exists', 'choice in [a, b]', 'n >');

const step = fc.record(
  {
    kind: fc.constantFrom('message', 'conditional_message', 'set_variable', 'http_request', 'handoff', 'end'),
    input: fc.option(fc.constantFrom('text', 'number', 'button', 'any'), { nil: undefined }),
    maxAttempts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    next: fc.option(stepId, { nil: null }),
    conditions: fc.array(fc.record({ condition, next_step: stepId }), { maxLength: 2 }),
    checkpoint: fc.boolean(),
    onError: fc.option(stepId, { nil: undefined }),
  },
  { requiredKeys: ['kind', 'next', 'conditions', 'checkpoint'] },
);

type StepSpec = typeof step extends fc.Arbitrary<infer T> ? T : never;

function buildStep(id: string, spec: StepSpec): Record<string, unknown> {
  const result: Record<string, unknown> = { id, type: 'message', message: { text: `${id} {{n}}` }, next_step: spec.next, checkpoint: spec.checkpoint };
  if (spec.conditions.length) result.conditions = spec.conditions;
  if (spec.input) {
    result.expected_input = {
      type: spec.input,
      variable: spec.input === 'number' ? 'n' : 'choice',
      ...(spec.maxAttempts ? { max_attempts: spec.maxAttempts } : {}),
    };
    if (spec.input === 'button')
      result.buttons = [
        { text: 'A', value: 'a' },
        { text: 'B', value: 'b' },
      ];
  }
  switch (spec.kind) {
    case 'conditional_message':
      Object.assign(result, { type: 'conditional_message', variants: [{ condition: 'n > 3', message: { text: 'big' } }], default_message: { text: 'small' } });
      delete result.message;
      break;
    case 'set_variable':
      Object.assign(result, { type: 'action', action: { type: 'set_variable', variable: 'flag', value: '{{n}}' } });
      break;
    case 'http_request':
      Object.assign(result, {
        type: 'action',
        action: { type: 'http_request', url: 'https://x/{{n}}', variable: 'reply', ...(spec.onError ? { on_error_step: spec.onError } : {}) },
      });
      break;
    case 'handoff':
    case 'end':
      Object.assign(result, { type: 'action', action: { type: spec.kind } });
      break;
    default:
      break;
  }
  return result;
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({
    steps: fc.array(step, { minLength: STEP_COUNT, maxLength: STEP_COUNT }),
    max: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    timeout: fc.option(fc.constantFrom('remind', 'reset', 'abandon', 'goto'), { nil: undefined }),
  })
  .map(({ steps, max, timeout }) => {
    const settings: Record<string, unknown> = {};
    if (max) settings.max_auto_transitions = max;
    if (timeout) settings.timeout = { after: '1m', action: timeout, step: 's0', ...(timeout === 'remind' ? { then: 'reset' } : {}) };
    return {
      version: '1.0',
      start_step: 's0',
      settings,
      variables: { n: { type: 'number', default: 1 } },
      steps: Object.fromEntries(steps.map((spec, index) => [ids[index], buildStep(ids[index], spec)])),
    } as unknown as Scenario;
  });

const userInput: fc.Arbitrary<EngineInput> = fc.oneof(
  fc
    .constantFrom('1', '5', 'a', 'B', 'hello', '/start', '/reset', '/help', '/other', '')
    .map((text): EngineInput => ({ type: 'message', input: { kind: 'text', text } })),
  fc.constantFrom('a', 'b', 'z').map((value): EngineInput => ({ type: 'message', input: { kind: 'button', value } })),
  fc.constant<EngineInput>({ type: 'timeout' }),
  fc.constant<EngineInput>({ type: 'start' }),
  fc.boolean().map((toCheckpoint): EngineInput => ({ type: 'reset', toCheckpoint })),
  stepId.map((currentStep): EngineInput => ({ type: 'set_state', currentStep })),
  fc
    .boolean()
    .map((ok): EngineInput => (ok ? { type: 'action_result', step: 's1', ok, value: { n: 4 } } : { type: 'action_result', step: 's1', ok, error: 'boom' })),
);

/** Answers a pending request the way the workflow would, otherwise sends the scripted input. */
function nextInput(previous: AdvanceResult | undefined, scripted: EngineInput, succeed: boolean): EngineInput {
  const lastEffect = previous?.effects[previous.effects.length - 1];
  if (lastEffect?.type === 'http_request') {
    return succeed
      ? { type: 'action_result', step: lastEffect.step, ok: true, value: { n: 7 } }
      : { type: 'action_result', step: lastEffect.step, ok: false, error: 'HTTP 500' };
  }
  return scripted;
}

describe('running random scenarios', () => {
  it('never takes more than max_auto_transitions steps without waiting, and is deterministic', () => {
    let validCount = 0;
    fc.assert(
      fc.property(scenarioArbitrary, fc.array(fc.tuple(userInput, fc.boolean()), { maxLength: 12 }), (scenario, inputs) => {
        if (validateScenario(scenario).valid) validCount += 1;
        const max = scenario.settings?.max_auto_transitions ?? DEFAULT_MAX_AUTO_TRANSITIONS;
        let state: DialogState = initialState();
        let previous: AdvanceResult | undefined;
        for (const [scripted, succeed] of [[{ type: 'start' } as EngineInput, true] as const, ...inputs]) {
          const input = nextInput(previous, scripted, succeed);
          const snapshot = JSON.stringify(state);
          const result = advance(scenario, state, input);
          expect(JSON.stringify(state)).toBe(snapshot);
          expect(advance(scenario, JSON.parse(snapshot), input)).toEqual(result);
          expect(kinds(result.effects).filter((kind) => kind === 'auto_transition').length).toBeLessThanOrEqual(max);
          const httpIndex = result.effects.findIndex((effect) => effect.type === 'http_request');
          if (httpIndex >= 0) expect(httpIndex).toBe(result.effects.length - 1);
          expect(JSON.parse(JSON.stringify(result.state))).toEqual(result.state);
          previous = result;
          state = result.state;
        }
      }),
      { numRuns: 400 },
    );
    expect(validCount).toBeGreaterThan(0);
  });

  it('a valid scenario that waits or ends never fails for want of input', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (scenario) => {
        const validation = validateScenario(scenario);
        fc.pre(validation.valid && !validation.warnings.some((warning) => warning.code === 'too_many_auto_transitions'));
        const result = advance(scenario, initialState(), { type: 'start' });
        expect(result.state.status).not.toBe('failed');
      }),
      { numRuns: 400 },
    );
  });
});
