/**
 * Message templates: `{{a.b.0.c}}` reads collected data, `{{x|fallback}}` gives a default,
 * `\{{` writes a literal `{{`. A missing value without fallback renders as nothing.
 */
import { cloneJson, getPath, isPlainObject, setOwn } from './json';
import type { CollectedData, JsonValue } from './types';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; path: string; fallback?: string; offset: number; length: number };

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

/** Renders a template against collected data; never throws. */
export function renderTemplate(template: string, data: CollectedData): string {
  if (typeof template !== 'string') return '';
  return parseTemplate(template)
    .parts.map((part) => {
      if (part.kind === 'text') return part.text;
      const value = getPath(data, part.path);
      return isBlank(value) ? part.fallback ?? '' : formatValue(value);
    })
    .join('');
}

/**
 * Renders every string inside a JSON value. A string that is exactly one placeholder keeps the
 * value's type (`"{{guests}}"` stays a number), so `set_variable` can copy structured data.
 */
export function renderValue(value: JsonValue, data: CollectedData): JsonValue {
  if (typeof value === 'string') {
    const { parts } = parseTemplate(value);
    if (parts.length === 1 && parts[0].kind === 'placeholder' && parts[0].length === value.length) {
      const resolved = getPath(data, parts[0].path);
      if (!isBlank(resolved)) return cloneJson(resolved as JsonValue);
      return parts[0].fallback ?? null;
    }
    return renderTemplate(value, data);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, data));
  if (isPlainObject(value)) {
    const rendered: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) setOwn(rendered, key, renderValue(item, data));
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
