/**
 * Message templates: `{{a.b.0.c}}` reads collected data, `{{user.name}}` the chat user's profile,
 * `{{x|fallback}}` gives a default, `\{{` writes a literal `{{`. A missing value without fallback
 * renders as nothing.
 */
import { type Budget, jsonBytes, textBudget, valueBudget } from './bounds';
import { cloneJson, getPath, isPlainObject, setOwn, utf8Length } from './json';
import type { CollectedData, DialogState, JsonValue } from './types';

/** The reserved root of templates that holds the chat user's profile; no variable may take its name. */
export const USER_ROOT = 'user';

/**
 * What a dialog's templates read: its collected data, and the chat user's profile at `user` (empty
 * while no platform has described them). A shallow copy, so the data itself never holds the profile.
 */
export function templateData(state: Pick<DialogState, 'collectedData' | 'user'>): CollectedData {
  const profile: Record<string, JsonValue> = {};
  for (const [field, value] of Object.entries(state.user ?? {})) if (typeof value === 'string') profile[field] = value;
  return { ...state.collectedData, [USER_ROOT]: profile };
}

/** Whether a template path reads the chat user's profile rather than a variable. */
export function readsUser(path: string): boolean {
  return path === USER_ROOT || path.startsWith(`${USER_ROOT}.`);
}

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'placeholder'; path: string; fallback?: string; offset: number; length: number };

export interface TemplateProblem {
  offset: number;
  message: string;
}

const PATH = /^[^\s.|{}]+(\.[^\s.|{}]+)*$/;

/** Splits a template into literal text and placeholders; never throws. */
export function parseTemplate(template: string): { parts: TemplatePart[]; problems: TemplateProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let text = '';
  let index = 0;
  while (index < template.length) {
    if (template.startsWith('\\{{', index)) {
      text += '{{';
      index += 3;
      continue;
    }
    if (!template.startsWith('{{', index)) {
      text += template[index];
      index += 1;
      continue;
    }
    const close = template.indexOf('}}', index + 2);
    if (close < 0) {
      problems.push({ offset: index, message: "'{{' is never closed with '}}' (write '\\{{' for a literal '{{')" });
      text += template.slice(index);
      break;
    }
    const inner = template.slice(index + 2, close);
    const bar = inner.indexOf('|');
    const path = (bar < 0 ? inner : inner.slice(0, bar)).trim();
    const fallback = bar < 0 ? undefined : inner.slice(bar + 1).trim();
    if (!PATH.test(path)) {
      problems.push({
        offset: index,
        message: path === '' ? "empty placeholder '{{}}'" : `'${path}' is not a variable path (letters, digits and dots, e.g. order.items.0.name)`,
      });
      text += template.slice(index, close + 2);
    } else {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'placeholder', path, fallback, offset: index, length: close + 2 - index });
    }
    index = close + 2;
  }
  if (text) parts.push({ kind: 'text', text });
  return { parts, problems };
}

const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A value as a person reads it: no "[object Object]", no 0.30000000000000004. */
export function formatValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return '';
    return String(Number(value.toPrecision(12)) + 0);
  }
  if (typeof value === 'string') {
    const dateTime = ISO_DATE_TIME.exec(value);
    return dateTime ? `${dateTime[1]} ${dateTime[2]}` : value;
  }
  return JSON.stringify(value);
}

function isBlank(value: JsonValue | undefined): boolean {
  return value === undefined || value === null || value === '';
}

const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/**
 * A value as literal text inside markdown: CommonMark lets a backslash escape every ASCII
 * punctuation character, so a guest's `**x** [a](http://evil)` cannot become markup.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(ASCII_PUNCTUATION, '\\$&');
}

/**
 * Renders a template against collected data. The text is measured piece by piece as it is built:
 * past the budget (64 KiB of text unless given) it throws `TooLarge` before building more, so a
 * template that doubles a value each step never grows past the bound. Throws nothing else.
 * `escapeValue` applies to substituted values only, not to the template's own text or fallbacks.
 */
export function renderTemplate(template: string, data: CollectedData, budget: Budget = textBudget(), escapeValue?: (value: string) => string): string {
  if (typeof template !== 'string') return '';
  const pieces: string[] = [];
  for (const part of parseTemplate(template).parts) {
    const value = part.kind === 'text' ? undefined : getPath(data, part.path);
    const formatted = isBlank(value) ? undefined : formatValue(value);
    const piece = part.kind === 'text' ? part.text : formatted === undefined ? (part.fallback ?? '') : escapeValue ? escapeValue(formatted) : formatted;
    budget.spend(utf8Length(piece));
    pieces.push(piece);
  }
  return pieces.join('');
}

/**
 * Renders every string inside a JSON value. A string that is exactly one placeholder keeps the
 * value's type (`"{{guests}}"` stays a number), so `set_variable` can copy structured data.
 * Everything it copies or renders counts against one budget (64 KiB unless given): past it, it
 * throws `TooLarge` before copying more.
 */
export function renderValue(value: JsonValue, data: CollectedData, budget: Budget = valueBudget()): JsonValue {
  if (typeof value === 'string') {
    const { parts } = parseTemplate(value);
    if (parts.length === 1 && parts[0].kind === 'placeholder' && parts[0].length === value.length) {
      const resolved = getPath(data, parts[0].path);
      if (!isBlank(resolved)) {
        budget.spend(jsonBytes(resolved as JsonValue));
        return cloneJson(resolved as JsonValue);
      }
      budget.spend(utf8Length(parts[0].fallback ?? ''));
      return parts[0].fallback ?? null;
    }
    return renderTemplate(value, data, budget);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, data, budget));
  if (isPlainObject(value)) {
    const rendered: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      budget.spend(utf8Length(key));
      setOwn(rendered, key, renderValue(item, data, budget));
    }
    return rendered;
  }
  return value;
}

/** Variable paths a template reads, with their offsets in the template. */
export function templateReferences(template: string): { path: string; offset: number; hasFallback: boolean }[] {
  return parseTemplate(template).parts.flatMap((part) =>
    part.kind === 'placeholder' ? [{ path: part.path, offset: part.offset, hasFallback: part.fallback !== undefined }] : [],
  );
}

/** What a URL template fixes: its scheme, host and port, written before any placeholder. */
export type UrlTemplateCheck = { ok: true; origin: string } | { ok: false; offset: number; message: string };

/** The literal start of an http(s) URL up to the end of its authority (`/`, `\`, `?` or `#`). */
const LITERAL_AUTHORITY = /^https?:\/\/[^/\\?#]+[/\\?#]/i;
/** Path segments the URL parser resolves (`.`, `..`, also percent-encoded): they would walk the path. */
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/** Whether the path of an URL that starts with a literal authority has a dot segment. */
function walksPath(url: string): boolean {
  const authority = LITERAL_AUTHORITY.exec(url);
  if (!authority) return false;
  const path = url.slice(authority[0].length - 1).split(/[?#]/)[0];
  return path.split(/[/\\]/).some((segment) => DOT_SEGMENT.test(segment.replace(/[\t\n\r]/g, '')));
}

/** Lone surrogates, which encodeURIComponent refuses with an exception. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that a URL template is an absolute http(s) URL whose placeholders stand only in the path,
 * query or fragment, so no value can change where the request goes.
 */
export function checkUrlTemplate(template: string): UrlTemplateCheck {
  const { parts } = parseTemplate(template);
  const firstPlaceholder = parts.findIndex((part) => part.kind === 'placeholder');
  const literalStart = parts
    .slice(0, firstPlaceholder < 0 ? parts.length : firstPlaceholder)
    .map((part) => (part.kind === 'text' ? part.text : ''))
    .join('');
  // Each placeholder stands in as one harmless character, to check the shape of the literal text.
  const skeleton = parts.map((part) => (part.kind === 'text' ? part.text : 'x')).join('');
  const origin = originOf(skeleton);
  if (origin === undefined)
    return { ok: false, offset: 0, message: 'the URL must be an absolute http:// or https:// URL, e.g. https://api.example.com/orders/{{order_id}}' };
  if (firstPlaceholder >= 0) {
    const authority = LITERAL_AUTHORITY.exec(literalStart);
    const placeholder = parts[firstPlaceholder] as Extract<TemplatePart, { kind: 'placeholder' }>;
    if (!authority || originOf(authority[0]) !== origin) {
      return {
        ok: false,
        offset: placeholder.offset,
        message:
          'a placeholder may stand only in the path or query of a URL: write the scheme, host and port literally, e.g. https://api.example.com/orders/{{order_id}}',
      };
    }
  }
  if (walksPath(skeleton)) {
    return { ok: false, offset: 0, message: "the URL's path may not contain '.' or '..' segments" };
  }
  return { ok: true, origin };
}

export type RenderedUrl = { ok: true; url: string } | { ok: false; message: string };

/** Longer URLs are refused by common servers and proxies anyway; the bound keeps activity inputs small. */
export const MAX_URL_LENGTH = 8192;

/**
 * Renders a URL template with every placeholder value percent-encoded (`/`, `?`, `#`, `@`, `:` and
 * `%` included), then checks that the result still goes to the template's origin and that no
 * value makes a `.` or `..` segment the URL parser would resolve.
 */
export function renderUrlTemplate(template: string, data: CollectedData): RenderedUrl {
  const checked = checkUrlTemplate(template);
  if (!checked.ok) return { ok: false, message: checked.message };
  // Measured as it is built (bounds.ts): a URL repeating a large value stops at the text bound.
  const budget = textBudget('a rendered URL');
  const url = parseTemplate(template)
    .parts.map((part) => {
      if (part.kind === 'text') return part.text;
      const value = getPath(data, part.path);
      const piece = encodeURIComponent((isBlank(value) ? (part.fallback ?? '') : formatValue(value)).replace(LONE_SURROGATE, '\uFFFD'));
      budget.spend(piece.length);
      return piece;
    })
    .join('');
  if (url.length > MAX_URL_LENGTH) return { ok: false, message: `the URL would be longer than ${MAX_URL_LENGTH} characters` };
  if (originOf(url) !== checked.origin) return { ok: false, message: "a placeholder value would change the URL's scheme, host or port" };
  if (walksPath(url)) return { ok: false, message: "a placeholder value would make a '.' or '..' segment of the URL's path" };
  return { ok: true, url: new URL(url).href };
}
