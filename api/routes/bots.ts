import { z } from 'zod';
import { conflict } from '../../src/errors';
import type { ScenarioRecord } from '../../src/db/scenarios';
import { mediaService } from '../../src/media';
import { authorize, claimsOf } from '../auth';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { botSchema, botWithStats, jsonValue, pageOf } from '../schemas';
import { confirmation, page, pagination, parseBody, parseQuery, visibleName } from '../validation';
import { registerWebhooks, unregisterWebhooks } from '../webhook-registration';

export const botInput = z.object({
  name: visibleName(),
  description: z.string().max(2000).optional(),
  settings: z.record(z.string(), jsonValue).optional(),
});
const botUpdate = botInput.partial().strict();
const botListQuery = pagination.extend({ status: z.enum(['active', 'inactive', 'all']).default('all') });
const deleteQuery = z.object({ confirm: confirmation('Deleting a bot removes its scenarios, platforms, dialogs and history') });

const activationResult = botSchema.extend({
  webhooks: z.array(
    z.object({
      platform: z.string(),
      url: z.string(),
      registered: z.boolean(),
      instructions: z.string().optional(),
      error: z.string().optional().describe('the platform refused or was unreachable; the bot is active all the same'),
    }),
  ),
});
const deactivationResult = botSchema.extend({
  webhooks: z.array(z.object({ platform: z.string(), unregistered: z.boolean(), error: z.string().optional() })),
});

export function botRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();

  router.op(
    'post',
    '/v1/accounts/:accountId/bots',
    { summary: 'Create a bot', tag: 'bots', body: botInput, success: { status: 201, schema: botSchema }, errors: [400, 403, 404, 409, 429] },
    async (ctx, next) => {
      authorize(ctx, ctx.params.accountId, 'write', 'Account');
      await next();
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
      const [platforms, active, dialogs] = await Promise.all([s.platforms.list(bot.id), s.scenarios.listActive(bot.id), s.dialogs.countByStatus(bot.id)]);
      const summary = (scenario: ScenarioRecord) => ({ id: scenario.id, name: scenario.name, version: scenario.version, is_default: scenario.is_default });
      const defaultScenario = active.find((scenario) => scenario.is_default);
      ctx.body = {
        ...bot,
        stats: {
          platforms: platforms.map((p) => p.platform),
          active_scenario: defaultScenario ? summary(defaultScenario) : null,
          active_scenarios: active.map(summary),
          dialogs,
        },
      };
    },
  );

  router.op(
    'put',
    '/v1/bots/:botId',
    {
      summary: 'Change name, description or settings',
      tag: 'bots',
      body: botUpdate,
      success: { status: 200, schema: botSchema },
      errors: [400, 403, 404, 409],
    },
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
      summary: 'Delete a bot and everything of it (needs ?confirm=true); its dialog workflows are terminated and their executions deleted',
      tag: 'bots',
      query: deleteQuery,
      success: {
        status: 200,
        schema: z.object({
          deleted: z.literal(true),
          removed: z.record(z.string(), z.number().int()),
          workflows_terminated: z.number().int(),
          workflow_runs_deleted: z.number().int(),
        }),
      },
      errors: [400, 403, 404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      parseQuery(ctx, deleteQuery);
      // Inactive first, so webhooks arriving meanwhile start nothing new.
      await s.bots.update(bot.id, { status: 'inactive' });
      const terminated = await s.workflows.terminateBotDialogs(
        bot.id,
        await s.dialogs.activeWorkflowIds(bot.id),
        `bot ${bot.id} deleted (request ${ctx.state.requestId})`,
      );
      // The platforms stop calling a bot that is gone; one refusing does not keep the bot.
      const webhooks = await unregisterWebhooks(s, bot.id, await s.platforms.list(bot.id));
      // After the dialogs stopped, so no file a user sends meanwhile is stored for a bot that is gone.
      const mediaRemoved = await mediaService(s).removeBotMedia(bot.id);
      const removed = await s.bots.deleteWithEverything(bot.id);
      // Their histories hold the users' messages: they go with the bot.
      const runsDeleted = await s.workflows.deleteBotRuns(bot.id, terminated.runs);
      ctx.state.log.info(
        {
          bot_id: bot.id,
          removed,
          media_removed: mediaRemoved,
          workflows_terminated: terminated.count,
          workflow_runs_deleted: runsDeleted,
          webhooks_not_unregistered: webhooks.filter((w) => w.error).map((w) => ({ platform: w.platform, error: w.error })),
        },
        'bot deleted',
      );
      ctx.body = { deleted: true, removed, workflows_terminated: terminated.count, workflow_runs_deleted: runsDeleted };
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
      const [platforms, active] = await Promise.all([s.platforms.list(bot.id), s.scenarios.getDefault(bot.id)]);
      // A connection whose credentials its platform refused waits for a successful test.
      const usable = platforms.filter((p) => p.status !== 'unauthorized');
      const missing = [...(usable.length === 0 ? ['a connected platform'] : []), ...(active ? [] : ['an active scenario'])];
      if (missing.length > 0) throw conflict('not_ready', `The bot needs ${missing.join(' and ')} before it can be activated.`, { missing });
      const webhooks = await registerWebhooks(s, bot.id, usable);
      const activated = await s.bots.update(bot.id, { status: 'active' });
      // After the status changed: a dialog asks it when its timer fires, and waits for this signal otherwise.
      await s.workflows.signalBotActivated(bot.id, await s.dialogs.activeWorkflowIds(bot.id));
      ctx.body = { ...activated, webhooks };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/deactivate',
    {
      summary:
        'Deactivate: webhooks are unregistered where the platform allows it (else answer 200 but start nothing); running dialogs send nothing until activation; all data is kept',
      tag: 'bots',
      success: { status: 200, schema: deactivationResult },
      errors: [403, 404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const deactivated = await s.bots.update(bot.id, { status: 'inactive' });
      const webhooks = await unregisterWebhooks(s, bot.id, await s.platforms.list(bot.id));
      ctx.body = { ...deactivated, webhooks };
    },
  );

  return router;
}
