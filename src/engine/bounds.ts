/**
 * How much one turn may read and build (CONTRACT §3 "Bounds"). Workflow code runs on the worker's
 * main thread, so nothing a chat user or a tenant controls may make one activation slow or one
 * history heavy: answers are cut before any rule runs, and texts, values and the collected data
 * are measured as they are built. Sizes are UTF-8 bytes (of the text, or of the value as JSON).
 */
import { utf8Length } from './json';
import type { CollectedData, JsonValue, UserInput } from './types';

/** A user's text is cut to this many characters (Unicode code points, as `max_length` counts). */
export const MAX_INPUT_CHARACTERS = 4_096;
/** A rendered text: a message with its captions and button texts, a help or error message, a header. */
export const MAX_TEXT_BYTES = 64 * 1024;
/** One variable's value as JSON. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** `collected_data` as a whole, as JSON. */
export const MAX_DATA_BYTES = 256 * 1024;
/**
 * A `pattern`'s compiled program (RE2's measure of its cost). Matching is linear in the input, and
 * this keeps the factor small: at most a few milliseconds for a 4,096-character answer.
 */
export const MAX_PATTERN_PROGRAM_SIZE = 1_000;

export type BoundCode = 'text_too_large' | 'value_too_large' | 'data_too_large';

/** A bound was passed; `advance()` turns it into an `error` event and fails the turn. */
export class TooLarge extends Error {
  constructor(
    readonly code: BoundCode,
    message: string,
  ) {
    super(message);
    this.name = 'TooLarge';
  }
}

/** Size of a value as JSON, in UTF-8 bytes. */
export function jsonBytes(value: JsonValue | CollectedData): number {
  return utf8Length(JSON.stringify(value) ?? 'null');
}

/** Bytes spent on one thing being built; passing the limit throws `TooLarge` at once. */
export class Budget {
  private spent = 0;

  constructor(
    private readonly limit: number,
    private readonly code: BoundCode,
    private readonly what: string,
  ) {}

  spend(bytes: number): void {
    this.spent += bytes;
    if (this.spent > this.limit) throw new TooLarge(this.code, `${this.what} is over ${this.limit} bytes`);
  }
}

export const textBudget = (what = 'a rendered text'): Budget => new Budget(MAX_TEXT_BYTES, 'text_too_large', what);
export const valueBudget = (what = 'a rendered value'): Budget => new Budget(MAX_VALUE_BYTES, 'value_too_large', what);

/** Throws `TooLarge` when a variable's value or the data with it passes its bound. */
export function checkValue(variable: string, value: JsonValue): void {
  const bytes = jsonBytes(value);
  if (bytes > MAX_VALUE_BYTES) throw new TooLarge('value_too_large', `the value of "${variable}" is ${bytes} bytes as JSON, over ${MAX_VALUE_BYTES}`);
}

/** Throws `TooLarge` when any value of the data, or the data as a whole, passes its bound. */
export function checkData(data: CollectedData): void {
  const bytes = jsonBytes(data);
  if (bytes <= MAX_DATA_BYTES) {
    // Under the total, a single value can still be over its own bound only if it is big itself.
    if (bytes > MAX_VALUE_BYTES) for (const [name, value] of Object.entries(data)) checkValue(name, value);
    return;
  }
  throw new TooLarge('data_too_large', `collected_data is ${bytes} bytes as JSON, over ${MAX_DATA_BYTES}`);
}

/** The first MAX_INPUT_CHARACTERS code points of a text (never half of a surrogate pair). */
export function cutText(text: string): string {
  if (text.length <= MAX_INPUT_CHARACTERS) return text;
  let end = 0;
  for (let count = 0; count < MAX_INPUT_CHARACTERS && end < text.length; count += 1) {
    const unit = text.charCodeAt(end);
    end += unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return text.slice(0, end);
}

/** A user input with every text in it cut to MAX_INPUT_CHARACTERS. */
export function cutInput(input: UserInput): UserInput {
  switch (input.kind) {
    case 'text':
      return { kind: 'text', text: cutText(input.text) };
    case 'button':
      return input.text === undefined
        ? { kind: 'button', value: cutText(input.value) }
        : { kind: 'button', value: cutText(input.value), text: cutText(input.text) };
    case 'command':
      return input.args === undefined
        ? { kind: 'command', command: cutText(input.command) }
        : { kind: 'command', command: cutText(input.command), args: cutText(input.args) };
    case 'contact':
      return input.name === undefined
        ? { kind: 'contact', phone: cutText(input.phone) }
        : { kind: 'contact', phone: cutText(input.phone), name: cutText(input.name) };
    case 'media': {
      const media = { ...input.media };
      for (const key of ['media_id', 'url', 'mime', 'caption'] as const) {
        const text = media[key];
        if (text !== undefined) media[key] = cutText(text);
      }
      return { kind: 'media', media };
    }
    default:
      return input;
  }
}
