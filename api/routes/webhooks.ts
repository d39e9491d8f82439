import type { Context } from 'koa';
import { notFound, unauthorized } from '../../src/errors';
import type { WebhookOutcome } from '../../src/db/webhook-stats';
import { observeSignal } from '../../src/metrics';
import { getAdapter, isPlatformName } from '../../src/platforms';
import { WebhookAuthError } from '../../src/platforms/errors';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { createWebhookBudgets } from '../rate-limit';
import { observeWebhook } from './metrics';
import { webhookStatusSchema } from '../schemas';

/**
 * Platforms call these with their own proof instead of a JWT. The proof is checked before the
 * request counts against the bot's budget, so forgeries cannot spend it; they count against their
 * source address instead. The answer goes out only after Temporal accepted every message as a
 * signal, so an acknowledged update is never lost.
 */
export function webhookRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const budgets = createWebhookBudgets(s.rateLimits);

  const handle = async (ctx: Context) => {
    const { platform, botId } = ctx.params as { platform: string; botId: string };
    await budgets.refuseSpentAddress(ctx.ip);
    // One answer for every failed proof, whether the bot exists or not: nothing to probe. The
    // source address's budget is spent first, so its last failures answer 429 instead of 401.
    const failedProof = async () => {
      await budgets.countFailedProof(ctx.ip, ctx);
      return unauthorized('The webhook proof is missing or wrong.');
    };
    if (!isPlatformName(platform)) throw await failedProof();
    const found = await s.webhookAuth.find(botId, platform);
    if (!found) throw await failedProof();
    const { bot, secrets } = found;
    // Counted without holding up the answer: one upsert, its failure only logged.
    const count = (outcome: WebhookOutcome) =>
      void s.webhookStats
        .record(botId, platform, outcome)
        .catch((error) => ctx.state.log.error({ err: error, bot_id: botId, platform }, 'webhook stats not recorded'));

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
        count({ accepted: false, error: `rejected: ${error.message}` });
        throw await failedProof();
      }
      count({ accepted: false, error: `could not be read: ${(error as Error).message}` });
      throw error;
    }
    await budgets.countDelivery(botId, ctx);

    // An inactive bot acknowledges its platform (so it stops redelivering) but starts nothing.
    if (bot.status === 'active') {
      try {
        for (const message of result.messages) await observeSignal(platform, () => s.workflows.deliver(botId, message));
      } catch (error) {
        count({ accepted: false, error: `not delivered to Temporal: ${(error as Error).message}` });
        throw error;
      }
    }
    count({ accepted: true, messages: bot.status === 'active' ? result.messages.length : 0 });
    ctx.state.log.info({ event: 'WEBHOOK', bot_id: botId, platform, messages: result.messages.length, active: bot.status === 'active' }, 'webhook handled');
    ctx.status = result.status;
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
    ctx.body = result.body ?? (result.status === 200 ? { ok: true } : undefined);
  };

  const spec = {
    tag: 'webhooks',
    auth: false,
    success: { status: 200, description: 'Accepted (the platform’s own answer where it expects one)' },
    errors: [401, 413, 429],
  };
  router.op(
    'post',
    '/v1/webhooks/:platform/:botId',
    { ...spec, summary: 'Platform webhook: the platform’s own proof instead of a JWT' },
    observeWebhook,
    handle,
  );
  router.op(
    'get',
    '/v1/webhooks/:platform/:botId',
    { ...spec, summary: 'Webhook verification handshake (WhatsApp and Messenger hub.challenge)' },
    observeWebhook,
    handle,
  );
  return router;
}

/** `GET /v1/webhooks/{platform}/{bot_id}/status`, behind operator auth unlike the webhooks themselves. */
export function webhookStatusRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  router.op(
    'get',
    '/v1/webhooks/:platform/:botId/status',
    {
      summary: 'Webhook health of a bot on a platform: last event time, counts, last error',
      tag: 'webhooks',
      success: { status: 200, schema: webhookStatusSchema },
      errors: [404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const { platform } = ctx.params;
      if (!isPlatformName(platform)) throw notFound('Platform connection');
      ctx.body = await s.webhookStats.get(bot.id, platform);
    },
  );
  return router;
}
