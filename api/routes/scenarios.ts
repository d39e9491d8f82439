import { z } from 'zod';
import { validateScenario } from '../../src/engine';
import type { ScenarioRecord } from '../../src/db/scenarios';
import { badRequest, conflict } from '../../src/errors';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { activationTestsQuery, checkSuite, createTestsQuery } from '../scenario-suites';
import { exportText, invalidScenario, scenarioVersions, testsField, versionResult, versionView, withTests } from '../scenario-versions';
import { validateSentScenario } from '../scenario-upload';
import { describedJson, diagnosticDetails, diagnosticSchema, jsonValue, pageOf, scenarioSchema } from '../schemas';
import { hasNul, page, pagination, parseBody, parseQuery, queryInteger, contentRule, visibleName } from '../validation';
import { addCloneRoute, addUploadRoute } from './scenario-import';

// Any JSON is accepted here: what is wrong inside a scenario is the engine's to say, with paths (422).
const scenarioData = describedJson('the scenario document (docs/scenario-format.md)');
const scenarioInput = z.object({ name: visibleName(), scenario_data: scenarioData });
const scenarioUpdate = z.object({ scenario_data: scenarioData }).strict();
const validateInput = describedJson('the scenario file itself, or {"scenario_data": ...} as a scenario is created');
const validationResult = z.object({ valid: z.literal(true), warnings: z.array(diagnosticSchema) });

/** The path of scenario validation, whose route reads the JSON text itself (api/middleware.ts `body`). */
export const isScenarioValidation = (path: string) => /^\/v1\/bots\/[^/]+\/scenarios\/validate$/.test(path);
const listQuery = pagination.extend({
  active_only: z.enum(['true', 'false']).optional(),
  version: queryInteger(
    z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1),
  ).optional(),
  name: z.string().optional(),
});
const getQuery = z.object({ format: z.enum(['json', 'export']).default('json') });
const activateInput = z
  .object({
    active: z.boolean().default(true),
    default: z.literal(true).optional().describe('make it the bot’s default scenario: new dialogs start it when no trigger matches'),
  })
  .refine((input) => input.active || !input.default, { ...contentRule('an inactive scenario cannot be the default'), path: ['default'] });

/** Scenario versions: stored, listed, read, changed, deleted and activated; added in the order the OpenAPI document lists them. */
export function scenarioRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const writes = s.rateLimit('scenario_writes');
  const versions = scenarioVersions(s);
  const { scenarioFor, contextOf, onOlder, suites } = versions;

  router.op(
    'post',
    '/v1/bots/:botId/scenarios',
    {
      summary: 'Create a scenario (a second one of the same name is its next version, with that version’s test suite)',
      tag: 'scenarios',
      query: createTestsQuery,
      body: scenarioInput,
      success: { status: 201, schema: withTests(scenarioSchema) },
      errors: [400, 403, 404, 409, 422, 429],
    },
    async (ctx, next) => {
      await s.botFor(ctx, ctx.params.botId, 'write');
      await next();
    },
    writes,
    async (ctx) => {
      const query = parseQuery(ctx, createTestsQuery);
      const input = parseBody(ctx, scenarioInput);
      const result = validateScenario(input.scenario_data, await contextOf(ctx.params.botId));
      if (!result.valid || !result.scenario) throw invalidScenario(result.errors);
      const tests = query.run_tests ? checkSuite(result.scenario, await suites.latestOfName(ctx.params.botId, input.name), { activating: false }) : null;
      const created = await s.scenarios.createVersion({
        bot_id: ctx.params.botId,
        name: input.name,
        scenario_data: result.scenario,
        source_text: exportText(input.scenario_data),
        warnings: result.warnings,
      });
      ctx.status = 201;
      ctx.body = { ...versionView(created), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/scenarios/validate',
    {
      summary:
        'Check a scenario without storing it (editors call it as the operator types): 200 with its warnings, or 422 with each error’s path, line and column in the text as sent',
      tag: 'scenarios',
      body: validateInput,
      success: { status: 200, schema: validationResult },
      errors: [400, 404, 413, 415, 422, 429],
    },
    async (ctx, next) => {
      await s.botFor(ctx, ctx.params.botId, 'read');
      // A check changes nothing: no audit entry for it.
      ctx.state.accountId = undefined;
      await next();
    },
    s.rateLimit('scenario_validations'),
    async (ctx) => {
      // 415 for another media type; 400 for a NUL character, which no stored version may hold.
      parseBody(ctx, z.unknown());
      const text = ctx.state.rawBody.toString('utf8').replace(/^\uFEFF/, '');
      if (hasNul(text)) throw badRequest('The scenario text contains a NUL character.');
      const result = validateSentScenario(text, await contextOf(ctx.params.botId));
      if (!result.valid) throw invalidScenario(result.errors);
      ctx.body = { valid: true, warnings: diagnosticDetails(result.warnings) };
    },
  );

  addUploadRoute(router, s, versions);

  router.op(
    'get',
    '/v1/bots/:botId/scenarios',
    { summary: 'List scenario versions', tag: 'scenarios', query: listQuery, success: { status: 200, schema: pageOf(scenarioSchema) }, errors: [400, 404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const q = parseQuery(ctx, listQuery);
      const { items, total } = await s.scenarios.list(bot.id, {
        active_only: q.active_only === 'true',
        version: q.version,
        name: q.name,
        limit: q.limit,
        offset: q.offset,
      });
      ctx.body = page(items.map(versionView), total, q);
    },
  );

  router.op(
    'get',
    '/v1/scenarios/:id',
    {
      summary: 'Get a scenario version; ?format=export returns the bare scenario file',
      tag: 'scenarios',
      query: getQuery,
      success: { status: 200, schema: z.union([scenarioSchema, z.record(z.string(), jsonValue).describe('?format=export: the scenario file as stored')]) },
      errors: [400, 404],
    },
    async (ctx) => {
      const { scenario } = await scenarioFor(ctx, ctx.params.id, 'read');
      if (parseQuery(ctx, getQuery).format !== 'export') {
        ctx.body = versionView(scenario);
        return;
      }
      const filename = `${scenario.name.replace(/[^\w.-]+/g, '_')}.v${scenario.version}.json`;
      ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = scenario.source_text ?? exportText(scenario.scenario_data);
    },
  );

  router.op(
    'put',
    '/v1/scenarios/:id',
    {
      summary: 'Store changed scenario data as the next version (versions are immutable); active if the version changed was',
      tag: 'scenarios',
      query: activationTestsQuery,
      body: scenarioUpdate,
      success: { status: 200, schema: withTests(versionResult) },
      errors: [400, 403, 404, 409, 422, 429],
    },
    async (ctx, next) => {
      ctx.state.scenario = (await scenarioFor(ctx, ctx.params.id, 'write')).scenario;
      await next();
    },
    writes,
    async (ctx) => {
      const scenario = ctx.state.scenario as ScenarioRecord;
      const query = parseQuery(ctx, activationTestsQuery);
      const input = parseBody(ctx, scenarioUpdate);
      const result = validateScenario(input.scenario_data, await contextOf(scenario.bot_id));
      if (!result.valid || !result.scenario) throw invalidScenario(result.errors);
      const tests =
        query.run_tests || scenario.is_active
          ? checkSuite(result.scenario, await suites.latestOfName(scenario.bot_id, scenario.name), { activating: scenario.is_active, force: query.force })
          : null;
      const created = await s.scenarios.createVersion({
        bot_id: scenario.bot_id,
        name: scenario.name,
        scenario_data: result.scenario,
        source_text: exportText(input.scenario_data),
        warnings: result.warnings,
        activate: scenario.is_active,
      });
      ctx.body = { ...versionView(created), dialogs_on_older_versions: await onOlder(created), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'delete',
    '/v1/scenarios/:id',
    {
      summary: 'Delete a version: refused while it is active or running dialogs use it',
      tag: 'scenarios',
      success: { status: 204 },
      errors: [403, 404, 409, 429],
    },
    async (ctx, next) => {
      ctx.state.scenario = (await scenarioFor(ctx, ctx.params.id, 'write')).scenario;
      await next();
    },
    writes,
    async (ctx) => {
      const scenario = ctx.state.scenario as ScenarioRecord;
      if (scenario.is_active) throw conflict('scenario_active', 'The scenario is active; deactivate it first.');
      const running = await s.dialogs.countActiveOn([scenario.id]);
      if (running > 0) throw conflict('scenario_in_use', `${running} running dialog(s) still use this version.`, { active_dialogs: running });
      await s.scenarios.delete(scenario.id);
      ctx.status = 204;
    },
  );

  router.op(
    'post',
    '/v1/scenarios/:id/activate',
    {
      summary:
        'Activate the version beside the bot’s other active scenarios, replacing the other versions of its name ({"default":true} makes it the default, {"active":false} deactivates it); validated again first',
      tag: 'scenarios',
      query: activationTestsQuery,
      body: activateInput,
      success: { status: 200, schema: withTests(scenarioSchema) },
      errors: [400, 403, 404, 409, 422, 429],
    },
    async (ctx, next) => {
      Object.assign(ctx.state, await scenarioFor(ctx, ctx.params.id, 'write'));
      await next();
    },
    writes,
    async (ctx) => {
      const { scenario, bot } = ctx.state as { scenario: ScenarioRecord; bot: { status: string } };
      const query = parseQuery(ctx, activationTestsQuery);
      const input = parseBody(ctx, activateInput);
      let tests = null;
      if (input.active) {
        const result = validateScenario(scenario.scenario_data, await contextOf(scenario.bot_id));
        if (!result.valid) throw invalidScenario(result.errors);
        tests = checkSuite(scenario.scenario_data, await suites.get(scenario.id), { activating: true, force: query.force });
      } else if (scenario.is_active && bot.status === 'active' && (await s.scenarios.listActive(scenario.bot_id)).length === 1) {
        throw conflict('bot_active', 'An active bot needs an active scenario: activate another scenario or deactivate the bot first.');
      }
      ctx.body = {
        ...versionView((await s.scenarios.setActive(scenario.id, input.active, { makeDefault: input.default })) as ScenarioRecord),
        ...testsField(query.run_tests, tests),
      };
    },
  );

  addCloneRoute(router, s, versions);

  return router;
}
