import { z } from 'zod';
import { conflict } from '../../src/errors';
import type { Bot } from '../../src/db/bots';
import { mediaService } from '../../src/media';
import { searchAttributes } from '../../workflows/messages';
import { authorize, claimsOf } from '../auth';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { botSchema, botWithStats, jsonValue, pageOf } from '../schemas';
import { confirmation, page, pagination, parseBody, parseQuery } from '../validation';
import { registerWebhook } from '../webhook-registration';

export const botInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  settings: z.record(z.string(), jsonValue).optional(),
});
const botUpdate = botInput.partial().strict();
const botListQuery = pagination.extend({ status: z.enum(['active', 'inactive', 'all']).default('all') });
const deleteQuery = z.object({ confirm: confirmation('Deleting a bot removes its scenarios, platforms, dialogs and history') });

const activationResult = botSchema.extend({
  webhooks: z.array(z.object({ platform: z.string(), url: z.string(), registered: z.boolean(), instructions: z.string().optional() })),
});

export function botRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();

  router.op(
    'post',
    '/v1/accounts/:accountId/bots',
    { summary: 'Create a bot', tag: 'bots', body: botInput, success: { status: 201, schema: botSchema }, errors: [400, 403, 404, 409, 429] },
    async (ctx, next) => {
      authorize(ctx, ctx.params.accountId, 'write', 'Account');
      return next();
    },
    s.rateLimit('bot_creation'),
    async (ctx) => {
      const input = parseBody(ctx, botInput);
      ctx.status = 201;
      ctx.body = await s.bots.create({ account_id: ctx.params.accountId, ...input });
    },
  );

  router.op(
    'get',
    '/v1/accounts/:accountId/bots',
    { summary: 'List the bots of an account', tag: 'bots', query: botListQuery, success: { status: 200, schema: pageOf(botSchema) }, errors: [400, 404] },
    async (ctx) => {
      authorize(ctx, ctx.params.accountId, 'read', 'Account');
      const q = parseQuery(ctx, botListQuery);
      const claims = claimsOf(ctx);
      const { items, total } = await s.bots.list(claims.role === 'admin' ? 'all' : claims.account_ids, {
        account_id: ctx.params.accountId,
        status: q.status === 'all' ? undefined : q.status,
        limit: q.limit,
        offset: q.offset,
      });
      ctx.body = page(items, total, q);
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId',
    { summary: 'Get a bot with its stats', tag: 'bots', success: { status: 200, schema: botWithStats }, errors: [404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const [platforms, active, dialogs] = await Promise.all([s.platforms.list(bot.id), s.scenarios.getActive(bot.id), s.dialogs.countByStatus(bot.id)]);
      ctx.body = {
        ...bot,
        stats: {
          platforms: platforms.map((p) => p.platform),
          active_scenario: active ? { id: active.id, name: active.name, version: active.version } : null,
          dialogs,
        },
      };
    },
  );

  router.op(
    'put',
    '/v1/bots/:botId',
    { summary: 'Change name, description or settings', tag: 'bots', body: botUpdate, success: { status: 200, schema: botSchema }, errors: [400, 403, 404, 409] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const input = parseBody(ctx, botUpdate);
      ctx.body = await s.bots.update(bot.id, input);
    },
  );

  router.op(
    'delete',
    '/v1/bots/:botId',
    {
      summary: 'Delete a bot and everything of it (needs ?confirm=true); its running dialog workflows are terminated',
      tag: 'bots',
      query: deleteQuery,
      success: { status: 200, schema: z.object({ deleted: z.literal(true), removed: z.record(z.string(), z.number().int()), workflows_terminated: z.number().int() }) },
      errors: [400, 403, 404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      parseQuery(ctx, deleteQuery);
      // Inactive first, so webhooks arriving meanwhile start nothing new.
      await s.bots.update(bot.id, { status: 'inactive' });
      const terminated = await terminateDialogs(s, bot, ctx.state.requestId);
      // After the dialogs stopped, so no file a user sends meanwhile is stored for a bot that is gone.
      const mediaRemoved = await mediaService(s).removeBotMedia(bot.id);
      const removed = await s.bots.deleteWithEverything(bot.id);
      ctx.state.log.info({ bot_id: bot.id, removed, media_removed: mediaRemoved, workflows_terminated: terminated }, 'bot deleted');
      ctx.body = { deleted: true, removed, workflows_terminated: terminated };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/activate',
    {
      summary: 'Activate: needs a connected platform and an active scenario; registers the platforms’ webhooks',
      tag: 'bots',
      success: { status: 200, schema: activationResult },
      errors: [403, 404, 409, 422, 502],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const [platforms, active] = await Promise.all([s.platforms.list(bot.id), s.scenarios.getActive(bot.id)]);
      const connected = platforms.filter((p) => p.status === 'connected');
      const missing = [...(connected.length === 0 ? ['a connected platform'] : []), ...(active ? [] : ['an active scenario'])];
      if (missing.length > 0) throw conflict('not_ready', `The bot needs ${missing.join(' and ')} before it can be activated.`, { missing });
      const webhooks = [];
      for (const connection of connected) webhooks.push({ platform: connection.platform, ...(await registerWebhook(s, bot.id, connection.platform)) });
      ctx.body = { ...(await s.bots.update(bot.id, { status: 'active' })), webhooks };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/deactivate',
    { summary: 'Deactivate: webhooks then answer 200 but start nothing; all data is kept', tag: 'bots', success: { status: 200, schema: botSchema }, errors: [403, 404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      ctx.body = await s.bots.update(bot.id, { status: 'inactive' });
    },
  );

  return router;
}

/**
 * Terminates the bot's running dialog workflows: those Temporal lists by their `BotId` search
 * attribute, and those the dialog rows say are active (visibility lags a just-started workflow).
 */
async function terminateDialogs(s: Services, bot: Bot, requestId: string): Promise<number> {
  const ids = new Set(await s.dialogs.activeWorkflowIds(bot.id));
  const query = `${searchAttributes.botId.name} = '${bot.id.replace(/'/g, '')}' AND ExecutionStatus = 'Running'`;
  for await (const execution of s.temporal.workflow.list({ query })) ids.add(execution.workflowId);
  let terminated = 0;
  for (const id of ids) {
    await s.temporal.workflow
      .getHandle(id)
      .terminate(`bot ${bot.id} deleted (request ${requestId})`)
      .then(() => terminated++)
      .catch((error: { name?: string }) => {
        // Finished meanwhile: nothing left to stop.
        if (error?.name !== 'WorkflowNotFoundError') throw error;
      });
  }
  return terminated;
}
