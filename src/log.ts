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
 * Paths that may hold secrets anywhere in a logged object. Credentials are also never passed to the
 * logger on purpose; this is the second line of defence.
 */
const REDACT = [
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'bot_token',
  '*.bot_token',
  'access_token',
  '*.access_token',
  'page_access_token',
  '*.page_access_token',
  'app_secret',
  '*.app_secret',
  'signing_secret',
  '*.signing_secret',
  'verify_token',
  '*.verify_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
