import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { badRequest, notFound } from '../../src/errors';
import { isPlatformName } from '../../src/platforms';
import type { PlatformName } from '../../src/platforms/types';
import type { Services } from '../deps';
import type { DialogClient } from '../dialog-client';
import { confirmFlag, isoDate, page, pagination, parseBody, parseQuery } from '../validation';

const DIALOG_STATUSES = ['active', 'completed', 'abandoned', 'handoff', 'failed'] as const;

export function dialogRoutes(s: Services, dialogs: DialogClient): Router {
  const router = new Router();

  const dialogKey = async (ctx: Context, access: 'read' | 'write') => {
    const bot = await s.botFor(ctx, ctx.params.botId, access);
    const { platform, chatId } = ctx.params as { platform: string; chatId: string };
    if (!isPlatformName(platform)) throw notFound('Dialog');
    return { botId: bot.id, platform: platform as PlatformName, chatId };
  };

  router.get('/v1/bots/:botId/dialogs', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'read');
    const q = parseQuery(
      ctx,
      pagination.extend({
        platform: z.enum(['telegram', 'whatsapp', 'messenger', 'slack', 'discord']).optional(),
        status: z.enum(DIALOG_STATUSES).optional(),
        from_date: isoDate.optional(),
        to_date: isoDate.optional(),
      }),
    );
    const { items, total } = await s.dialogs.list(bot.id, q);
    ctx.body = page(items, total, q);
  });

  router.get('/v1/bots/:botId/dialogs/:platform/:chatId', async (ctx) => {
    const key = await dialogKey(ctx, 'read');
    ctx.body = await dialogs.state(key.botId, key.platform, key.chatId);
  });

  router.put('/v1/bots/:botId/dialogs/:platform/:chatId', async (ctx) => {
    const key = await dialogKey(ctx, 'write');
    const input = parseBody(
      ctx,
      z.object({
        current_step: z.string().min(1).optional(),
        collected_data: z.record(z.string(), z.json()).optional(),
        expected_version: z.number().int().min(0),
      }),
    );
    ctx.body = await dialogs.update(key.botId, key.platform, key.chatId, input);
  });

  router.delete('/v1/bots/:botId/dialogs/:platform/:chatId', async (ctx) => {
    const key = await dialogKey(ctx, 'write');
    const q = parseQuery(ctx, z.object({ confirm: confirmFlag, to_checkpoint: confirmFlag }));
    if (!q.confirm) throw badRequest('Resetting a dialog needs ?confirm=true.');
    ctx.body = await dialogs.reset(key.botId, key.platform, key.chatId, { to_checkpoint: q.to_checkpoint });
  });

  router.get('/v1/bots/:botId/dialogs/:platform/:chatId/history', async (ctx) => {
    const key = await dialogKey(ctx, 'read');
    const q = parseQuery(
      ctx,
      pagination.extend({
        message_type: z.enum(['user', 'bot', 'system']).optional(),
        from_timestamp: isoDate.optional(),
        to_timestamp: isoDate.optional(),
      }),
    );
    const { items, total } = await s.dialogs.history({ bot_id: key.botId, platform: key.platform, chat_id: key.chatId }, q);
    ctx.body = page(items, total, q);
  });

  return router;
}
