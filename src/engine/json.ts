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
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
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
  let current: JsonValue | undefined = data as JsonValue;
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

/** Length of a string in UTF-8 bytes, computed by hand (no Buffer or TextEncoder in the sandbox). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) ?? 0;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Length in code points, which is what people and most platforms count. */
export function characterLength(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}
