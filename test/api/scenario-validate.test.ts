/**
 * `POST /v1/bots/{bot_id}/scenarios/validate`: what the console's editor calls as the operator
 * types. Errors come in the 422 shape of create and upload, with line and column in the text as
 * sent (syntax errors too); a valid scenario is 200 with its warnings; nothing is ever stored.
 */
import type { Db } from '../../src/db';
import { bookingScenario } from '../dialog/scenarios';
import { DB_KINDS, type DbKind, type Stack, startStack } from '../support/stack';
import { expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

/** Rows of every table of the schema, by table. */
async function rowCounts(db: Db, kind: DbKind): Promise<Record<string, number>> {
  const tables =
    kind === 'sqlite'
      ? (await db.raw<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).map((t) => t.name)
      : (await db.raw<{ rows: { name: string }[] }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()')).rows.map(
          (t) => t.name,
        );
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = Number((await db(table).count<{ n: number | string }[]>({ n: '*' }))[0].n);
  return counts;
}

/** 1-based line and column of the first `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} is not in the text`);
  const before = text.slice(0, at);
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') };
}

const withMissingStep = (): string => {
  const steps = { ...bookingScenario.steps, ask_guests: { ...bookingScenario.steps.ask_guests, next_step: 'pick_tme' } };
  return JSON.stringify({ ...bookingScenario, steps }, null, 2);
};

describe.each(DB_KINDS)('scenario validation (%s)', (dbKind) => {
  let stack: Stack;
  let bot: TestBot;
  const validate = (text: string, headers = bot.headers) =>
    stack.http.post(`/v1/bots/${bot.id}/scenarios/validate`).set(headers).set('Content-Type', 'application/json').send(text);

  beforeAll(async () => {
    stack = await startStack({ db: dbKind, worker: false });
    bot = await makeBot(stack, { scenario: true });
  });
  afterAll(() => stack.close());

  it('answers 200 with the warnings of a valid scenario, at their line in the text as sent', async () => {
    const scenario = {
      ...bookingScenario,
      steps: { ...bookingScenario.steps, welcome: { ...bookingScenario.steps.welcome, message: { text: 'Welcome, {{nobody}}!' } } },
    };
    const text = JSON.stringify(scenario, null, 4);
    const res = expectStatus(await validate(text), 200);
    expect(Object.keys(res.body).sort()).toEqual(['valid', 'warnings']);
    expect(res.body.valid).toBe(true);
    const warning = res.body.warnings.find((w: { message: string }) => w.message.includes('"nobody"'));
    expect(warning).toMatchObject({ path: '/steps/welcome/message/text', line: positionOf(text, '"Welcome, {{nobody}}!"').line });
    expect(expectStatus(await validate(JSON.stringify(bookingScenario)), 200).body).toEqual({ valid: true, warnings: [] });
  });

  it('answers 422 as an upload does, with the line and column of each error in the text as sent', async () => {
    const text = withMissingStep();
    const res = expectError(await validate(text), 422, 'invalid_scenario');
    const error = res.body.error.details.find((d: { path: string }) => d.path === '/steps/ask_guests/next_step');
    expect(error).toMatchObject({ ...positionOf(text, '"pick_tme"'), message: expect.stringContaining('pick_tme') });
    expect(error.suggestion).toContain('pick_time');

    const upload = expectError(
      await stack.http
        .post(`/v1/bots/${bot.id}/scenarios/upload`)
        .set(bot.headers)
        .attach('file', Buffer.from(text), { filename: 'booking.json', contentType: 'application/json' }),
      422,
      'invalid_scenario',
    );
    expect(res.body.error).toEqual(upload.body.error);
  });

  it('points at a JSON syntax error (422, not 400), and at errors inside {"scenario_data": ...} where they stand', async () => {
    const broken = '{\n  "version": "1.0",\n  "name": "x",\n  "start_step": "a"\n  "steps": {}\n}';
    const syntax = expectError(await validate(broken), 422, 'invalid_scenario');
    expect(syntax.body.error.details).toEqual([expect.objectContaining({ path: '', line: 5, column: 3 })]);

    const scenario = withMissingStep();
    const wrapped = `{\n  "name": "booking",\n  "scenario_data": ${scenario.replaceAll('\n', '\n  ')}\n}`;
    const res = expectError(await validate(wrapped), 422, 'invalid_scenario');
    expect(res.body.error.details.find((d: { path: string }) => d.path === '/steps/ask_guests/next_step')).toMatchObject(positionOf(wrapped, '"pick_tme"'));
    expect(expectStatus(await validate(JSON.stringify({ scenario_data: bookingScenario })), 200).body.valid).toBe(true);
    expectError(await validate(''), 422, 'invalid_scenario');
    expectError(await validate('[1, 2]'), 422, 'invalid_scenario');
  });

  it('stores nothing, not even an audit entry, whatever it is sent', async () => {
    const before = await rowCounts(stack.db, dbKind);
    expectStatus(await validate(JSON.stringify(bookingScenario)), 200);
    expectStatus(await validate(JSON.stringify({ name: 'main', scenario_data: bookingScenario })), 200);
    expectError(await validate(withMissingStep()), 422);
    expectError(await validate('{"steps": '), 422);
    expect(await rowCounts(stack.db, dbKind)).toEqual(before);
  });

  it('lets any reader validate, and no one else; refuses other media types, NUL and bodies over 1 MiB', async () => {
    expectStatus(await validate(JSON.stringify(bookingScenario), tokenFor(stack, 'viewer', [bot.account])), 200);
    expectError(await validate(JSON.stringify(bookingScenario), tokenFor(stack, 'operator', ['other'])), 404, 'not_found');
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios/validate`).set('Content-Type', 'application/json').send('{}'), 401);
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios/validate`).set(bot.headers).set('Content-Type', 'text/plain').send('{}'), 415);
    expectError(await validate(JSON.stringify({ ...bookingScenario, name: 'a\u0000b' })), 400);
    // Raw, in text that is not JSON: refused before it could be quoted back in a syntax error.
    expect(expectError(await validate('{"name": "a\u0000'), 400).text).not.toContain('\\u0000');
    expectError(await validate(`{"name": "${'x'.repeat(1024 * 1024)}"}`), 413);
  });

  it('counts against its own per-token budget: 429 with Retry-After beyond it', async () => {
    const headers = tokenFor(stack, 'operator', [bot.account]);
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push((await validate('{}', headers)).status);
    expect(statuses.every((status) => status === 422)).toBe(true);
    const refused = expectError(await validate('{}', headers), 429, 'rate_limited');
    expect(refused.headers['retry-after']).toMatch(/^[0-9]+$/);
    // A scenario write's budget is another one.
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(headers).send({ name: 'other', scenario_data: bookingScenario }), 201);
  });
});
