import Router from '@koa/router';
import { z } from 'zod';
import { conflict } from '../../src/errors';
import { authorize, claimsOf } from '../auth';
import type { Services } from '../deps';
import { page, pagination, parseBody, parseQuery } from '../validation';

const botInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
});

export function botRoutes(s: Services): Router {
  const router = new Router();

  router.post('/v1/accounts/:accountId/bots', async (ctx) => {
    authorize(ctx, ctx.params.accountId, 'write', 'Account');
    const input = parseBody(ctx, botInput);
    ctx.status = 201;
    ctx.body = await s.bots.create({ account_id: ctx.params.accountId, ...input });
  });

  router.get('/v1/accounts/:accountId/bots', async (ctx) => {
    authorize(ctx, ctx.params.accountId, 'read', 'Account');
    const q = parseQuery(ctx, pagination.extend({ status: z.enum(['active', 'inactive', 'all']).default('all') }));
    const claims = claimsOf(ctx);
    const { items, total } = await s.bots.list(claims.role === 'admin' ? 'all' : claims.account_ids, {
      account_id: ctx.params.accountId,
      status: q.status === 'all' ? undefined : q.status,
      limit: q.limit,
      offset: q.offset,
    });
    ctx.body = page(items, total, q);
  });

  router.get('/v1/bots/:botId', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'read');
    const [platforms, active, dialogs] = await Promise.all([
      s.platforms.list(bot.id),
      s.scenarios.getActive(bot.id),
      s.dialogs.countByStatus(bot.id),
    ]);
    ctx.body = {
      ...bot,
      stats: {
        platforms: platforms.map((p) => p.platform),
        active_scenario: active ? { id: active.id, name: active.name, version: active.version } : null,
        dialogs,
      },
    };
  });

  router.put('/v1/bots/:botId', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const input = parseBody(ctx, botInput.partial());
    ctx.body = await s.bots.update(bot.id, input);
  });

  router.post('/v1/bots/:botId/activate', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const [platforms, active] = await Promise.all([s.platforms.list(bot.id), s.scenarios.getActive(bot.id)]);
    const missing = [...(platforms.length === 0 ? ['a connected platform'] : []), ...(active ? [] : ['an active scenario'])];
    if (missing.length > 0) throw conflict('not_ready', `The bot needs ${missing.join(' and ')} before it can be activated.`, { missing });
    ctx.body = await s.bots.update(bot.id, { status: 'active' });
  });

  router.post('/v1/bots/:botId/deactivate', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    ctx.body = await s.bots.update(bot.id, { status: 'inactive' });
  });

  return router;
}
