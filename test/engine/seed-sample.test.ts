import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateScenario, validateScenarioText } from '../../src/engine';
import { play, say, sent } from './helpers';

const SEED_SAMPLE = readFileSync(join(__dirname, 'fixtures/seed-sample.json'), 'utf8');

/** The product spec's two sample `scenario_data` documents, as JSON, word for word. */
const SPEC_PROCESS_STEP_SAMPLE = `{
  "steps": {
    "welcome": {
      "type": "message",
      "message": {"text": "Hello {{user_name}}!"},
      "next_step": "collect_info"
    }
  }
}`;
const SPEC_ONBOARDING_SAMPLE = `{
  "version": "1.0",
  "steps": {
    "welcome": {
      "id": "welcome",
      "type": "message",
      "message": {"text": "Welcome to GET INN!"},
      "next_step": "collect_name"
    }
  }
}`;

describe("the product spec's sample scenarios", () => {
  it.each([
    ['process_step', SPEC_PROCESS_STEP_SAMPLE, 'collect_info'],
    ['onboarding', SPEC_ONBOARDING_SAMPLE, 'collect_name'],
  ])('%s: the shape is accepted; only the step it names but does not show is an error', (_name, text, missing) => {
    const result = validateScenarioText(text);
    expect(result.errors.map((error) => [error.code, error.path, error.message])).toEqual([
      ['unknown_step', '/steps/welcome/next_step', `step "${missing}" does not exist`],
    ]);
    expect(result.warnings.map((warning) => warning.code)).toContain('start_step_assumed');
  });

  it('fills in start_step as the first step, with a positioned warning, and keeps metadata', () => {
    const result = validateScenarioText(SEED_SAMPLE);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      {
        severity: 'warning',
        code: 'start_step_assumed',
        path: '/start_step',
        line: 8,
        column: 5,
        message: 'no "start_step": dialogs start at "welcome", the first step of "steps"',
        suggestion: 'add "start_step": "welcome"',
      },
    ]);
    expect(result.scenario?.start_step).toBe('welcome');
    expect(result.scenario?.metadata).toEqual(JSON.parse(SEED_SAMPLE).metadata);
  });

  it('runs from the chosen first step', () => {
    const results = play(validateScenarioText(SEED_SAMPLE).scenario!, [{ type: 'start' }, say('R2D2'), say('John Doe')]);
    expect(sent(results[0].effects)).toEqual(['Welcome to GET INN!', 'What is your name?']);
    expect(sent(results[1].effects)).toEqual(['Please enter a valid name (letters only)']);
    expect(sent(results[2].effects)).toEqual(['Hello John Doe!']);
    expect(results[2].state.status).toBe('completed');
  });
});

describe('omitted version and start_step', () => {
  it('takes the first step in the order the document lists it, not JavaScript key order', () => {
    const text = '{"version": "1.0", "steps": {"b": {"type": "message", "next_step": "10"}, "10": {"type": "message"}}}';
    expect(validateScenarioText(text).scenario?.start_step).toBe('b');
  });

  it('reads a document without version as format 1.0, with a warning', () => {
    const result = validateScenario({ start_step: 'a', steps: { a: { type: 'message' } } });
    expect(result.scenario?.version).toBe('1.0');
    expect(result.warnings.map((warning) => [warning.code, warning.path])).toEqual([['version_assumed', '']]);
  });

  it('gives no warning when start_step is given', () => {
    const result = validateScenario({ version: '1.0', start_step: 'b', steps: { a: { type: 'message' }, b: { type: 'message', next_step: 'a' } } });
    expect(result.warnings).toEqual([]);
    expect(result.scenario?.start_step).toBe('b');
  });

  it('is one error when there is no step to start with', () => {
    const result = validateScenario({ version: '1.0', steps: {} });
    expect(result.errors.map((error) => [error.code, error.path])).toEqual([['missing_field', '/start_step']]);
  });

  it('keeps refusing a metadata that is not an object', () => {
    const result = validateScenario({ version: '1.0', metadata: 'draft', start_step: 'a', steps: { a: { type: 'message' } } });
    expect(result.errors.map((error) => [error.code, error.path])).toEqual([['invalid_type', '/metadata']]);
  });
});

describe('time bounds in the scenario', () => {
  const withBounds = (type: string, min_value: unknown, max_value: unknown) =>
    validateScenario({
      version: '1.0',
      start_step: 'q',
      steps: { q: { type: 'message', expected_input: { type, variable: 'v', min_value, max_value }, next_step: 'done' }, done: { type: 'message' } },
    });

  it.each([
    ['time', '12:00', '22:30', []],
    ['time', '7pm', '22:30', ['/steps/q/expected_input/min_value']],
    ['time', 12, '22:30', ['/steps/q/expected_input/min_value']],
    ['time', '22:00', '12:00', ['/steps/q/expected_input/min_value']],
    ['number', 1, 20, []],
    ['number', '12:00', 20, ['/steps/q/expected_input/min_value']],
  ])('%s answers with min_value %j and max_value %j: errors at %j', (type, min, max, paths) => {
    expect(withBounds(type, min, max).errors.map((error) => error.path)).toEqual(paths);
  });
});
