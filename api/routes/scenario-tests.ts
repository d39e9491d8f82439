import type { Context } from 'koa';
import { z } from 'zod';
import { runConversationSuite } from '../../src/engine/conversations';
import { scenarioTestsRepository } from '../../src/db/scenario-tests';
import type { ScenarioRecord } from '../../src/db/scenarios';
import { type AppError, badRequest, notFound, unprocessable } from '../../src/errors';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { suiteResultView, suiteView } from '../scenario-suites';
import { diagnosticDetails, scenarioSuiteSchema, suiteResultSchema } from '../schemas';
import { parseBody } from '../validation';

// What the runner checks of a suite it says with lines and columns (422); the schema only tells
// clients the outline.
const suiteBody = z.looseObject({
  conversations: z.array(z.record(z.string(), z.unknown())).describe('conversations: name, user?, http?, turns (docs/scenario-format.md)'),
});
const runBody = suiteBody.partial().describe('a suite to run instead of the stored one (not stored); send no body to run the stored suite');

/** The suite text of the request: the JSON body exactly as sent, so lines and columns are the sender's. */
function sentSuite(ctx: Context): string | undefined {
  parseBody(ctx, z.unknown());
  const raw = ctx.state.rawBody;
  return raw.length ? raw.toString('utf8') : undefined;
}

export function scenarioTestRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const writes = s.rateLimit('scenario_writes');
  const suites = scenarioTestsRepository(s.db);

  const scenarioFor = async (ctx: Context, access: 'read' | 'write'): Promise<ScenarioRecord> => {
    const scenario = await s.scenarios.get(ctx.params.id);
    if (!scenario) throw notFound('Scenario');
    await s.botFor(ctx, scenario.bot_id, access).catch((error: AppError) => {
      throw error.status === 404 ? notFound('Scenario') : error;
    });
    return scenario;
  };

  /** Runs `text` on the version; a suite with problems is 422 with each problem's line and column. */
  const runValid = (scenario: ScenarioRecord, text: string) => {
    const result = runConversationSuite(scenario.scenario_data, text);
    if (!result.valid) {
      throw unprocessable(
        'invalid_suite',
        `The test suite has ${result.problems.length} problem(s); the first: ${result.problems[0]?.message}`,
        diagnosticDetails(result.problems),
      );
    }
    return suiteResultView(result);
  };

  router.op(
    'post',
    '/v1/scenarios/:id/tests',
    {
      summary: 'Store the conversation test suite of this version (replacing its suite; the next versions of the name carry it over) and run it',
      tag: 'scenarios',
      body: suiteBody,
      success: { status: 201, schema: scenarioSuiteSchema.extend({ result: suiteResultSchema }) },
      errors: [403, 404, 413, 422, 429],
    },
    async (ctx, next) => {
      ctx.state.scenario = await scenarioFor(ctx, 'write');
      await next();
    },
    writes,
    async (ctx) => {
      const scenario = ctx.state.scenario as ScenarioRecord;
      const text = sentSuite(ctx);
      if (text === undefined) throw badRequest('Send the test suite as the JSON body: {"conversations":[...]}.');
      const result = runValid(scenario, text);
      ctx.status = 201;
      ctx.body = { ...suiteView(await suites.put(scenario.id, text)), result };
    },
  );

  router.op(
    'get',
    '/v1/scenarios/:id/tests',
    { summary: 'Get the conversation test suite of this version', tag: 'scenarios', success: { status: 200, schema: scenarioSuiteSchema }, errors: [404] },
    async (ctx) => {
      const scenario = await scenarioFor(ctx, 'read');
      const suite = await suites.get(scenario.id);
      if (!suite) throw notFound('Test suite');
      ctx.body = suiteView(suite);
    },
  );

  router.op(
    'post',
    '/v1/scenarios/:id/tests/run',
    {
      summary: 'Run the version’s stored conversation test suite, or the suite sent as the body (not stored)',
      tag: 'scenarios',
      body: runBody,
      success: { status: 200, schema: suiteResultSchema },
      errors: [404, 413, 422, 429],
    },
    async (ctx, next) => {
      ctx.state.scenario = await scenarioFor(ctx, 'read');
      await next();
    },
    writes,
    async (ctx) => {
      const scenario = ctx.state.scenario as ScenarioRecord;
      const text = sentSuite(ctx);
      if (text !== undefined) {
        ctx.body = runValid(scenario, text);
        return;
      }
      const suite = await suites.get(scenario.id);
      if (!suite) throw notFound('Test suite');
      ctx.body = suiteResultView(runConversationSuite(scenario.scenario_data, suite.suite_text));
    },
  );

  return router;
}
