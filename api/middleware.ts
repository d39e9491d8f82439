import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { mapDbError } from '../src/db';
import { AppError, badRequest } from '../src/errors';
import type { Logger } from '../src/log';

/** A request id on every response and log line; a caller's own `X-Request-Id` is kept. */
export function requestId(log: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = log.child({ request_id: id });
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      // An erasure's own line must not name the chat it erases (the route sets auditPath for that).
      ctx.state.log.info(
        { event: 'REQUEST', method: ctx.method, path: ctx.state.auditPath ?? ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}

/** The one place errors become responses: `{"error":{"code","message","details"}}`, no stack traces. */
export function errorEnvelope(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined && [404, 405, 501].includes(ctx.status)) throw noRouteFor(ctx.method, ctx.path, ctx.response.get('Allow'));
    } catch (error) {
      const known = toAppError(error);
      if (known.status >= 500) (ctx.state.log ?? console).error({ err: error }, 'request failed');
      ctx.status = known.status;
      for (const [name, value] of Object.entries(known.headers ?? {})) ctx.set(name, value);
      ctx.body = { error: { code: known.code, message: known.message, details: known.details ?? null } };
    }
  };
}

/**
 * The router's own answers to a request no route took: 404 for an unknown path, and for a known
 * path 405 with its `Allow` list, whether the method is one it implements anywhere or not (TRACE).
 */
function noRouteFor(method: string, path: string, allow: string): AppError {
  if (!allow) return new AppError(404, 'not_found', `No route for ${method} ${path}.`);
  return new AppError(405, 'method_not_allowed', `${method} is not allowed on ${path}; allowed: ${allow}.`, { allowed: allow.split(/,\s*/) }, { Allow: allow });
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const database = mapDbError(error);
  if (database) return database;
  const e = error as { status?: number; name?: string; message?: string; expose?: boolean };
  if (e?.status === 401) return new AppError(401, 'unauthorized', 'Missing or invalid bearer token.');
  if (e?.status === 413 || e?.name === 'PayloadTooLargeError') return new AppError(413, 'payload_too_large', 'The request body is too large.');
  if (e?.status && e.status >= 400 && e.status < 500 && e.expose) return new AppError(e.status, 'bad_request', e.message ?? 'Bad request.');
  return new AppError(500, 'internal_error', 'Something went wrong on our side; the request id says where.');
}

const JSON_LIMIT = '1mb';

/**
 * Reads the body once, keeping the exact bytes in `ctx.state.rawBody` (webhook signatures are
 * computed over them) and the parsed JSON in `ctx.request.body`. Multipart is left to its route.
 * Malformed JSON is a 400, except on paths `readsOwnJson` names: their route reads the text itself
 * and reports a syntax error at its line and column (scenario validation).
 */
export function body(readsOwnJson: (path: string) => boolean = () => false): Middleware {
  return async (ctx, next) => {
    const type = ctx.request.type;
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || type === 'multipart/form-data' || (!ctx.request.length && !ctx.get('transfer-encoding'))) {
      ctx.state.rawBody = Buffer.alloc(0);
      await next();
      return;
    }
    ctx.state.rawBody = await getRawBody(ctx.req, { limit: JSON_LIMIT, length: ctx.request.length });
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        (ctx.request as { body?: unknown }).body = ctx.state.rawBody.length ? JSON.parse(ctx.state.rawBody.toString('utf8')) : undefined;
      } catch (error) {
        if (!readsOwnJson(ctx.path)) {
          // Not the parser's own message: it quotes the body back, control characters and all.
          const position = /position (\d+)/.exec((error as Error).message)?.[1];
          throw badRequest(`The body is not valid JSON${position ? ` (at position ${position})` : ''}.`);
        }
      }
    }
    await next();
  };
}
