import type { JsonValue } from './types';

/**
 * Sets an own property, even one named "__proto__" (which plain assignment would turn into a
 * prototype change, losing the value).
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of plain JSON data (structuredClone is not guaranteed inside the workflow sandbox). */
export function cloneJson<T extends JsonValue | object>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: JsonValue) => cloneJson(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) setOwn(copy, key, cloneJson(item as JsonValue));
  }
  return copy as T;
}

export function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value at a dotted path ("order.items.0.name"); numeric segments index arrays.
 * Undefined when any segment is missing.
 */
export function getPath(data: JsonValue | Record<string, JsonValue>, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = data;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (isPlainObject(current)) {
      current = Object.prototype.hasOwnProperty.call(current, segment) ? current[segment] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/**
 * Length of a string in UTF-8 bytes, counted from its UTF-16 units (no Buffer or TextEncoder in the
 * sandbox): a surrogate pair is one 4-byte character, a lone surrogate is written as U+FFFD (3 bytes).
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** Length in code points, which is what people and most platforms count. */
export function characterLength(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}
