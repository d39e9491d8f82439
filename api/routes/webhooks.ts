import Router from '@koa/router';
import type { Context } from 'koa';
import { unauthorized } from '../../src/errors';
import { getAdapter, isPlatformName } from '../../src/platforms';
import { WebhookAuthError } from '../../src/platforms/errors';
import type { Services } from '../deps';
import type { DialogClient } from '../dialog-client';

/**
 * Platforms call these with their own proof instead of a JWT. The answer goes out only after
 * Temporal accepted every message as a signal, so an acknowledged update is never lost.
 */
export function webhookRoutes(s: Services, dialogs: DialogClient): Router {
  const router = new Router();

  const handle = async (ctx: Context) => {
    const { platform, botId } = ctx.params as { platform: string; botId: string };
    // One answer for every failed proof, whether the bot exists or not: nothing to probe.
    const reject = () => unauthorized('The webhook proof is missing or wrong.');
    if (!isPlatformName(platform)) throw reject();
    const [bot, secrets] = await Promise.all([s.bots.get(botId), s.platforms.secrets(botId, platform)]);
    if (!bot || !secrets) throw reject();

    const headers = Object.fromEntries(Object.entries(ctx.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v]));
    const query = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
    let result;
    try {
      result = getAdapter(platform).handleWebhook(
        { method: ctx.method, headers, query, rawBody: ctx.state.rawBody ?? Buffer.alloc(0), now: s.now() },
        secrets.credentials,
        secrets.webhookSecret,
      );
    } catch (error) {
      if (error instanceof WebhookAuthError) {
        ctx.state.log.warn({ event: 'WEBHOOK', bot_id: botId, platform, reason: error.message }, 'webhook rejected');
        throw reject();
      }
      throw error;
    }

    // An inactive bot acknowledges its platform (so it stops redelivering) but starts nothing.
    if (bot.status === 'active') {
      for (const message of result.messages) await dialogs.deliver(botId, message);
    }
    ctx.state.log.info({ event: 'WEBHOOK', bot_id: botId, platform, messages: result.messages.length, active: bot.status === 'active' });
    ctx.status = result.status;
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
    ctx.body = result.body ?? (result.status === 200 ? { ok: true } : undefined);
  };

  router.post('/v1/webhooks/:platform/:botId', handle);
  router.get('/v1/webhooks/:platform/:botId', handle);
  return router;
}
