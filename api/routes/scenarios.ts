import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { validateScenario } from '../../src/engine';
import type { Diagnostic } from '../../src/engine/types';
import { notFound, unprocessable } from '../../src/errors';
import type { Services } from '../deps';
import { page, pagination, parseBody, parseQuery } from '../validation';

const scenarioInput = z.object({
  name: z.string().trim().min(1).max(200),
  scenario_data: z.unknown(),
});

/** The contract's shape of a diagnostic in an error's `details`. */
export function diagnosticDetails(diagnostics: Diagnostic[]) {
  return diagnostics.map((d) => ({
    path: d.path,
    line: d.line ?? null,
    column: d.column ?? null,
    message: d.message,
    ...(d.suggestion ? { suggestion: d.suggestion } : {}),
  }));
}

export function scenarioRoutes(s: Services): Router {
  const router = new Router();

  const scenarioFor = async (ctx: Context, id: string, access: 'read' | 'write') => {
    const scenario = await s.scenarios.get(id);
    if (!scenario) throw notFound('Scenario');
    await s.botFor(ctx, scenario.bot_id, access).catch(() => {
      throw notFound('Scenario');
    });
    return scenario;
  };

  router.post('/v1/bots/:botId/scenarios', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'write');
    const input = parseBody(ctx, scenarioInput);
    const result = validateScenario(input.scenario_data);
    if (!result.valid || !result.scenario) {
      throw unprocessable('invalid_scenario', `The scenario has ${result.errors.length} error(s); the first: ${result.errors[0]?.message}`, diagnosticDetails(result.errors));
    }
    const created = await s.scenarios.createVersion({ bot_id: bot.id, name: input.name, scenario_data: result.scenario, warnings: result.warnings });
    ctx.status = 201;
    ctx.body = { ...created, warnings: diagnosticDetails(result.warnings) };
  });

  router.get('/v1/bots/:botId/scenarios', async (ctx) => {
    const bot = await s.botFor(ctx, ctx.params.botId, 'read');
    const q = parseQuery(ctx, pagination.extend({ active_only: z.enum(['true', 'false']).optional(), version: z.coerce.number().int().optional() }));
    const { items, total } = await s.scenarios.list(bot.id, { active_only: q.active_only === 'true', version: q.version, limit: q.limit, offset: q.offset });
    ctx.body = page(items, total, q);
  });

  router.get('/v1/scenarios/:id', async (ctx) => {
    const scenario = await scenarioFor(ctx, ctx.params.id, 'read');
    ctx.body = ctx.query.format === 'export' ? scenario.scenario_data : scenario;
  });

  router.post('/v1/scenarios/:id/activate', async (ctx) => {
    const scenario = await scenarioFor(ctx, ctx.params.id, 'write');
    const { active } = parseBody(ctx, z.object({ active: z.boolean().default(true) }));
    if (active) {
      const result = validateScenario(scenario.scenario_data);
      if (!result.valid) throw unprocessable('invalid_scenario', 'The scenario no longer validates.', diagnosticDetails(result.errors));
    }
    ctx.body = await s.scenarios.setActive(scenario.id, active);
  });

  return router;
}
