import type { Middleware } from 'koa';
import { z } from 'zod';
import type { AuditRepository } from '../src/db/audit';
import { authorize, claimsOf } from './auth';
import { ApiRouter } from './openapi';
import { auditEntrySchema, pageOf } from './schemas';
import { isoDate, page, pagination, parseQuery } from './validation';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Records every successful operator write: who (token subject and role), what (method and route
 * pattern, the path), when, and the request id that ties it to the logs. A failed write changed
 * nothing and is not recorded; a write whose record fails is logged, not undone. A route whose path
 * holds personal data (an erasure names the chat) sets `ctx.state.auditPath` to the path to record.
 */
export function auditWrites(repo: AuditRepository): Middleware {
  return async (ctx, next) => {
    await next();
    const accountId = ctx.state.accountId;
    if (!WRITES.has(ctx.method) || ctx.status >= 400 || !accountId || !ctx.state.claims) return;
    const claims = claimsOf(ctx);
    await repo
      .record({
        account_id: accountId,
        actor: claims.sub,
        role: claims.role,
        action: `${ctx.method} ${(ctx as { _matchedRoute?: string })._matchedRoute ?? ctx.path}`,
        method: ctx.method,
        path: ctx.state.auditPath ?? ctx.path,
        status: ctx.status,
        request_id: ctx.state.requestId,
      })
      .catch((error) => ctx.state.log.error({ err: error }, 'audit record failed'));
  };
}

const auditQuery = pagination.extend({ actor: z.string().optional(), from: isoDate.optional(), to: isoDate.optional() });

export function auditRoutes(repo: AuditRepository): ApiRouter {
  const router = new ApiRouter();
  router.op(
    'get',
    '/v1/accounts/:accountId/audit',
    {
      summary: 'Audit log of operator writes, newest first',
      tag: 'audit',
      query: auditQuery,
      success: { status: 200, schema: pageOf(auditEntrySchema) },
      errors: [400, 404],
    },
    async (ctx) => {
      authorize(ctx, ctx.params.accountId, 'read', 'Account');
      const q = parseQuery(ctx, auditQuery);
      const { items, total } = await repo.list(ctx.params.accountId, q);
      ctx.body = page(items, total, q);
    },
  );
  return router;
}
