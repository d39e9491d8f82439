import type { Context } from 'koa';
import { z } from 'zod';
import { mediaRepository } from '../../src/media/repository';
import { validateScenario } from '../../src/engine';
import type { Diagnostic, Scenario, ValidationContext } from '../../src/engine/types';
import { scenarioTestsRepository } from '../../src/db/scenario-tests';
import type { ScenarioRecord } from '../../src/db/scenarios';
import { AppError, badRequest, conflict, notFound, unprocessable } from '../../src/errors';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { activationTestsQuery, checkSuite, createTestsQuery } from '../scenario-suites';
import { scenarioMultipart, uploadedText, uploadFields, validateUpload } from '../scenario-upload';
import { describedJson, diagnosticDetails, jsonValue, pageOf, scenarioSchema, suiteResultSchema } from '../schemas';
import { page, pagination, parse, parseBody, parseQuery, queryInteger, contentRule, visibleName } from '../validation';

// Any JSON is accepted here: what is wrong inside a scenario is the engine's to say, with paths (422).
const scenarioData = describedJson('the scenario document (docs/scenario-format.md)');
const scenarioInput = z.object({ name: visibleName(), scenario_data: scenarioData });
const scenarioUpdate = z.object({ scenario_data: scenarioData }).strict();
const listQuery = pagination.extend({
  active_only: z.enum(['true', 'false']).optional(),
  version: queryInteger(z.number().int().min(1).max(2 ** 31 - 1)).optional(),
  name: z.string().optional(),
});
const getQuery = z.object({ format: z.enum(['json', 'export']).default('json') });
const activateInput = z
  .object({
    active: z.boolean().default(true),
    default: z.literal(true).optional().describe('make it the bot’s default scenario: new dialogs start it when no trigger matches'),
  })
  .refine((input) => input.active || !input.default, { ...contentRule('an inactive scenario cannot be the default'), path: ['default'] });
const cloneInput = z.object({ bot_id: z.string().min(1).optional(), name: visibleName().optional() });

const versionResult = scenarioSchema.extend({
  dialogs_on_older_versions: z.number().int().describe('running dialogs that stay on older versions of this name'),
});

/** `?run_tests=true`: the results of the version's conversation test suite, null when it has none. */
const withTests = <T extends z.ZodObject>(schema: T) => schema.extend({ tests: suiteResultSchema.nullable().optional().describe('with ?run_tests=true') });
/** The field `tests` when asked for. */
const testsField = (asked: boolean, tests: unknown) => (asked ? { tests } : {});

function invalid(errors: Diagnostic[]): AppError {
  return unprocessable('invalid_scenario', `The scenario has ${errors.length} error(s); the first: ${errors[0]?.message}`, diagnosticDetails(errors));
}

/**
 * The document as the operator wrote it, for `?format=export`: PostgreSQL's jsonb does not keep key
 * order, so the text is kept beside the parsed data.
 */
function exportText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** What the API shows of a version: the stored upload text stays for `?format=export`. */
function view(record: ScenarioRecord) {
  const { source_text: _text, ...rest } = record;
  return { ...rest, warnings: diagnosticDetails(record.warnings) };
}

export function scenarioRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const writes = s.rateLimit('scenario_writes');
  const suites = scenarioTestsRepository(s.db);

  const scenarioFor = async (ctx: Context, id: string, access: 'read' | 'write') => {
    const scenario = await s.scenarios.get(id);
    if (!scenario) throw notFound('Scenario');
    const bot = await s.botFor(ctx, scenario.bot_id, access).catch((error: AppError) => {
      throw error.status === 404 ? notFound('Scenario') : error;
    });
    return { scenario, bot };
  };

  /** What validation must know of the bot: the media ids it has (a scenario may use only those). */
  const contextOf = async (botId: string): Promise<ValidationContext> => ({ knownMediaIds: new Set(await mediaRepository(s.db).idsOfBot(botId)) });

  /** Running dialogs on the versions of this name older than `version`. */
  const onOlder = async (record: ScenarioRecord) => s.dialogs.countActiveOn(await s.scenarios.olderVersionIds(record.bot_id, record.name, record.version));

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
      return next();
    },
    writes,
    async (ctx) => {
      const query = parseQuery(ctx, createTestsQuery);
      const input = parseBody(ctx, scenarioInput);
      const result = validateScenario(input.scenario_data, await contextOf(ctx.params.botId));
      if (!result.valid || !result.scenario) throw invalid(result.errors);
      const tests = query.run_tests ? checkSuite(result.scenario, await suites.latestOfName(ctx.params.botId, input.name), { activating: false }) : null;
      const created = await s.scenarios.createVersion({ bot_id: ctx.params.botId, name: input.name, scenario_data: result.scenario, source_text: exportText(input.scenario_data), warnings: result.warnings });
      ctx.status = 201;
      ctx.body = { ...view(created), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'post',
    '/v1/bots/:botId/scenarios/upload',
    {
      summary: 'Upload a scenario file: mode new_version (default), replace (new version, made active) or merge (laid over the latest version)',
      tag: 'scenarios',
      query: activationTestsQuery,
      multipart: uploadFields,
      success: { status: 201, schema: withTests(versionResult.extend({ mode: z.string() })) },
      errors: [400, 403, 404, 409, 413, 415, 422, 429],
    },
    async (ctx, next) => {
      await s.botFor(ctx, ctx.params.botId, 'write');
      return next();
    },
    writes,
    scenarioMultipart(),
    async (ctx) => {
      const botId = ctx.params.botId;
      const query = parseQuery(ctx, activationTestsQuery);
      const fields = parse(uploadFields.omit({ file: true }), (ctx.request as { body?: unknown }).body ?? {}, 'form fields');
      const text = uploadedText(ctx);
      const nameInFile = (() => {
        try {
          const parsed = JSON.parse(text) as { name?: unknown };
          return typeof parsed?.name === 'string' && parsed.name.trim() ? parsed.name.trim().slice(0, 200) : undefined;
        } catch {
          return undefined;
        }
      })();
      const name = fields.name ?? nameInFile;
      let base: ScenarioRecord | undefined;
      if (fields.mode === 'merge') {
        if (!name) throw badRequest('A merge needs the scenario name: the form field "name" or the file’s "name".');
        base = await s.scenarios.latest(botId, name);
        if (!base) throw notFound(`Scenario "${name}" to merge into`);
      }
      const upload = validateUpload(text, fields.mode, await contextOf(botId), base ? (base.source_text ? JSON.parse(base.source_text) : base.scenario_data) : undefined);
      if (!upload.result.valid || !upload.data) throw invalid(upload.result.errors);
      if (!name) throw badRequest('The scenario needs a name: the form field "name" or the file’s "name".');
      const activating = fields.mode === 'replace';
      const tests = query.run_tests || activating ? checkSuite(upload.data as unknown as Scenario, await suites.latestOfName(botId, name), { activating, force: query.force }) : null;
      const created = await s.scenarios.createVersion({
        bot_id: botId,
        name,
        scenario_data: upload.data as unknown as Scenario,
        source_text: upload.sourceText,
        warnings: upload.result.warnings,
        activate: fields.mode === 'replace',
      });
      ctx.status = 201;
      ctx.body = { ...view(created), mode: fields.mode, dialogs_on_older_versions: await onOlder(created), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'get',
    '/v1/bots/:botId/scenarios',
    { summary: 'List scenario versions', tag: 'scenarios', query: listQuery, success: { status: 200, schema: pageOf(scenarioSchema) }, errors: [400, 404] },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'read');
      const q = parseQuery(ctx, listQuery);
      const { items, total } = await s.scenarios.list(bot.id, { active_only: q.active_only === 'true', version: q.version, name: q.name, limit: q.limit, offset: q.offset });
      ctx.body = page(items.map(view), total, q);
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
        ctx.body = view(scenario);
        return;
      }
      const filename = `${scenario.name.replace(/[^\w.-]+/g, '_')}.v${scenario.version}.json`;
      ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = scenario.source_text ?? `${JSON.stringify(scenario.scenario_data, null, 2)}\n`;
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
      return next();
    },
    writes,
    async (ctx) => {
      const scenario = ctx.state.scenario as ScenarioRecord;
      const query = parseQuery(ctx, activationTestsQuery);
      const input = parseBody(ctx, scenarioUpdate);
      const result = validateScenario(input.scenario_data, await contextOf(scenario.bot_id));
      if (!result.valid || !result.scenario) throw invalid(result.errors);
      const tests =
        query.run_tests || scenario.is_active ? checkSuite(result.scenario, await suites.latestOfName(scenario.bot_id, scenario.name), { activating: scenario.is_active, force: query.force }) : null;
      const created = await s.scenarios.createVersion({
        bot_id: scenario.bot_id,
        name: scenario.name,
        scenario_data: result.scenario,
        source_text: exportText(input.scenario_data),
        warnings: result.warnings,
        activate: scenario.is_active,
      });
      ctx.body = { ...view(created), dialogs_on_older_versions: await onOlder(created), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'delete',
    '/v1/scenarios/:id',
    { summary: 'Delete a version: refused while it is active or running dialogs use it', tag: 'scenarios', success: { status: 204 }, errors: [403, 404, 409, 429] },
    async (ctx, next) => {
      ctx.state.scenario = (await scenarioFor(ctx, ctx.params.id, 'write')).scenario;
      return next();
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
      return next();
    },
    writes,
    async (ctx) => {
      const { scenario, bot } = ctx.state as { scenario: ScenarioRecord; bot: { status: string } };
      const query = parseQuery(ctx, activationTestsQuery);
      const input = parseBody(ctx, activateInput);
      let tests = null;
      if (input.active) {
        const result = validateScenario(scenario.scenario_data, await contextOf(scenario.bot_id));
        if (!result.valid) throw invalid(result.errors);
        tests = checkSuite(scenario.scenario_data, await suites.get(scenario.id), { activating: true, force: query.force });
      } else if (scenario.is_active && bot.status === 'active' && (await s.scenarios.listActive(scenario.bot_id)).length === 1) {
        throw conflict('bot_active', 'An active bot needs an active scenario: activate another scenario or deactivate the bot first.');
      }
      ctx.body = { ...view((await s.scenarios.setActive(scenario.id, input.active, { makeDefault: input.default })) as ScenarioRecord), ...testsField(query.run_tests, tests) };
    },
  );

  router.op(
    'post',
    '/v1/scenarios/:id/clone',
    {
      summary: 'Copy a version to this or another bot of the same account (stored as the next version of the name there, inactive)',
      tag: 'scenarios',
      body: cloneInput,
      success: { status: 201, schema: scenarioSchema },
      errors: [400, 403, 404, 409, 422, 429],
    },
    async (ctx, next) => {
      Object.assign(ctx.state, await scenarioFor(ctx, ctx.params.id, 'read'));
      return next();
    },
    writes,
    async (ctx) => {
      const { scenario, bot } = ctx.state as { scenario: ScenarioRecord; bot: { id: string; account_id: string } };
      const input = parseBody(ctx, cloneInput);
      const target = await s.botFor(ctx, input.bot_id ?? bot.id, 'write');
      if (target.account_id !== bot.account_id) {
        throw unprocessable('different_account', 'A scenario can be cloned only to a bot of the same account.');
      }
      // Another bot may lack media the scenario names.
      const result = validateScenario(scenario.scenario_data, await contextOf(target.id));
      if (!result.valid) throw invalid(result.errors);
      const created = await s.scenarios.createVersion({
        bot_id: target.id,
        name: input.name ?? scenario.name,
        scenario_data: scenario.scenario_data,
        source_text: scenario.source_text,
        warnings: scenario.warnings,
      });
      ctx.status = 201;
      ctx.body = view(created);
    },
  );

  return router;
}
