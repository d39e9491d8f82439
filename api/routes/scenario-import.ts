/** Versions that arrive other than as a JSON body: an uploaded file, and a copy of another version. */
import { z } from 'zod';
import { validateScenario } from '../../src/engine';
import { isPlainObject } from '../../src/engine/json';
import type { Scenario } from '../../src/engine/types';
import type { ScenarioRecord } from '../../src/db/scenarios';
import { notFound, unprocessable } from '../../src/errors';
import type { Services } from '../deps';
import type { ApiRouter } from '../openapi';
import { activationTestsQuery, checkSuite } from '../scenario-suites';
import { scenarioMultipart, uploadedText, uploadFields, validateUpload } from '../scenario-upload';
import { invalidScenario, type ScenarioVersions, testsField, versionResult, versionView, withTests } from '../scenario-versions';
import { scenarioSchema } from '../schemas';
import { parse, parseBody, parseQuery, visibleName } from '../validation';

const cloneInput = z.object({ bot_id: z.string().min(1).optional(), name: visibleName().optional() });

/** The file's own `"name"`, when it is JSON that has one. */
function nameInFile(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { name?: unknown };
    return typeof parsed?.name === 'string' && parsed.name.trim() ? parsed.name.trim().slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/** A stored version as its operator wrote it (the text keeps their key order), else its data. */
function documentOf(record: ScenarioRecord): Record<string, unknown> {
  const written: unknown = record.source_text ? JSON.parse(record.source_text) : record.scenario_data;
  if (!isPlainObject(written)) throw new Error(`Scenario ${record.id} is stored as something other than a JSON object.`);
  return written;
}

export function addUploadRoute(router: ApiRouter, s: Services, versions: ScenarioVersions): void {
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
      await next();
    },
    s.rateLimit('scenario_writes'),
    scenarioMultipart(),
    async (ctx) => {
      const botId = ctx.params.botId;
      const query = parseQuery(ctx, activationTestsQuery);
      const fields = parse(uploadFields.omit({ file: true }), (ctx.request as { body?: unknown }).body ?? {}, 'form fields');
      const text = uploadedText(ctx);
      const name = fields.name ?? nameInFile(text);
      let base: ScenarioRecord | undefined;
      if (fields.mode === 'merge') {
        if (!name) throw unprocessable('scenario_name_missing', 'A merge needs the scenario name: the form field "name" or the file’s "name".');
        base = await s.scenarios.latest(botId, name);
        if (!base) throw notFound(`Scenario "${name}" to merge into`);
      }
      const upload = validateUpload(text, fields.mode, await versions.contextOf(botId), base ? documentOf(base) : undefined);
      if (!upload.result.valid || !upload.data) throw invalidScenario(upload.result.errors);
      if (!name) throw unprocessable('scenario_name_missing', 'The scenario needs a name: the form field "name" or the file’s "name".');
      const activating = fields.mode === 'replace';
      const tests =
        query.run_tests || activating
          ? checkSuite(upload.data as unknown as Scenario, await versions.suites.latestOfName(botId, name), { activating, force: query.force })
          : null;
      const created = await s.scenarios.createVersion({
        bot_id: botId,
        name,
        scenario_data: upload.data as unknown as Scenario,
        source_text: upload.sourceText,
        warnings: upload.result.warnings,
        activate: fields.mode === 'replace',
      });
      ctx.status = 201;
      ctx.body = {
        ...versionView(created),
        mode: fields.mode,
        dialogs_on_older_versions: await versions.onOlder(created),
        ...testsField(query.run_tests, tests),
      };
    },
  );
}

export function addCloneRoute(router: ApiRouter, s: Services, versions: ScenarioVersions): void {
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
      Object.assign(ctx.state, await versions.scenarioFor(ctx, ctx.params.id, 'read'));
      await next();
    },
    s.rateLimit('scenario_writes'),
    async (ctx) => {
      const { scenario, bot } = ctx.state as { scenario: ScenarioRecord; bot: { id: string; account_id: string } };
      const input = parseBody(ctx, cloneInput);
      const target = await s.botFor(ctx, input.bot_id ?? bot.id, 'write');
      if (target.account_id !== bot.account_id) {
        throw unprocessable('different_account', 'A scenario can be cloned only to a bot of the same account.');
      }
      // Another bot may lack media the scenario names.
      const result = validateScenario(scenario.scenario_data, await versions.contextOf(target.id));
      if (!result.valid) throw invalidScenario(result.errors);
      const created = await s.scenarios.createVersion({
        bot_id: target.id,
        name: input.name ?? scenario.name,
        scenario_data: scenario.scenario_data,
        source_text: scenario.source_text,
        warnings: scenario.warnings,
      });
      ctx.status = 201;
      ctx.body = versionView(created);
    },
  );
}
