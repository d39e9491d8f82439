import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../src/errors';

/** Whether a string has a NUL character, which PostgreSQL can store in no text or JSON column. */
export const hasNul = (text: string) => text.includes('\u0000');

/** The JSON pointer of a string (value or key) in `value` with a NUL character; a loop, as JSON nests deep. */
function nulAt(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === 'string' && hasNul(item)) return at || '/';
    if (typeof item !== 'object' || item === null) continue;
    for (const [key, child] of Object.entries(item)) {
      if (hasNul(key)) return `${at}/${key.replaceAll('\u0000', '\\u0000')}`;
      pending.push([child, `${at}/${key}`]);
    }
  }
  return undefined;
}

/**
 * Parses `value` with `schema` or throws 400 naming each wrong field. Text the schema keeps may not
 * contain NUL (fields it does not know are dropped, whatever they hold).
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  const nul = result.success ? nulAt(result.data) : undefined;
  if (nul)
    throw new AppError(400, 'invalid_request', `Invalid ${where}: ${nul} contains a NUL character`, [
      { path: nul, message: 'text may not contain NUL (\\u0000)' },
    ]);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: `/${issue.path.join('/')}`, message: issue.message }));
  const first = details[0];
  // Well-formed but wrong in meaning, which the schema cannot say (see `contentRule` below).
  if (result.error.issues.every((issue) => issue.code === 'custom' && issue.params?.status === 422)) {
    throw new AppError(422, 'invalid_content', `Invalid ${where}: ${first.path === '/' ? '' : `${first.path} `}${first.message}`.trim(), details);
  }
  throw new AppError(400, 'invalid_request', `Invalid ${where}: ${first.path === '/' ? '' : `${first.path} `}${first.message}`.trim(), details);
}

/**
 * The JSON body parsed with `schema`; a body of another media type is 415, not a missing field. No
 * body at all reads as `{}` (routes whose fields are all optional declare their body optional).
 */
export function parseBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const sent = Boolean((ctx.state.rawBody as Buffer | undefined)?.length);
  if (sent && !ctx.is('json')) throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  return parse(schema, sent ? (ctx.request as { body?: unknown }).body : {}, 'body');
}
export const parseQuery = <S extends z.ZodType>(ctx: Context, schema: S) => parse(schema, ctx.query, 'query');

/** A refinement whose failure is 422 (valid JSON, wrong content) rather than 400 (malformed). */
export const contentRule = (message: string) => ({ message, params: { status: 422 } });

/** A name people read: trimmed, and blank (only spaces) is 422, as the schema only says "non-empty". */
export const visibleName = (max = 200) =>
  z
    .string()
    .min(1)
    .max(max)
    .trim()
    .refine((name) => name.length > 0, contentRule('must contain a visible character'));

/** An integer of a query string: digits only (`Number()` would also read '', ' ', '1e2' and '0x10'). */
export const queryInteger = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v), schema);

export const pagination = z.object({
  limit: queryInteger(z.number().int().min(1).max(500)).default(50).describe('default 50'),
  offset: queryInteger(z.number().int().min(0)).default(0).describe('default 0'),
});

/** An RFC 3339 date-time (with `Z` or an offset) or a bare date, which means its midnight UTC. */
export const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'expected an ISO-8601 date-time (2026-02-01T09:30:00Z) or date (2026-02-01)',
});

export const confirmFlag = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

/** `?confirm=true`, which destructive routes require; `stake` says what the caller is about to lose. */
export const confirmation = (stake: string) => z.literal('true', { error: `${stake}; repeat with ?confirm=true.` });

export function page<T>(items: T[], total: number, q: { limit: number; offset: number }) {
  return { items, total, limit: q.limit, offset: q.offset };
}
