import pino, { type Logger } from 'pino';

export type { Logger };

/** Event types of the product's structured logs; every dialog log line carries one. */
export type LogEvent =
  | 'INCOMING'
  | 'OUTGOING'
  | 'STATE_CHANGE'
  | 'MEDIA_PROCESSING'
  | 'WEBHOOK'
  | 'VARIABLE_UPDATE'
  | 'CONDITION_EVAL'
  | 'AUTO_TRANSITION'
  | 'ERROR'
  | 'DEBUG';

/**
 * Keys whose values are secrets wherever they appear in a logged object, at any depth. Credentials
 * are also never passed to the logger on purpose; this is the second line of defence.
 */
const SECRET_KEYS = new Set([
  'credentials',
  'token',
  'bot_token',
  'access_token',
  'page_access_token',
  'app_secret',
  'signing_secret',
  'verify_token',
  'public_key',
  'secret',
  'secret_token',
  'password',
  'authorization',
  'cookie',
  'x-telegram-bot-api-secret-token',
  'x-hub-signature-256',
  'x-slack-signature',
  'x-signature-ed25519',
]);
const CENSOR = '[redacted]';
/** Deeper than any log line of ours; a deeper value is cut rather than walked. */
const MAX_DEPTH = 10;

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value);
  // Errors, dates and buffers keep their own serializers.
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return value;
  if (depth > MAX_DEPTH || seen.has(value)) return '[cut]';
  // `seen` holds the ancestors only: a cycle is cut, an object logged twice side by side is not.
  seen.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item) => redact(item, depth + 1, seen));
  } else {
    const fields: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) fields[key] = SECRET_KEYS.has(key.toLowerCase()) ? CENSOR : redact(item, depth + 1, seen);
    copy = fields;
  }
  seen.delete(value);
  return copy;
}

/** A log line's fields with every secret-named key censored, however deep it is nested. */
export function redactSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  return redact(fields, 0, new WeakSet()) as Record<string, unknown>;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactSecrets },
    },
    destination,
  );
}
