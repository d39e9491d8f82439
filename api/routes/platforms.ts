import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, conflict, notFound } from '../../src/errors';
import { getAdapter, isPlatformName } from '../../src/platforms';
import { PlatformApiError, PlatformNetworkError } from '../../src/platforms/errors';
import type { PlatformName } from '../../src/platforms/types';
import type { Services } from '../deps';
import { parse, parseBody } from '../validation';

function platformParam(value: string): PlatformName {
  if (!isPlatformName(value)) throw notFound('Platform');
  return value;
}

/** A platform refusing our call is the caller's problem to fix (bad token): 502 would blame us. */
function platformFailure(error: unknown): unknown {
  if (error instanceof PlatformApiError) {
    return new AppError(422, 'platform_rejected', error.message, { platform: error.platform, method: error.method, status: error.status });
  }
  if (error instanceof PlatformNetworkError) return new AppError(502, 'platform_unreachable', error.message);
  return error;
}

export function platformRoutes(s: Services): Router {
  const router = new Router();

  router.post('/v1/bots/:botId/platforms', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const input = parseBody(ctx, z.object({ platform: z.string(), credentials: z.record(z.string(), z.unknown()), settings: z.record(z.string(), z.unknown()).optional() }));
    const platform = isPlatformName(input.platform) ? input.platform : parse(z.enum(['telegram', 'whatsapp', 'messenger', 'slack', 'discord']), input.platform, 'platform');
    const credentials = parse(getAdapter(platform).credentialsSchema, input.credentials, 'credentials') as Record<string, string>;
    if (await s.platforms.get(bot.id, platform)) throw conflict('platform_exists', `The bot is already connected to ${platform}; update it instead.`);
    ctx.status = 201;
    ctx.body = await s.platforms.create({ bot_id: bot.id, platform, credentials, settings: input.settings });
  });

  router.get('/v1/bots/:botId/platforms', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'read');
    const items = await s.platforms.list(bot.id);
    ctx.body = { items, total: items.length, limit: items.length, offset: 0 };
  });

  router.get('/v1/bots/:botId/platforms/:platform', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'read');
    const connection = await s.platforms.get(bot.id, platformParam(ctx.params.platform));
    if (!connection) throw notFound('Platform connection');
    ctx.body = connection;
  });

  router.post('/v1/bots/:botId/platforms/:platform/test', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const platform = platformParam(ctx.params.platform);
    const secrets = await s.platforms.secrets(bot.id, platform);
    if (!secrets) throw notFound('Platform connection');
    try {
      ctx.body = await getAdapter(platform).testConnection({ apiBase: s.config.apiBases[platform] }, secrets.credentials);
    } catch (error) {
      throw platformFailure(error);
    }
  });

  router.post('/v1/bots/:botId/platforms/:platform/webhook', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const platform = platformParam(ctx.params.platform);
    const secrets = await s.platforms.secrets(bot.id, platform);
    if (!secrets) throw notFound('Platform connection');
    const adapter = getAdapter(platform);
    const url = `${s.config.publicBaseUrl}/v1/webhooks/${platform}/${bot.id}`;
    if (!adapter.registerWebhook) {
      ctx.body = { url, registered: false, instructions: `Paste ${url} into the ${platform} app settings (see docs/platforms.md).` };
      return;
    }
    const secret = randomBytes(32).toString('hex');
    try {
      await adapter.registerWebhook({ apiBase: s.config.apiBases[platform] }, secrets.credentials, url, secret);
    } catch (error) {
      throw platformFailure(error);
    }
    await s.platforms.setWebhookSecret(bot.id, platform, secret);
    ctx.body = { url, registered: true };
  });

  return router;
}
