import { advance, initialState, validateScenarioText } from '../../src/engine';
import { escapeMarkdown, renderTemplate } from '../../src/engine/templates';
import type { Effect, OutgoingMessage } from '../../src/engine';
import { say, scenario } from './helpers';

const HOSTILE = '**x** [a](http://evil) <https://evil> `c` _i_ ~~s~~ # h\n- item\n1. one &amp; \\';

const booking = scenario({
  start_step: 'ask_name',
  steps: {
    ask_name: { type: 'message', message: { text: 'Your name?' }, expected_input: { type: 'text', variable: 'user_name' }, next_step: 'confirm' },
    confirm: {
      type: 'message',
      message: {
        text: 'Your table is **booked**, {{user_name}}! {{nickname|**dear guest**}}',
        format: 'markdown',
        media: [{ type: 'image', url: 'https://x.example/{{user_name}}.png', caption: '{{user_name}}' }],
      },
      buttons: [{ text: 'Thanks {{user_name}}', value: 'thanks' }],
      next_step: 'plain',
    },
    plain: { type: 'message', message: { text: 'Plain: **{{user_name}}**' }, next_step: null },
  },
});

const messages = (effects: Effect[]): OutgoingMessage[] => effects.flatMap((effect) => (effect.type === 'send' ? [effect.message] : []));

describe('markdown messages in the engine', () => {
  it('escapes every value a markdown text substitutes, and nothing else', () => {
    const started = advance(booking, initialState(), { type: 'start' });
    const [confirm, plain] = messages(advance(booking, started.state, say(HOSTILE)).effects);
    expect(confirm).toEqual({
      text: `Your table is **booked**, ${escapeMarkdown(HOSTILE)}! **dear guest**`,
      format: 'markdown',
      media: [{ type: 'image', url: `https://x.example/${HOSTILE}.png`, caption: HOSTILE }],
      buttons: [{ text: `Thanks ${HOSTILE}`, value: 'thanks' }],
    });
    expect(plain).toEqual({ text: `Plain: **${HOSTILE}**` });
    expect(plain).not.toHaveProperty('format');
  });

  it('escapes each ASCII punctuation character with a backslash, so CommonMark reads it literally', () => {
    expect(escapeMarkdown('*a* [b](c) 1. d\\ é😀')).toBe('\\*a\\* \\[b\\]\\(c\\) 1\\. d\\\\ é😀');
    expect(renderTemplate('**{{n}}** {{m}}', { n: 'a_b', m: 3.5 }, undefined, escapeMarkdown)).toBe('**a\\_b** 3\\.5');
  });

  it('takes "plain" and "markdown" and refuses any other format with its line and column', () => {
    const text = (format: string) =>
      `{\n  "start_step": "a",\n  "steps": {\n    "a": {"type": "message", "message": {"text": "Hi", "format": "${format}"}}\n  }\n}`;
    expect(validateScenarioText(text('markdown')).valid).toBe(true);
    expect(validateScenarioText(text('plain')).valid).toBe(true);
    const result = validateScenarioText(text('html'));
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ code: 'invalid_value', path: '/steps/a/message/format', line: 4, column: 66 })]);
    expect(result.errors[0].message).toBe('"html" is not allowed for "format"; expected one of plain, markdown');
  });
});
