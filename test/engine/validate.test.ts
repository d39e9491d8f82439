import { validateScenario, validateScenarioText } from '../../src/engine';
import type { Diagnostic, ValidationResult } from '../../src/engine';

type Json = Record<string, unknown>;

/** A small valid scenario; tests change one thing at a time. */
function base(): Json {
  return {
    version: '1.0',
    start_step: 'welcome',
    variables: { guests: { type: 'number', default: 2 } },
    steps: {
      welcome: { id: 'welcome', type: 'message', message: { text: 'Hi!' }, next_step: 'ask_guests' },
      ask_guests: {
        id: 'ask_guests',
        type: 'message',
        message: { text: 'How many?' },
        expected_input: { type: 'number', variable: 'guests' },
        conditions: [{ condition: 'guests > 8', next_step: 'large' }],
        next_step: 'bye',
      },
      large: { id: 'large', type: 'message', message: { text: 'Large party of {{guests}}' } },
      bye: { id: 'bye', type: 'action', action: { type: 'end' }, message: { text: 'Bye' } },
    },
  };
}

function withChange(change: (scenario: Json & { steps: Record<string, Json>; settings?: Json }) => void): ValidationResult {
  const scenario = base() as Json & { steps: Record<string, Json> };
  change(scenario);
  return validateScenario(scenario);
}

const codes = (diagnostics: Diagnostic[]) => diagnostics.map((diagnostic) => diagnostic.code);

describe('a valid scenario', () => {
  it('has no errors or warnings and returns the scenario', () => {
    const result = validateScenario(base());
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.scenario?.start_step).toBe('welcome');
  });

  it('fills in missing step ids from their keys', () => {
    const result = withChange((scenario) => delete scenario.steps.large.id);
    expect(result.scenario?.steps.large.id).toBe('large');
  });
});

describe('JSON syntax', () => {
  test.each<[string, string, number, number, RegExp]>([
    ['missing comma', '{\n  "version": "1.0"\n  "start_step": "a"\n}', 3, 3, /expected ','/],
    ['trailing comma', '{\n  "version": "1.0",\n}', 3, 1, /trailing comma/],
    ['comment', '{\n  // note\n  "version": "1.0"\n}', 2, 3, /comments are not allowed/],
    ['single quotes', "{'version': 1}", 1, 2, /unexpected|property name/],
    ['unclosed string', '{"version": "1.0}', 1, 13, /never closed/],
    ['unclosed object', '{"version": "1.0"', 1, 18, /expected '}'/],
    ['empty document', '', 1, 1, /empty|expected a value/],
    ['content after the end', '{} {}', 1, 4, /after the end/],
  ])('%s', (_name, text, line, column, message) => {
    const result = validateScenarioText(text);
    expect(result.valid).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ severity: 'error', code: 'json_syntax', line, column });
    expect(result.errors[0].message).toMatch(message);
  });

  it('reports duplicate keys where the second one is', () => {
    const result = validateScenarioText('{\n  "version": "1.0",\n  "version": "2.0",\n  "start_step": "a",\n  "steps": {"a": {"type": "message"}}\n}');
    expect(result.errors).toEqual([expect.objectContaining({ code: 'duplicate_key', path: '/version', line: 3, column: 3 })]);
  });
});

describe('schema', () => {
  it('is an object', () => {
    for (const value of [null, 1, 'x', [], true]) {
      expect(codes(validateScenario(value).errors)).toEqual(['invalid_type']);
    }
  });

  test.each<[string, (scenario: Json & { steps: Record<string, Json> }) => void, Partial<Diagnostic>]>([
    // A missing start_step is filled in with a warning (seed-sample.test.ts); an empty one is an error.
    ['empty start_step', (s) => (s.start_step = ''), { code: 'out_of_range', path: '/start_step' }],
    ['missing steps', (s) => delete (s as Json).steps, { code: 'missing_field', path: '/steps' }],
    ['wrong type', (s) => (s.version = 1), { code: 'invalid_type', path: '/version', message: '"version" must be a string, not a number' }],
    [
      'unknown key with suggestion',
      (s) => (s.steps.welcome.nex_step = 'x'),
      { code: 'unknown_key', path: '/steps/welcome/nex_step', suggestion: 'did you mean "next_step"?' },
    ],
    ['unknown top-level key', (s) => (s.start = 'x'), { code: 'unknown_key', path: '/start' }],
    ['unknown step type', (s) => (s.steps.large.type = 'mesage'), { code: 'invalid_value', path: '/steps/large/type', suggestion: 'did you mean "message"?' }],
    ['missing step type', (s) => delete s.steps.large.type, { code: 'missing_field', path: '/steps/large/type' }],
    ['unknown action type', (s) => (s.steps.bye.action = { type: 'stop' }), { code: 'invalid_value', path: '/steps/bye/action/type' }],
    [
      'unknown input type',
      (s) => ((s.steps.ask_guests.expected_input as Json).type = 'numbr'),
      { code: 'invalid_value', path: '/steps/ask_guests/expected_input/type', suggestion: 'did you mean "number"?' },
    ],
    [
      'negative min_length',
      (s) => ((s.steps.ask_guests.expected_input as Json).min_length = -1),
      { code: 'out_of_range', path: '/steps/ask_guests/expected_input/min_length' },
    ],
    [
      'fractional max_attempts',
      (s) => ((s.steps.ask_guests.expected_input as Json).max_attempts = 1.5),
      { code: 'invalid_type', path: '/steps/ask_guests/expected_input/max_attempts', message: '"max_attempts" must be a whole number, not a number' },
    ],
    [
      'media item without source',
      (s) => (s.steps.large.message = { media: [{ type: 'image' }] }),
      { code: 'invalid_value', path: '/steps/large/message/media/0' },
    ],
    [
      'media item with both sources',
      (s) => (s.steps.large.message = { media: [{ type: 'image', url: 'u', media_id: 'm' }] }),
      { code: 'invalid_value', path: '/steps/large/message/media/0' },
    ],
    ['empty button value', (s) => (s.steps.large.buttons = [{ text: 'a', value: '' }]), { code: 'out_of_range', path: '/steps/large/buttons/0/value' }],
    [
      'variable name with a dot',
      (s) => ((s.steps.ask_guests.expected_input as Json).variable = 'party.size'),
      { code: 'invalid_value', path: '/steps/ask_guests/expected_input/variable', message: expect.stringContaining('no dots or spaces') },
    ],
    [
      'declared variable name with a space',
      (s) => ((s.variables as Json)['party size'] = { type: 'number' }),
      { code: 'invalid_value', path: '/variables/party size', message: expect.stringContaining('not allowed as a name') },
    ],
    [
      'bad country code',
      (s) => ((s.steps.ask_guests.expected_input as Json).default_country = 'GBR'),
      { code: 'invalid_value', path: '/steps/ask_guests/expected_input/default_country' },
    ],
  ])('%s', (_name, change, expected) => {
    const result = withChange(change);
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ severity: 'error', ...expected }));
    expect(result.scenario).toBeUndefined();
  });

  it('suggests keys that fit where the unknown key is', () => {
    const caption = withChange((s) => (s.steps.large.message = { media: [{ type: 'image', url: 'u', captoin: 'c' }] }));
    expect(caption.errors).toContainEqual(expect.objectContaining({ code: 'unknown_key', suggestion: 'did you mean "caption"?' }));
    const inInput = withChange((s) => Object.assign(s.steps.ask_guests.expected_input as Json, { max_lenght: 3 }));
    expect(inInput.errors).toContainEqual(expect.objectContaining({ suggestion: 'did you mean "max_length"?' }));
    const noFit = withChange((s) => (s.steps.large.text = 'hello'));
    expect(noFit.errors).toEqual([expect.objectContaining({ code: 'unknown_key', path: '/steps/large/text' })]);
    expect(noFit.errors[0]).not.toHaveProperty('suggestion');
  });

  it('still checks step references and condition syntax when the shape is wrong', () => {
    const result = withChange((s) => {
      s.steps.large.type = 'mesage';
      s.steps.welcome.next_step = 'ask_guest';
      (s.steps.ask_guests.conditions as Json[])[0].condition = 'guests >';
    });
    expect(codes(result.errors).sort()).toEqual(['condition_syntax', 'invalid_value', 'unknown_step']);
  });

  it('points schema errors at the line and column in the original text', () => {
    const text = '{\n  "version": "1.0",\n  "start_step": "a",\n  "steps": {\n    "a": {"type": "message", "nex_step": "b"}\n  }\n}';
    expect(validateScenarioText(text).errors).toEqual([expect.objectContaining({ code: 'unknown_key', path: '/steps/a/nex_step', line: 5, column: 30 })]);
  });
});

describe('graph checks', () => {
  test.each<[string, (scenario: Json & { steps: Record<string, Json>; settings?: Json }) => void, Partial<Diagnostic>]>([
    ['unknown start_step', (s) => (s.start_step = 'welcom'), { code: 'unknown_start_step', path: '/start_step', suggestion: 'did you mean "welcome"?' }],
    [
      'unknown next_step',
      (s) => (s.steps.welcome.next_step = 'ask_guest'),
      { code: 'unknown_step', path: '/steps/welcome/next_step', suggestion: 'did you mean "ask_guests"?' },
    ],
    [
      'unknown condition target',
      (s) => ((s.steps.ask_guests.conditions as Json[])[0].next_step = 'larg'),
      { code: 'unknown_step', path: '/steps/ask_guests/conditions/0/next_step', suggestion: 'did you mean "large"?' },
    ],
    [
      'unknown on_error_step',
      (s) => (s.steps.large = { type: 'action', action: { type: 'http_request', url: 'u', variable: 'r', on_error_step: 'oops' } }),
      { code: 'unknown_step', path: '/steps/large/action/on_error_step' },
    ],
    [
      'unknown timeout step',
      (s) => (s.steps.ask_guests.timeout = { after: '1m', action: 'goto', step: 'nowhere' }),
      { code: 'unknown_step', path: '/steps/ask_guests/timeout/step' },
    ],
    [
      'unknown settings timeout step',
      (s) => (s.settings = { timeout: { after: '1m', action: 'goto', step: 'nowhere' } }),
      { code: 'unknown_step', path: '/settings/timeout/step' },
    ],
    [
      'input that leads nowhere',
      (s) => {
        delete s.steps.ask_guests.next_step;
        delete s.steps.ask_guests.conditions;
      },
      { code: 'input_leads_nowhere', path: '/steps/ask_guests/expected_input' },
    ],
    ['loop without input', (s) => (s.steps.large.next_step = 'loop'), { code: 'unknown_step' }],
    ['button input without buttons', (s) => ((s.steps.ask_guests.expected_input as Json).type = 'button'), { code: 'button_input_without_buttons' }],
    [
      'bad pattern',
      (s) => ((s.steps.ask_guests.expected_input as Json).pattern = '[a-'),
      { code: 'invalid_pattern', path: '/steps/ask_guests/expected_input/pattern' },
    ],
    [
      'min_length over max_length',
      (s) => Object.assign(s.steps.ask_guests.expected_input as Json, { min_length: 5, max_length: 2 }),
      { code: 'invalid_range', path: '/steps/ask_guests/expected_input/min_length' },
    ],
    [
      'min_value over max_value',
      (s) => Object.assign(s.steps.ask_guests.expected_input as Json, { min_value: 5, max_value: 2 }),
      { code: 'invalid_range', path: '/steps/ask_guests/expected_input/min_value' },
    ],
    [
      'bad duration',
      (s) => (s.steps.ask_guests.timeout = { after: '30 minutes', action: 'abandon' }),
      { code: 'invalid_duration', path: '/steps/ask_guests/timeout/after' },
    ],
    [
      'goto without step',
      (s) => (s.steps.ask_guests.timeout = { after: '30m', action: 'remind', then: 'goto' }),
      { code: 'missing_field', path: '/steps/ask_guests/timeout' },
    ],
    ['step id differs from key', (s) => (s.steps.large.id = 'big'), { code: 'step_id_mismatch', path: '/steps/large/id' }],
    [
      'duplicate button values',
      (s) =>
        (s.steps.large.buttons = [
          { text: 'A', value: 'x' },
          { text: 'B', value: 'x' },
        ]),
      { code: 'duplicate_button_value', path: '/steps/large/buttons/1/value' },
    ],
    [
      'duplicate variant button values',
      (s) =>
        (s.steps.large = {
          type: 'conditional_message',
          variants: [
            {
              condition: 'guests > 1',
              message: { text: 'a' },
              buttons: [
                { text: 'A', value: 'x' },
                { text: 'B', value: 'x' },
              ],
            },
          ],
        }),
      { code: 'duplicate_button_value', path: '/steps/large/variants/0/buttons/1/value' },
    ],
    [
      'condition syntax',
      (s) => ((s.steps.ask_guests.conditions as Json[])[0].condition = 'guests >'),
      { code: 'condition_syntax', path: '/steps/ask_guests/conditions/0/condition' },
    ],
    [
      'variant condition syntax',
      (s) => (s.steps.large = { type: 'conditional_message', variants: [{ condition: 'guests = 1', message: { text: 'a' } }] }),
      { code: 'condition_syntax', path: '/steps/large/variants/0/condition' },
    ],
  ])('%s', (_name, change, expected) => {
    const result = withChange(change);
    expect(result.valid).toBe(false);
    expect(result.errors).toContainEqual(expect.objectContaining({ severity: 'error', ...expected }));
  });

  it('gives no suggestion when no step name is close', () => {
    const [error] = withChange((s) => (s.steps.welcome.next_step = 'zzzzzz')).errors;
    expect(error.code).toBe('unknown_step');
    expect(error).not.toHaveProperty('suggestion');
  });

  it('finds a loop in which no step waits for input', () => {
    const result = withChange((s) => {
      s.steps.large.next_step = 'again';
      s.steps.again = { type: 'message', message: { text: 'again' }, next_step: 'large' };
    });
    expect(result.errors).toEqual([
      expect.objectContaining({ code: 'loop_without_input', path: '/steps/large', message: expect.stringContaining('large → again → large') }),
    ]);
  });

  it('reports a missing settings timeout step once, however many steps wait', () => {
    const result = withChange((s) => {
      s.settings = { timeout: { after: '1m', action: 'goto', step: 'nowhere' } };
      s.steps.large = { type: 'message', expected_input: { type: 'text', variable: 'x' }, next_step: 'bye' };
    });
    expect(codes(result.errors)).toEqual(['unknown_step']);
  });

  it('finds a step that leads to itself', () => {
    const result = withChange((s) => (s.steps.large.next_step = 'large'));
    expect(codes(result.errors)).toEqual(['loop_without_input']);
  });

  it('accepts a loop through a step that waits for input', () => {
    const result = withChange((s) => (s.steps.large.next_step = 'ask_guests'));
    expect(result.errors).toEqual([]);
  });

  it('treats an http_request step as not waiting (a loop through it is an error)', () => {
    const result = withChange((s) => {
      s.steps.large = { type: 'action', action: { type: 'http_request', url: 'https://api.example.com/r', variable: 'r' }, next_step: 'large' };
    });
    expect(codes(result.errors)).toEqual(['loop_without_input']);
  });
});

describe('warnings', () => {
  test.each<[string, (scenario: Json & { steps: Record<string, Json>; settings?: Json }) => void, Partial<Diagnostic>]>([
    ['unreachable step', (s) => (s.steps.orphan = { type: 'message', message: { text: 'x' } }), { code: 'unreachable_step', path: '/steps/orphan' }],
    [
      'unknown variable in a template',
      (s) => (s.steps.large.message = { text: 'Party of {{guest}}' }),
      { code: 'unknown_variable', path: '/steps/large/message/text', suggestion: 'did you mean "guests"?' },
    ],
    [
      'unknown variable in a condition',
      (s) => ((s.steps.ask_guests.conditions as Json[])[0].condition = 'gests > 8'),
      { code: 'unknown_variable', path: '/steps/ask_guests/conditions/0/condition', suggestion: 'did you mean "guests"?' },
    ],
    [
      'unknown variable in a url',
      (s) => (s.steps.large = { type: 'action', action: { type: 'http_request', url: 'https://x/{{order_id}}', variable: 'r' } }),
      { code: 'unknown_variable', path: '/steps/large/action/url' },
    ],
    ['unclosed placeholder', (s) => (s.steps.large.message = { text: 'Party of {{guests' }), { code: 'template_syntax', path: '/steps/large/message/text' }],
    ['answer not stored', (s) => delete (s.steps.ask_guests.expected_input as Json).variable, { code: 'answer_not_stored' }],
    [
      'default of the wrong type',
      (s) => ((s.variables as Json).guests = { type: 'number', default: 'two' }),
      { code: 'variable_default_type', path: '/variables/guests/default' },
    ],
    ['fields an end action ignores', (s) => (s.steps.bye.next_step = 'welcome'), { code: 'unused_field', path: '/steps/bye/action/type' }],
    ['conditions without a fallback step', (s) => delete s.steps.ask_guests.next_step, { code: 'no_fallback_step', path: '/steps/ask_guests/conditions' }],
    [
      'bare word that names a variable',
      (s) => ((s.steps.ask_guests.conditions as Json[])[0].condition = 'guests > guests'),
      { code: 'word_is_variable_name', path: '/steps/ask_guests/conditions/0/condition' },
    ],
    [
      'then without remind',
      (s) => (s.steps.ask_guests.timeout = { after: '1m', action: 'abandon', then: 'reset' }),
      { code: 'unused_field', path: '/steps/ask_guests/timeout' },
    ],
    [
      'long chain without input',
      (s) => {
        s.settings = { max_auto_transitions: 2 };
        s.steps.large.next_step = 'l2';
        s.steps.l2 = { type: 'message', next_step: 'l3' };
        s.steps.l3 = { type: 'message', next_step: 'l4' };
        s.steps.l4 = { type: 'message' };
      },
      { code: 'too_many_auto_transitions', path: '/steps/large' },
    ],
  ])('%s', (_name, change, expected) => {
    const result = withChange(change);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.warnings).toContainEqual(expect.objectContaining({ severity: 'warning', ...expected }));
  });

  it('does not warn about a variable that has a fallback', () => {
    const result = withChange((s) => (s.steps.large.message = { text: 'Hi {{restaurant.name|there}}' }));
    expect(result.warnings).toEqual([]);
  });

  it('knows variables set by actions and collected by inputs', () => {
    const result = withChange((s) => {
      s.steps.welcome = { type: 'action', action: { type: 'set_variable', variable: 'source', value: 'bot' }, next_step: 'ask_guests' };
      s.steps.large.message = { text: '{{source}} {{guests}}' };
    });
    expect(result.warnings).toEqual([]);
  });
});

describe('platform limits', () => {
  const buttons = (count: number, text = 'Option') => Array.from({ length: count }, (_, index) => ({ text: `${text} ${index}`, value: `v${index}` }));

  test.each<[string, Json, RegExp]>([
    ['4 buttons: WhatsApp', { buttons: buttons(4) }, /WhatsApp at most 3 reply buttons/],
    ['11 buttons: WhatsApp list', { buttons: buttons(11) }, /WhatsApp at most 10 list rows/],
    ['14 buttons: Messenger', { buttons: buttons(14) }, /Messenger at most 13 quick replies/],
    ['26 buttons: Slack and Discord', { buttons: buttons(26) }, /Slack at most 25 .*Discord at most 25/],
    ['101 buttons: Telegram', { buttons: buttons(101) }, /Telegram at most 100/],
    ['long button title', { buttons: [{ text: 'Reservations for tonight', value: 'r' }] }, /24 characters, over WhatsApp 20, Messenger 20/],
    ['very long button label', { buttons: [{ text: 'x'.repeat(81), value: 'r' }] }, /Slack 75, Discord 80/],
    ['callback data over 64 bytes', { buttons: [{ text: 'ok', value: 'я'.repeat(33) }] }, /66 bytes in UTF-8; Telegram callback_data holds at most 64/],
    ['text over 2000', { message: { text: 'x'.repeat(2001) } }, /2001 characters, over the limit of Discord 2000, Messenger 2000/],
    ['text over 4096', { message: { text: 'x'.repeat(4097) } }, /Telegram 4096, WhatsApp 4096/],
    ['text with buttons over 1024', { message: { text: 'x'.repeat(1025) }, buttons: buttons(1) }, /WhatsApp \(interactive body\) 1024/],
    ['caption over 1024', { message: { media: [{ type: 'image', url: 'u', caption: 'c'.repeat(1025) }] } }, /caption is 1025 characters/],
    ['album over 10', { message: { media: Array.from({ length: 11 }, () => ({ type: 'image', url: 'u' })) } }, /albums hold at most 10/],
  ])('%s', (_name, fields, message) => {
    const result = withChange((s) => Object.assign(s.steps.large, fields));
    expect(result.valid).toBe(true);
    expect(result.warnings).toContainEqual(expect.objectContaining({ code: 'platform_limit', message: expect.stringMatching(message) }));
  });
});

describe('media ids', () => {
  const withMedia = () => ({
    ...base(),
    steps: { ...(base().steps as Json), large: { id: 'large', type: 'message', message: { media: [{ type: 'image', media_id: 'photo-1' }] } } },
  });

  it('are not checked without a list of known ids', () => {
    expect(validateScenario(withMedia()).valid).toBe(true);
  });

  it('must exist when known ids are given', () => {
    const result = validateScenario(withMedia(), { knownMediaIds: new Set(['photo-2']) });
    expect(result.errors).toEqual([
      expect.objectContaining({ code: 'unknown_media', path: '/steps/large/message/media/0/media_id', suggestion: 'did you mean "photo-2"?' }),
    ]);
    expect(validateScenario(withMedia(), { knownMediaIds: new Set(['photo-1']) }).valid).toBe(true);
  });
});

describe('positions', () => {
  it('puts a condition error on the exact column, past escapes in the JSON string', () => {
    const text = [
      '{',
      '  "version": "1.0",',
      '  "start_step": "a",',
      '  "steps": {',
      '    "a": {"type": "message", "expected_input": {"type": "text", "variable": "n"},',
      '          "conditions": [{"condition": "n == \\"x\\" and (", "next_step": "a"}]}',
      '  }',
      '}',
    ].join('\n');
    const [error] = validateScenarioText(text).errors;
    // The condition `n == "x" and (` fails at its end (its column 15): the closing quote in the file,
    // which is two characters further right than a count that ignored the escapes.
    expect(error).toMatchObject({ code: 'condition_syntax', line: 6, column: 57 });
    expect(text.split('\n')[5].slice(56)).toBe('", "next_step": "a"}]}');
    const unknown = validateScenarioText(text.replace('n == \\"x\\" and (', 'n == \\"x\\" and zz')).warnings.find(
      (warning) => warning.code === 'unknown_variable',
    );
    expect(unknown).toMatchObject({ code: 'unknown_variable', line: 6, column: 56 });
  });

  it('puts a template warning on the placeholder', () => {
    const text = '{"version": "1.0", "start_step": "a", "steps": {"a": {"type": "message", "message": {"text": "Hi {{nme}}"}}}}';
    const [warning] = validateScenarioText(text).warnings;
    expect(warning).toMatchObject({ code: 'unknown_variable', line: 1 });
    expect(text.slice(warning.column! - 1).startsWith('nme}}')).toBe(true);
  });

  it('points a step-level diagnostic at the step key', () => {
    const text = '{"version": "1.0", "start_step": "a",\n "steps": {"a": {"type": "message"},\n  "b": {"type": "message"}}}';
    expect(validateScenarioText(text).warnings).toEqual([expect.objectContaining({ code: 'unreachable_step', line: 3, column: 3 })]);
  });

  it('gives positions in the pretty-printed text for parsed objects', () => {
    const result = withChange((s) => (s.steps.welcome.next_step = 'nope'));
    expect(result.errors[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });
});

describe('validateScenario', () => {
  it('does not throw on values JSON cannot hold', () => {
    const cyclic: Json = {};
    cyclic.self = cyclic;
    for (const value of [undefined, BigInt(1), cyclic, () => 1]) {
      expect(validateScenario(value).valid).toBe(false);
    }
  });
});
