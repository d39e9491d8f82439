import { advance, initialState, validateScenarioText } from '../../src/engine';
import type { DialogState } from '../../src/engine';
import { command, say, scenario, sent } from './helpers';

const greeting = scenario({
  start_step: 'hello',
  steps: {
    hello: { type: 'message', message: { text: 'Hello, {{user.name|guest}}!' }, next_step: 'ask' },
    ask: { type: 'message', message: { text: 'Your table, {{user.username}}?' }, expected_input: { type: 'text', variable: 'table' }, next_step: 'copy' },
    copy: {
      type: 'action',
      action: { type: 'set_variable', variable: 'booked_by', value: '{{user.id}}' },
      message: { text: 'Table {{table}} for {{user.name}} ({{user.language|?}})' },
    },
  },
});

const ada: DialogState = { ...initialState(), user: { id: '1111', name: 'Ada', username: 'ada_l', language: 'en' } };

describe('templates read the chat user at the reserved root `user`', () => {
  it('renders the profile, and the fallback while there is none', () => {
    expect(sent(advance(greeting, ada, say('hi')).effects)).toEqual(['Hello, Ada!', 'Your table, ada_l?']);
    expect(sent(advance(greeting, initialState(), say('hi')).effects)).toEqual(['Hello, guest!', 'Your table, ?']);
  });

  it('keeps the profile out of the collected data, across /start', () => {
    const started = advance(greeting, ada, say('hi')).state;
    const done = advance(greeting, started, say('7'));
    expect(sent(done.effects)).toEqual(['Table 7 for Ada (en)']);
    expect(done.state.collectedData).toEqual({ table: '7', booked_by: '1111' });
    expect(done.state.user).toEqual(ada.user);
    const restarted = advance(greeting, done.state, command('start'));
    expect(restarted.state.user).toEqual(ada.user);
    expect(restarted.state.collectedData).toEqual({});
  });

  it('a collected value named user cannot stand in for the profile', () => {
    const forged: DialogState = { ...ada, collectedData: { user: { name: 'Mallory' } } };
    expect(sent(advance(greeting, forged, say('hi')).effects)[0]).toBe('Hello, Ada!');
  });
});

describe('validation of the reserved name `user`', () => {
  /** A scenario text: `ask` stores its answer in `variable`, then `more` steps run. */
  const text = (options: { variables?: string; variable?: string; more?: string[] } = {}) => `{
  "version": "1.0",
  "start_step": "ask",
  "variables": {${options.variables ?? ''}},
  "steps": {
    "ask": {"type": "message", "message": {"text": "Hi {{user.name}}"}, "expected_input": {"type": "text", "variable": "${options.variable ?? 'table'}"}, "next_step": "${options.more ? 'set' : 'bye'}"},
${(options.more ?? []).map((step) => `    ${step},`).join('\n')}
    "bye": {"type": "message", "message": {"text": "Bye, {{user.username}}"}}
  }
}`;

  it('does not warn about {{user.*}} as an unknown variable', () => {
    const result = validateScenarioText(text());
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('refuses a variable named user, declared or collected, with its position', () => {
    const declared = validateScenarioText(text({ variables: '"user": {"type": "string"}' }));
    expect(declared.valid).toBe(false);
    expect(declared.errors).toEqual([expect.objectContaining({ code: 'reserved_variable', path: '/variables/user', line: 4, column: 17 })]);

    const collected = validateScenarioText(text({ variable: 'user' }));
    expect(collected.errors).toEqual([expect.objectContaining({ code: 'reserved_variable', path: '/steps/ask/expected_input/variable', line: 6 })]);
  });

  it('refuses set_variable and http_request storing into user', () => {
    const result = validateScenarioText(
      text({
        more: [
          '"set": {"type": "action", "action": {"type": "set_variable", "variable": "user", "value": 1}, "next_step": "call"}',
          '"call": {"type": "action", "action": {"type": "http_request", "method": "GET", "url": "https://api.example.com/x", "variable": "user"}, "next_step": "bye"}',
        ],
      }),
    );
    expect(result.errors.map((error) => [error.code, error.path, error.line])).toEqual([
      ['reserved_variable', '/steps/set/action/variable', 7],
      ['reserved_variable', '/steps/call/action/variable', 8],
    ]);
  });
});
