import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../src/errors';

/** Parses `value` with `schema` or throws 400 naming each wrong field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: `/${issue.path.join('/')}`, message: issue.message }));
  const first = details[0];
  throw new AppError(400, 'invalid_request', `Invalid ${where}: ${first.path === '/' ? '' : `${first.path} `}${first.message}`.trim(), details);
}

/** The JSON body parsed with `schema`; a body of another media type is 415, not a missing field. */
export function parseBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  if ((ctx.state.rawBody as Buffer | undefined)?.length && !ctx.is('json')) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  return parse(schema, (ctx.request as { body?: unknown }).body ?? {}, 'body');
}
export const parseQuery = <S extends z.ZodType>(ctx: Context, schema: S) => parse(schema, ctx.query, 'query');

export const pagination = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 date');

export const confirmFlag = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

export function page<T>(items: T[], total: number, q: { limit: number; offset: number }) {
  return { items, total, limit: q.limit, offset: q.offset };
}
