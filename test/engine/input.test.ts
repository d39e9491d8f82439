import { DEFAULT_ERROR_MESSAGES, matchButton, parseDate, validateInput } from '../../src/engine';
import { parseTime } from '../../src/engine/input';
import type { Button, ExpectedInput, UserInput } from '../../src/engine';

const text = (value: string): UserInput => ({ kind: 'text', text: value });
const buttons: Button[] = [
  { text: '18:00', value: 'early' },
  { text: 'Late dinner', value: 'late' },
];

type Row = [description: string, rules: ExpectedInput, input: UserInput, valid: boolean, processed?: unknown];

describe('validateInput', () => {
  test.each<Row>([
    // text
    ['text accepted and trimmed', { type: 'text' }, text('  Anna  '), true, 'Anna'],
    ['text empty when required', { type: 'text' }, text('   '), false],
    ['text empty when optional', { type: 'text', required: false }, text(''), true, null],
    ['text min_length', { type: 'text', min_length: 3 }, text('ab'), false],
    ['text min_length counts characters, not bytes', { type: 'text', min_length: 2, max_length: 2 }, text('Яя'), true, 'Яя'],
    ['text min_length counts emoji as one', { type: 'text', max_length: 1 }, text('🍕'), true, '🍕'],
    ['text max_length', { type: 'text', max_length: 3 }, text('abcd'), false],
    ['text pattern (Unicode)', { type: 'text', pattern: '^[\\p{L} ]+$' }, text('Zoë Ñ'), true, 'Zoë Ñ'],
    ['text pattern mismatch', { type: 'text', pattern: '^[\\p{L} ]+$' }, text('R2D2'), false],
    ['text from a button press is its value', { type: 'text' }, { kind: 'button', value: 'late' }, true, 'late'],
    ['text rejects media', { type: 'text' }, { kind: 'media', media: { type: 'image', url: 'u' } }, false],
    ['text keeps an unknown command as text', { type: 'text' }, { kind: 'command', command: 'menu', args: 'x' }, true, '/menu x'],
    // number
    ['number integer', { type: 'number' }, text('4'), true, 4],
    ['number decimal point', { type: 'number' }, text('2.5'), true, 2.5],
    ['number decimal comma', { type: 'number' }, text('2,5'), true, 2.5],
    ['number negative', { type: 'number' }, text('-3'), true, -3],
    ['number thousands separator', { type: 'number' }, text('1 200'), true, 1200],
    ['number with words', { type: 'number' }, text('4 people'), false],
    ['number not a number', { type: 'number' }, text('four'), false],
    ['number Infinity', { type: 'number' }, text('Infinity'), false],
    ['number min_value', { type: 'number', min_value: 1 }, text('0'), false],
    ['number max_value', { type: 'number', max_value: 20 }, text('21'), false],
    ['number at the bounds', { type: 'number', min_value: 1, max_value: 20 }, text('20'), true, 20],
    ['number from a button', { type: 'number' }, { kind: 'button', value: '5' }, true, 5],
    // button
    ['button by value', { type: 'button' }, { kind: 'button', value: 'late' }, true, 'late'],
    ['button typed text, any case', { type: 'button' }, text('late DINNER'), true, 'late'],
    ['button typed value', { type: 'button' }, text('Early'), true, 'early'],
    ['button unknown', { type: 'button' }, text('breakfast'), false],
    ['button unknown press', { type: 'button' }, { kind: 'button', value: 'other' }, false],
    // date
    ['date ISO', { type: 'date' }, text('2026-12-24'), true, '2026-12-24'],
    ['date dotted, day first', { type: 'date' }, text('24.12.2026'), true, '2026-12-24'],
    ['date slashed, day first', { type: 'date' }, text('1/2/2026'), true, '2026-02-01'],
    ['date leap day', { type: 'date' }, text('29.02.2028'), true, '2028-02-29'],
    ['date not a leap year', { type: 'date' }, text('29.02.2027'), false],
    ['date month 13', { type: 'date' }, text('2026-13-01'), false],
    ['date words', { type: 'date' }, text('tomorrow'), false],
    // time
    ['time 24-hour', { type: 'time' }, text(' 19:30 '), true, '19:30'],
    ['time 12-hour', { type: 'time' }, text('7:30 pm'), true, '19:30'],
    ['time from a button press', { type: 'time' }, { kind: 'button', value: '20:00' }, true, '20:00'],
    ['time a count of guests is not a time', { type: 'time' }, text('4'), false],
    ['time inside the window', { type: 'time', min_value: '12:00', max_value: '22:00' }, text('22:00'), true, '22:00'],
    ['time before min_value', { type: 'time', min_value: '12:00' }, text('11:59'), false],
    ['time after max_value', { type: 'time', max_value: '22:00' }, text('10:30 pm'), false],
    ['time bounds compare the stored HH:MM, not the text typed', { type: 'time', min_value: '10:00' }, text('9:30'), false],
    // email
    ['email lower-cases the domain only', { type: 'email' }, text('  Anna.K@Example.COM '), true, 'Anna.K@example.com'],
    ['email without domain dot', { type: 'email' }, text('anna@localhost'), false],
    ['email without at', { type: 'email' }, text('anna.example.com'), false],
    ['email with spaces', { type: 'email' }, text('an na@example.com'), false],
    ['email max_length', { type: 'email', max_length: 5 }, text('a@b.co.uk'), false],
    // phone
    ['phone international', { type: 'phone' }, text('+44 20 7946 0958'), true, '+442079460958'],
    ['phone national with default_country', { type: 'phone', default_country: 'GB' }, text('020 7946 0958'), true, '+442079460958'],
    ['phone national without country', { type: 'phone' }, text('020 7946 0958'), false],
    ['phone garbage', { type: 'phone' }, text('call me'), false],
    ['phone from a shared contact', { type: 'phone' }, { kind: 'contact', phone: '+7 912 345-67-89' }, true, '+79123456789'],
    // media
    ['media accepted', { type: 'media' }, { kind: 'media', media: { type: 'image', media_id: 'm1' } }, true, { type: 'image', media_id: 'm1' }],
    ['media rejects text', { type: 'media' }, text('here'), false],
    // any
    ['any text', { type: 'any' }, text(' hi '), true, 'hi'],
    ['any location', { type: 'any' }, { kind: 'location', latitude: 51.5, longitude: -0.1 }, true, { latitude: 51.5, longitude: -0.1 }],
    ['any contact', { type: 'any' }, { kind: 'contact', phone: '+1', name: 'A' }, true, { phone: '+1', name: 'A' }],
    ['any media', { type: 'any' }, { kind: 'media', media: { type: 'audio', url: 'u' } }, true, { type: 'audio', url: 'u' }],
    ['any empty text when required', { type: 'any' }, text(''), false],
  ])('%s', (_description, rules, input, valid, processed: unknown = undefined) => {
    const result = validateInput(rules, input, buttons);
    expect(result.valid).toBe(valid);
    if (valid) {
      expect(result.processed_value).toEqual(processed);
      expect(result.error_message).toBeUndefined();
    } else {
      expect(result.processed_value).toBeNull();
      expect(result.error_message).toBe(DEFAULT_ERROR_MESSAGES[rules.type]);
    }
  });

  it('uses the scenario error_message when given', () => {
    expect(validateInput({ type: 'number', error_message: 'Digits, please.' }, text('x')).error_message).toBe('Digits, please.');
  });

  it('has a default error message for every type', () => {
    for (const type of ['text', 'number', 'button', 'date', 'time', 'email', 'phone', 'media', 'any'] as const) {
      expect(validateInput({ type }, { kind: 'location', latitude: 0, longitude: 0 }).error_message ?? DEFAULT_ERROR_MESSAGES[type]).toBeTruthy();
    }
  });

  it('ignores a broken pattern instead of throwing', () => {
    expect(validateInput({ type: 'text', pattern: '(' }, text('abc')).valid).toBe(true);
  });

  it('accepts any button press when a button step shows no buttons', () => {
    expect(validateInput({ type: 'button' }, { kind: 'button', value: 'x' }, [])).toEqual({ valid: true, processed_value: 'x' });
  });
});

describe('matchButton', () => {
  it('prefers an exact value match', () => {
    const clash: Button[] = [
      { text: 'b', value: 'a' },
      { text: 'a', value: 'b' },
    ];
    expect(matchButton({ kind: 'button', value: 'b' }, clash)).toEqual(clash[1]);
  });
});

describe('parseDate', () => {
  test.each<[string, string | null]>([
    ['2026-1-5', '2026-01-05'],
    ['2026/12/31', '2026-12-31'],
    ['31-12-2026', '2026-12-31'],
    ['31.04.2026', null],
    ['0000-01-01', null],
    ['2026-12-31T10:00', null],
  ])('%j → %p', (value, expected) => {
    expect(parseDate(value)).toBe(expected);
  });
});

describe('parseTime', () => {
  test.each<[string, string | null]>([
    ['19:30', '19:30'],
    ['7:05', '07:05'],
    ['00:00', '00:00'],
    ['19.30', '19:30'],
    ['19h30', '19:30'],
    ['19H', '19:00'],
    ['7:30 pm', '19:30'],
    ['7:30PM', '19:30'],
    ['7pm', '19:00'],
    ['7 p.m.', '19:00'],
    ['12 am', '00:00'],
    ['12:15 pm', '12:15'],
    ['11.45am', '11:45'],
    ['7', null],
    ['20', null],
    ['1930', null],
    ['0730', null],
    ['24:00', null],
    ['19:60', null],
    ['19:3', null],
    ['13 pm', null],
    ['0 am', null],
    ['19:30:00', null],
    ['half past seven', null],
    ['-1:30', null],
  ])('%j → %p', (value, expected) => {
    expect(parseTime(value)).toBe(expected);
  });
});
