import { z } from 'zod';
import { dialogAnalytics, scenarioAnalytics } from '../../src/analytics';
import { notFound, unprocessable } from '../../src/errors';
import { isDialogPlatform } from '../../src/platforms';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { isoDate, parseQuery } from '../validation';

/** Scenario and dialog analytics (CONTRACT.md §2 Analytics), computed from the recorded events. */
const windowQuery = z.object({
  from: isoDate.optional().describe('conversations started at or after'),
  to: isoDate.optional().describe('conversations started at or before'),
});

export function analyticsRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();

  router.op(
    'get',
    '/v1/scenarios/:id/analytics',
    {
      summary: 'Scenario version analytics: per step entered/completed/drop-off, completion rate and time, common paths, input errors, condition outcomes',
      tag: 'analytics',
      query: windowQuery,
      success: { status: 200 },
      errors: [404, 422],
    },
    async (ctx) => {
      const scenario = await s.scenarios.get(ctx.params.id);
      if (!scenario) throw notFound('Scenario');
      await s.botFor(ctx, scenario.bot_id, 'read');
      const q = parseQuery(ctx, windowQuery);
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw unprocessable('empty_window', '`from` is after `to`.');
      ctx.body = { ...(await scenarioAnalytics(s.db, scenario.id, q)), scenario_version: scenario.version, bot_id: scenario.bot_id };
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId/dialogs/:platform/:chatId/analytics',
    {
      summary: 'Dialog analytics: duration, response times, steps timeline, errors, variables collected',
      tag: 'analytics',
      success: { status: 200 },
      errors: [404],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const { platform, chatId } = ctx.params as { platform: string; chatId: string };
      if (!isDialogPlatform(platform)) throw notFound('Dialog');
      const key = { bot_id: bot.id, platform, chat_id: chatId };
      if (!(await s.dialogs.get(key))) throw notFound('Dialog');
      ctx.body = await dialogAnalytics(s.db, key);
    },
  );

  return router;
}
