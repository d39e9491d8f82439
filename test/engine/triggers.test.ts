import { findTriggerClash, matchTrigger, validateScenario } from '../../src/engine';
import type { ScenarioTriggers, UserInput } from '../../src/engine';

const menu = { id: 'menu', triggers: { commands: ['/menu'], keywords: ['menu', 'carte'] } };
const booking = { id: 'booking', triggers: { commands: ['/book'], keywords: ['book', 'table booking'] } };
const feedback = { id: 'feedback', triggers: { keywords: ['feedback'] } };
const routes = [menu, booking, feedback];

const text = (value: string): UserInput => ({ kind: 'text', text: value });
const matched = (input: UserInput) => {
  const match = matchTrigger(routes, input);
  return match ? { scenario: match.route.id, kind: match.kind, trigger: match.trigger } : null;
};

describe('matchTrigger: commands', () => {
  it('matches a command input exactly, whatever its case, slash or @botname', () => {
    expect(matched({ kind: 'command', command: 'menu' })).toEqual({ scenario: 'menu', kind: 'command', trigger: '/menu' });
    expect(matched({ kind: 'command', command: '/MENU', args: 'drinks' })).toEqual({ scenario: 'menu', kind: 'command', trigger: '/menu' });
    expect(matched({ kind: 'command', command: 'menu@TableBot' })?.scenario).toBe('menu');
  });

  it('matches a text that begins with the command', () => {
    expect(matched(text('/Menu'))?.scenario).toBe('menu');
    expect(matched(text('  /menu@table_bot please'))?.scenario).toBe('menu');
    expect(matched(text('/book'))).toEqual({ scenario: 'booking', kind: 'command', trigger: '/book' });
  });

  it('does not match a longer or different command, and a command never matches as a keyword', () => {
    expect(matched(text('/menus'))).toBeNull();
    expect(matched({ kind: 'command', command: 'start' })).toBeNull();
    expect(matched(text('/feedback'))).toBeNull();
  });
});

describe('matchTrigger: keywords', () => {
  it('matches whole words, whatever their case or the punctuation around them', () => {
    expect(matched(text('Show me the MENU, please!'))).toEqual({ scenario: 'menu', kind: 'keyword', trigger: 'menu' });
    expect(matched(text('la carte?'))?.scenario).toBe('menu');
    expect(matched(text('menu'))?.scenario).toBe('menu');
  });

  it('does not match inside another word', () => {
    expect(matched(text('menus'))).toBeNull();
    expect(matched(text('booking'))).toBeNull();
    expect(matched(text('cartel'))).toBeNull();
  });

  it('matches a phrase of several words, the longer phrase first', () => {
    expect(matched(text('a table  Booking for two'))).toEqual({ scenario: 'booking', kind: 'keyword', trigger: 'table booking' });
  });

  it('takes the keyword found earliest in the text', () => {
    expect(matched(text('feedback about the menu'))?.scenario).toBe('feedback');
    expect(matched(text('the menu, and feedback'))?.scenario).toBe('menu');
  });

  it('compares composed and decomposed letters alike', () => {
    const cafe = [{ id: 'cafe', triggers: { keywords: ['Café'] } }];
    expect(matchTrigger(cafe, text('un cafe\u0301 svp'))?.route.id).toBe('cafe');
  });

  it('never matches buttons, media or other inputs', () => {
    expect(matched({ kind: 'button', value: 'menu', text: 'menu' })).toBeNull();
    expect(matched({ kind: 'contact', phone: '+1', name: 'menu' })).toBeNull();
    expect(matchTrigger([], text('menu'))).toBeUndefined();
  });

  it('reads only the first 4,096 characters of a hostile text, in time linear in it', () => {
    const long = `${'a '.repeat(2_048)}menu`;
    expect(matched(text(long))).toBeNull();
    const words = 'x'.repeat(60).concat(' ').repeat(100_000);
    expect(matched(text(words))).toBeNull();
  });
});

describe('findTriggerClash', () => {
  it('names the shared trigger and the other scenario', () => {
    const candidate: ScenarioTriggers = { commands: ['/help_me'], keywords: ['Carte'] };
    expect(findTriggerClash(candidate, routes)).toEqual({ trigger: 'carte', kind: 'keyword', other: menu });
    expect(findTriggerClash({ commands: ['/MENU'] }, routes)).toEqual({ trigger: '/menu', kind: 'command', other: menu });
  });

  it('finds none between a command and a keyword of the same word, or overlapping phrases', () => {
    expect(findTriggerClash({ commands: ['/feedback'], keywords: ['booking', 'table'] }, routes)).toBeUndefined();
    expect(findTriggerClash(undefined, routes)).toBeUndefined();
  });
});

describe('settings.triggers validation', () => {
  const withTriggers = (triggers: unknown) =>
    validateScenario({
      version: '1.0',
      start_step: 'hi',
      settings: { triggers },
      steps: { hi: { id: 'hi', type: 'message', message: { text: 'Hi' } } },
    });
  const problems = (triggers: unknown) => withTriggers(triggers).errors.map((error) => `${error.path}: ${error.message}`);

  it('accepts commands and keywords', () => {
    const result = withTriggers({ commands: ['/menu', '/Carte_2'], keywords: ['menu', 'table booking', 'Café'] });
    expect(result.errors).toEqual([]);
    expect(result.scenario?.settings?.triggers?.keywords).toEqual(['menu', 'table booking', 'Café']);
  });

  it('refuses commands without a slash, with spaces, too long, or built in', () => {
    expect(problems({ commands: ['menu'] })).toEqual([expect.stringMatching(/^\/settings\/triggers\/commands\/0: .*must be "\/" and 1 to 32 letters/)]);
    expect(problems({ commands: ['/two words'] })).toHaveLength(1);
    expect(problems({ commands: [`/${'m'.repeat(33)}`] })).toHaveLength(1);
    expect(problems({ commands: ['/Start'] })).toEqual([expect.stringContaining('/settings/triggers/commands/0: is a built-in command')]);
  });

  it('refuses empty, wordless, long and many-word keywords', () => {
    expect(problems({ keywords: [''] })).toEqual([expect.stringContaining('/settings/triggers/keywords/0: must contain a word')]);
    expect(problems({ keywords: ['?!'] })).toHaveLength(1);
    expect(problems({ keywords: ['k'.repeat(51)] })).toHaveLength(1);
    expect(problems({ keywords: ['one two three four five'] })).toEqual([expect.stringContaining('at most 4 words')]);
  });

  it('bounds how many there are, and refuses unknown keys', () => {
    expect(problems({ commands: Array.from({ length: 11 }, (_, i) => `/c${i}`) })).toHaveLength(1);
    expect(problems({ keywords: Array.from({ length: 21 }, (_, i) => `k${i}`) })).toHaveLength(1);
    expect(problems({ keyword: ['menu'] })).toHaveLength(1);
  });
});
