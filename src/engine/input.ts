/**
 * Checking a user's answer against a step's `expected_input`, and turning it into a typed value:
 * numbers as numbers, dates as YYYY-MM-DD, times as HH:MM (24-hour), phones in E.164, e-mails trimmed
 * with a lower-case domain.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { RE2JS } from 're2js';
import { MAX_PATTERN_PROGRAM_SIZE } from './bounds';
import { characterLength, cloneJson } from './json';
import type { Button, ExpectedInput, JsonValue, UserInput } from './types';

export interface InputValidation {
  valid: boolean;
  /** Set when invalid: the scenario's error_message, or a default for the input type. */
  error_message?: string;
  processed_value: JsonValue;
}

export const DEFAULT_ERROR_MESSAGES: Record<ExpectedInput['type'], string> = {
  text: 'Please send your answer as text.',
  number: 'Please send a number.',
  button: 'Please choose one of the options.',
  date: 'Please send a date, for example 2025-12-31 or 31.12.2025.',
  time: 'Please send a time, for example 19:30 or 7:30 pm.',
  email: 'Please send a valid e-mail address, for example name@example.com.',
  phone: 'Please send a valid phone number in international format, for example +44 20 7946 0958.',
  media: 'Please send a photo, video, audio or document.',
  any: 'Please send an answer.',
};

/** The button a user input selects, matching a value exactly or a button's text or value ignoring case. */
export function matchButton(input: UserInput, buttons: readonly Button[]): Button | undefined {
  if (input.kind === 'button') {
    return (
      buttons.find((button) => button.value === input.value) ??
      buttons.find((button) => sameWords(button.value, input.value) || (input.text !== undefined && sameWords(button.text, input.text)))
    );
  }
  if (input.kind === 'text') {
    return buttons.find((button) => sameWords(button.text, input.text) || sameWords(button.value, input.text));
  }
  return undefined;
}

function sameWords(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The text of an input for text-like types; a button press counts as its value. */
function inputText(input: UserInput): string | null {
  switch (input.kind) {
    case 'text':
      return input.text;
    case 'button':
      return input.value;
    case 'command':
      return `/${input.command}${input.args ? ` ${input.args}` : ''}`;
    case 'contact':
      return input.phone;
    default:
      return null;
  }
}

function parseNumber(text: string): number | null {
  const compact = text.trim().replace(/(?<=\d)[\s\u00a0'_](?=\d{3}\b)/g, '');
  if (!/^[+-]?(\d+([.,]\d+)?|[.,]\d+)$/.test(compact)) return null;
  const value = Number(compact.replace(',', '.'));
  return Number.isFinite(value) ? value : null;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/**
 * ISO date for "2025-12-31", "2025/12/31", "31.12.2025", "31/12/2025" or "31-12-2025" (day first,
 * as in most of the world). Relative words like "tomorrow" are not accepted: the engine has no clock.
 */
export function parseDate(text: string): string | null {
  const trimmed = text.trim();
  let year: number;
  let month: number;
  let day: number;
  let match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(trimmed);
  if (match) {
    [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    match = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/.exec(trimmed);
    if (!match) return null;
    [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  return isRealDate(year, month, day) ? `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}` : null;
}

const TIME_24_HOUR = /^(\d{1,2})(?:[:.](\d{2})|[hH](\d{2})?)$/;
const TIME_12_HOUR = /^(\d{1,2})(?:[:.hH](\d{2}))?\s*([aApP])\.?\s?[mM]\.?$/;

/**
 * "HH:MM" (24-hour) for "19:30", "7:30", "19.30", "19h30", "19h", "7:30 pm", "7pm" or "7 p.m.".
 * A bare number ("7", "1930") is not a time: it is as likely a count of guests or a year.
 */
export function parseTime(text: string): string | null {
  const trimmed = text.trim();
  const twelveHour = TIME_12_HOUR.exec(trimmed);
  if (twelveHour) {
    const hour = Number(twelveHour[1]);
    const minute = Number(twelveHour[2] ?? 0);
    if (hour < 1 || hour > 12 || minute > 59) return null;
    const afternoon = twelveHour[3].toLowerCase() === 'p';
    return `${pad((hour % 12) + (afternoon ? 12 : 0), 2)}:${pad(minute, 2)}`;
  }
  const twentyFourHour = TIME_24_HOUR.exec(trimmed);
  if (!twentyFourHour) return null;
  const hour = Number(twentyFourHour[1]);
  const minute = Number(twentyFourHour[2] ?? twentyFourHour[3] ?? 0);
  return hour <= 23 && minute <= 59 ? `${pad(hour, 2)}:${pad(minute, 2)}` : null;
}

const EMAIL = /^[^\s@"<>(),;:]+@([\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,}$/u;

export function parseEmail(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) return null;
  const at = trimmed.lastIndexOf('@');
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

export function parsePhone(text: string, defaultCountry?: string): string | null {
  const phone = parsePhoneNumberFromString(text.trim(), defaultCountry?.toUpperCase() as CountryCode | undefined);
  return phone && phone.isValid() ? phone.number : null;
}

export type PatternCheck = { ok: true; regex: RE2JS } | { ok: false; index: number; message: string; suggestion?: string };

/** What RE2 refuses that JavaScript patterns often use, and what to write instead. */
const UNSUPPORTED: { construct: RegExp; message: string; suggestion: string }[] = [
  {
    construct: /\\([1-9]|k<)/,
    message: 'backreferences (\\1, \\k<name>) are not supported: patterns run on a linear-time engine (RE2)',
    suggestion: 'match the repeated part explicitly, or check it in a condition after the answer is stored',
  },
  {
    construct: /\(\?<?[=!]/,
    message: 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported: patterns run on a linear-time engine (RE2)',
    suggestion: 'describe the allowed text directly, e.g. "^[A-Za-z0-9]{8,}$", and use min_length/max_length for lengths',
  },
  { construct: /\\u/, message: '\\u escapes are JavaScript syntax', suggestion: 'write \\x{00e9} for a code point' },
  {
    construct: /\\[pP]\{\w+=/,
    message: '\\p{Script=...} is JavaScript syntax',
    suggestion: 'write the script or category name alone, e.g. \\p{Latin} or \\p{L}',
  },
  {
    construct: /\\[pP]\{(Letter|Number|Punctuation|Symbol|Separator|Mark|Other|[A-Za-z]+_[A-Za-z_]+)\}/,
    message: 'long category names are not supported',
    suggestion: 'use the short name, e.g. \\p{L} for letters, \\p{N} for numbers',
  },
];

/**
 * Compiles a `pattern` with RE2 (linear time in the input, no backtracking); a pattern it cannot
 * compile, or one whose program is too large, comes back with where and why.
 */
export function checkPattern(pattern: string): PatternCheck {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern);
  } catch (error) {
    const known = UNSUPPORTED.find((entry) => entry.construct.test(pattern));
    const found = known?.construct.exec(pattern);
    if (known && found) return { ok: false, index: found.index, message: known.message, suggestion: known.suggestion };
    const detail = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    const culprit = /`([^`]*)`$/.exec(detail)?.[1];
    const index = culprit ? Math.max(pattern.indexOf(culprit), 0) : 0;
    return { ok: false, index, message: `pattern is not valid RE2 syntax: ${detail}` };
  }
  if (regex.programSize() > MAX_PATTERN_PROGRAM_SIZE) {
    return {
      ok: false,
      index: 0,
      message: `pattern is too complex: it compiles to ${regex.programSize()} instructions, more than ${MAX_PATTERN_PROGRAM_SIZE}`,
      suggestion: 'use smaller repetition counts (e.g. "+" instead of "{1,500}") and check lengths with min_length/max_length',
    };
  }
  return { ok: true, regex };
}

/**
 * Compiled patterns by source, shared by every dialog on the worker (the engine is loaded once per
 * worker); a pattern compiles in about 0.2 ms. Bounded: the oldest entry goes first.
 */
const compiledPatterns = new Map<string, RE2JS | null>();
const MAX_COMPILED_PATTERNS = 256;

function compilePattern(pattern: string): RE2JS | null {
  const cached = compiledPatterns.get(pattern);
  if (cached !== undefined) return cached;
  const checked = checkPattern(pattern);
  const regex = checked.ok ? checked.regex : null;
  if (compiledPatterns.size >= MAX_COMPILED_PATTERNS) compiledPatterns.delete(compiledPatterns.keys().next().value as string);
  compiledPatterns.set(pattern, regex);
  return regex;
}

type Outcome = { ok: true; value: JsonValue } | { ok: false };

function convert(rules: ExpectedInput, input: UserInput, buttons: readonly Button[]): Outcome {
  const text = inputText(input);
  switch (rules.type) {
    case 'button': {
      const button = matchButton(input, buttons);
      if (button) return { ok: true, value: button.value };
      if (buttons.length === 0 && input.kind === 'button') return { ok: true, value: input.value };
      return { ok: false };
    }
    case 'number': {
      const value = text === null ? null : parseNumber(text);
      return value === null ? { ok: false } : { ok: true, value };
    }
    case 'date': {
      const value = text === null ? null : parseDate(text);
      return value === null ? { ok: false } : { ok: true, value };
    }
    case 'time': {
      const value = text === null ? null : parseTime(text);
      return value === null ? { ok: false } : { ok: true, value };
    }
    case 'email': {
      const value = text === null ? null : parseEmail(text);
      return value === null ? { ok: false } : { ok: true, value };
    }
    case 'phone': {
      const value = text === null ? null : parsePhone(text, rules.default_country);
      return value === null ? { ok: false } : { ok: true, value };
    }
    case 'media':
      return input.kind === 'media' ? { ok: true, value: cloneJson(input.media as JsonValue) } : { ok: false };
    case 'text':
      return text === null ? { ok: false } : { ok: true, value: text.trim() };
    case 'any':
      if (text !== null && input.kind !== 'contact') return { ok: true, value: text.trim() };
      if (input.kind === 'media') return { ok: true, value: cloneJson(input.media as JsonValue) };
      if (input.kind === 'location') return { ok: true, value: { latitude: input.latitude, longitude: input.longitude } };
      if (input.kind === 'contact') return { ok: true, value: input.name ? { phone: input.phone, name: input.name } : { phone: input.phone } };
      return { ok: false };
  }
}

/** `min_value`/`max_value`: numbers bound numbers, "HH:MM" strings bound times (text order is time order). */
function withinBounds(value: JsonValue, rules: ExpectedInput): boolean {
  const bounded = typeof value === 'number' || (rules.type === 'time' && typeof value === 'string');
  if (!bounded) return true;
  const { min_value: min, max_value: max } = rules;
  if (min !== undefined && typeof min === typeof value && value < min) return false;
  return !(max !== undefined && typeof max === typeof value && value > max);
}

/**
 * Validates one answer. `buttons` are the buttons shown with the question (a press of one of them
 * counts as its value for non-button types). Never throws.
 */
export function validateInput(rules: ExpectedInput, input: UserInput, buttons: readonly Button[] = []): InputValidation {
  const fail = (): InputValidation => ({
    valid: false,
    error_message: rules.error_message ?? DEFAULT_ERROR_MESSAGES[rules.type] ?? DEFAULT_ERROR_MESSAGES.any,
    processed_value: null,
  });
  const raw = inputText(input);
  const required = rules.required !== false;
  if (raw !== null && raw.trim() === '' && rules.type !== 'media') {
    return required ? fail() : { valid: true, processed_value: null };
  }
  const outcome = convert(rules, input, buttons);
  if (!outcome.ok) return fail();
  const value = outcome.value;

  if (typeof value === 'string' && ['text', 'email', 'any'].includes(rules.type)) {
    const length = characterLength(value);
    if (rules.min_length !== undefined && length < rules.min_length) return fail();
    if (rules.max_length !== undefined && length > rules.max_length) return fail();
  }
  if (rules.pattern !== undefined && raw !== null && rules.type !== 'button') {
    // A search anywhere in the answer, as JavaScript's RegExp.test: anchor with ^ and $ to match it whole.
    // A pattern RE2 cannot compile (stored before patterns were RE2) is not checked, as before.
    const pattern = compilePattern(rules.pattern);
    if (pattern && !pattern.test(raw.trim())) return fail();
  }
  if (!withinBounds(value, rules)) return fail();
  return { valid: true, processed_value: value };
}
