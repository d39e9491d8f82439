/**
 * A third-party fuzzer against the real API: Schemathesis reads /v1/openapi.json and sends what it
 * generates from it (valid and invalid requests, undeclared methods, missing auth) to the app on a
 * loopback port, backed by the real database, Temporal and a dialog worker. Every one of its checks
 * must pass: no 5xx, every status and body as the document declares, schema-valid requests accepted,
 * invalid ones refused, 405 for undeclared methods, 401 without a token.
 *
 * The webhooks are fuzzed too: without the platform's proof every request to them is a 401, which
 * they declare; their signed traffic is the platform tests' (test/platforms/).
 *
 * FUZZ_MAX_EXAMPLES (default 100, about two minutes on two cores) trades depth for time; the seed
 * is fixed, so a run is repeatable.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../api/app';
import { signToken } from '../../api/auth';
import { createLogger } from '../../src/log';
import { type FakeServer, startFakeDiscord, startFakeMessenger, startFakeSlack, startFakeTelegram, startFakeWhatsApp } from '../fakes';
import { bookingScenario } from '../dialog/scenarios';
import { type Stack, startStack } from '../support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS helper, shared with scripts/bootstrap.js
const { findSchemathesis } = require('../../scripts/schemathesis-bin') as { findSchemathesis: () => string | undefined };

const SEED = 42;
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 100);
const ACCOUNT = 'fuzz';
const RUN_TIMEOUT_MS = 15 * 60_000;

interface Seeded {
  botId: string;
  scenarioId: string;
  doomedBotId: string;
}

/** The fuzzer's configuration: ids that exist, so requests reach past the 404 of a random id. */
function schemathesisConfig(seeded: Seeded): string {
  return `
seed = ${SEED}
workers = 1

[generation]
max-examples = ${MAX_EXAMPLES}
database = "none"
# The API refuses NUL in all text (PostgreSQL stores none); the document says so for every string
# but those inside JSON arrays, which it declares as arrays of anything (see api/schemas.ts).
allow-x00 = false

[parameters]
"path.accountId" = "${ACCOUNT}"
"path.botId" = "${seeded.botId}"

# Sequences of calls send valid data only: in 4.32.5 a stateful step whose negation did not survive
# is still judged as negative ("Invalid component: positive test case") and its 2xx reported as a
# failure. The coverage and fuzzing phases send the invalid data.
[phases.stateful.generation]
mode = "positive"

# 422 is this API's answer to well-formed content that is wrong in meaning, which no JSON Schema
# can say: a scenario the engine finds errors in, a step not in the dialog's scenario, credentials
# of another platform than the path's, a merge of a dialog with itself (CONTRACT: 400 malformed,
# 422 invalid content).
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

# Deleting the bot the other operations use would turn the rest of the run into 404s.
[[operations]]
include-name = "DELETE /v1/bots/{botId}"
parameters = { "path.botId" = "${seeded.doomedBotId}" }

[[operations]]
include-path-regex = "^/v1/scenarios/"
parameters = { "path.id" = "${seeded.scenarioId}" }

# DELETE on a dialog resets it and keeps its history (CONTRACT §2 Dialogs): the dialog and what
# hangs below it are still there afterwards, which is not a use after free.
[[operations]]
include-path-regex = "^/v1/bots/[^/]+/dialogs/[^/]+/[^/]+"
checks.use_after_free.enabled = false

# What an uploaded file is comes from its bytes (magic numbers; a scenario file must be UTF-8 JSON
# text), which a multipart schema does not declare.
[[operations]]
include-name = ["POST /v1/bots/{botId}/media", "POST /v1/bots/{botId}/scenarios/upload"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "415", "422", "429"]
`;
}

function runSchemathesis(bin: string, args: string[], cwd: string): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

describe('API fuzzing with Schemathesis', () => {
  let stack: Stack;
  let fakes: FakeServer[];
  let server: http.Server;
  let baseUrl: string;
  let headers: Record<string, string>;
  let seeded: Seeded;
  let workDir: string;

  beforeAll(async () => {
    const [telegram, whatsapp, messenger, slack, discord] = await Promise.all([
      startFakeTelegram(),
      startFakeWhatsApp(),
      startFakeMessenger(),
      startFakeSlack(),
      startFakeDiscord(),
    ]);
    fakes = [telegram, whatsapp, messenger, slack, discord];
    stack = await startStack({
      db: 'postgres',
      apiBases: { telegram: telegram.url, whatsapp: whatsapp.url, messenger: messenger.url, slack: slack.url, discord: discord.url },
    });
    const bot = await stack.createBot({ account: ACCOUNT, platform: 'telegram', credentials: { token: '7000001:AAH-fuzz-token' }, scenario: bookingScenario });
    const doomed = await stack.createBot({
      account: ACCOUNT,
      platform: 'telegram',
      credentials: { token: '7000002:AAH-fuzz-token' },
      scenario: bookingScenario,
    });
    seeded = { botId: bot.id, scenarioId: bot.scenarioId, doomedBotId: doomed.id };

    // The same stack with room for a fuzzer's pace: the per-token limits are tested elsewhere, and
    // at their production values most writes here would be a 429.
    const app = createApp({
      db: stack.db,
      config: stack.config,
      // Errors only: a 5xx the fuzzer finds comes with its stack in the test output.
      log: createLogger('error'),
      temporal: stack.temporal,
      rateLimits: { limits: { bot_creation: 100_000, scenario_writes: 100_000, dialog_operations: 100_000, webhooks: 100_000 } },
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    headers = { Authorization: `Bearer ${signToken(stack.config.jwtSecret, { sub: 'fuzzer', role: 'operator', account_ids: [ACCOUNT] })}` };
    workDir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
    await Promise.all((fakes ?? []).map((fake) => fake.close()));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    'finds no failure of any check: no 5xx, no answer outside the document, no valid request refused, no invalid one accepted',
    async () => {
      const bin = findSchemathesis();
      if (!bin)
        throw new Error('Schemathesis is needed: install Python 3 (scripts/schemathesis-bin.js pip-installs it into .tools/), or set SCHEMATHESIS_PATH.');
      const config = path.join(workDir, 'schemathesis.toml');
      writeFileSync(config, schemathesisConfig(seeded));
      const args = [
        '--config-file',
        config,
        'run',
        `${baseUrl}/v1/openapi.json`,
        '--checks',
        'all',
        '--header',
        `Authorization: ${headers.Authorization}`,
        '--no-color',
      ];
      const { code, output, seconds } = await runSchemathesis(bin, args, workDir);
      const summary = `schemathesis ${args.join(' ').replace(/Bearer \S+/, 'Bearer …')}\nexit ${code} after ${seconds} s\n${output}`;
      // Warnings (webhooks answering only 401, ids the fuzzer could not find) do not fail a run.
      if (code !== 0 || /= (FAILURES|ERRORS) =/.test(output)) throw new Error(summary);
      // Nothing is printed on success: Schemathesis closes like pytest ("= 3 warnings in 157s ="), and
      // CI reads such a line at the end of a run as a runner that executed no test.
      const generated = Number(/Test cases:\s*\n\s*(\d+) generated/.exec(output)?.[1] ?? 0);
      expect(generated).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS + 60_000,
  );
});
