import pino, { type Logger } from 'pino';

export type { Logger };

/** Event types of the product's structured logs (`event_type`); a line that names none is `ERROR` at error level, else `DEBUG`. */
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
  | 'DEBUG'
  | 'REQUEST';

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

/** A parsed JSON value with every secret-named key censored (pino has cut cycles already). */
function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[cut]';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const fields: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) fields[key] = SECRET_KEYS.has(key.toLowerCase()) ? CENSOR : redact(item, depth + 1);
  return fields;
}

/** The spec's levels: pino's trace and fatal fold into its neighbours. */
const LEVELS: Record<string, string> = { trace: 'DEBUG', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'ERROR' };

/** Fields that say whose line it is; everything else a call logs is the line's `data`. */
const CONTEXT_KEYS = new Set(['bot_id', 'platform', 'chat_id', 'workflow_id', 'user_id', 'scenario_id', 'request_id']);

/**
 * A logged `err` or `error` as `data.error`: an Error becomes `{type, message, stack}` and a bare
 * message `{message}`, so log stores index one shape under that key.
 */
function withErrorSerialized(fields: Record<string, unknown>): Record<string, unknown> {
  const { err, error = err, ...rest } = fields;
  if (error === undefined) return fields;
  if (error instanceof Error) return { ...rest, error: { type: error.constructor.name, message: error.message, stack: error.stack } };
  return { ...rest, error: typeof error === 'string' ? { message: error } : error };
}

/**
 * Pino's line in the spec's shape. Reshaped from the written line rather than in `formatters.log`
 * because a child logger's bindings (`request_id`, `service`) never pass through that formatter.
 */
function toSpecShape(line: string): string {
  // Censored here, where the whole line is seen: a child logger's bindings never reach `formatters.log`.
  const parsed = redact(JSON.parse(line), 0) as Record<string, unknown>;
  const { timestamp, level, message = '', event = level === 'ERROR' ? 'ERROR' : 'DEBUG', ...fields } = parsed;
  const context: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) (CONTEXT_KEYS.has(key) ? context : data)[key] = value;
  return `${JSON.stringify({ timestamp, level, event_type: event, message, context, data })}\n`;
}

/**
 * A JSON-lines logger in the spec's shape: `{timestamp, level, event_type, message, context, data}`.
 * Callers log flat fields (`event`, the context keys, the rest); docs/operations.md lists them.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: LEVELS[label] ?? label.toUpperCase() }),
        log: withErrorSerialized,
      },
      hooks: { streamWrite: toSpecShape },
    },
    destination,
  );
}
