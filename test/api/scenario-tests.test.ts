import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { bookingScenario, expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** A booking from /start to the confirmation, as the operator would write it (one turn per line). */
const bookingSuite = `{
  "conversations": [
    {
      "name": "books a table",
      "turns": [
        {"user": "/start"},
        {"bot": "Welcome to Chez Anna!"},
        {"bot": "Your name?"},
        {"user": "Ann"},
        {"bot": "How many guests, Ann?"},
        {"user": "4"},
        {"bot": {"text": "When?", "buttons": ["18:00", "20:00"]}},
        {"press": "20"},
        {"bot": "Booked for 4 at 20:00, Ann."},
        {"expect": {"data": {"guests": 4, "time": "20"}}}
      ]
    }
  ]
}
`;

/** The booking with the confirmation worded otherwise: the suite above fails on its line 14. */
const reworded = (() => {
  const scenario = clone(bookingScenario);
  scenario.steps.confirm.message.text = 'See you at {{time}}:00, {{user_name}}.';
  return scenario;
})();

describe.each(DB_KINDS)('scenario conversation tests API (%s)', (dbKind) => {
  let stack: Stack;
  let bot: TestBot;

  beforeAll(async () => {
    stack = await startStack({ db: dbKind, worker: false });
  });
  beforeEach(async () => {
    bot = await makeBot(stack);
  });
  afterAll(() => stack.close());

  const create = (data: unknown, query = '') =>
    stack.http.post(`/v1/bots/${bot.id}/scenarios${query}`).set(bot.headers).send({ name: 'booking', scenario_data: data });
  const store = (id: string, text: string, headers = bot.headers) => stack.http.post(`/v1/scenarios/${id}/tests`).set(headers).type('json').send(text);
  const activate = (id: string, query = '') => stack.http.post(`/v1/scenarios/${id}/activate${query}`).set(bot.headers).send({ active: true });

  it('stores a suite beside the version, runs it, and gets it back', async () => {
    const v1 = expectStatus(await create(bookingScenario), 201).body;
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 404, 'not_found');
    expectError(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(bot.headers), 404, 'not_found');

    const stored = expectStatus(await store(v1.id, bookingSuite), 201).body;
    expect(stored).toMatchObject({ scenario_id: v1.id, suite: JSON.parse(bookingSuite), created_at: expect.any(String), updated_at: expect.any(String) });
    expect(stored.result).toMatchObject({
      valid: true,
      problems: [],
      passed: 1,
      failed: 0,
      conversations: [{ name: 'books a table', passed: true, failures: [] }],
    });
    expect(stored.result.unvisited_steps).toEqual([]);

    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 200).body).toEqual({ ...stored, result: undefined });
    expect(expectStatus(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(bot.headers), 200).body).toEqual(stored.result);

    // A suite in the body runs instead of the stored one, and is not stored.
    const other = bookingSuite.replace('Booked for 4', 'Booked for 5');
    const ran = expectStatus(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(bot.headers).type('json').send(other), 200).body;
    expect(ran).toMatchObject({ valid: true, passed: 0, failed: 1 });
    expect(ran.conversations[0].failures).toEqual([
      expect.objectContaining({ conversation: 'books a table', turn: 8, line: 14, column: 9, expected: expect.stringContaining('Booked for 5') }),
    ]);
    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 200).body.suite).toEqual(JSON.parse(bookingSuite));

    // Storing again replaces the suite of the version.
    const replaced = expectStatus(await store(v1.id, other), 201).body;
    expect(replaced.result.failed).toBe(1);
    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 200).body.suite).toEqual(JSON.parse(other));
  });

  it('refuses a malformed suite with the line and column of each problem, and stores nothing', async () => {
    const v1 = expectStatus(await create(bookingScenario), 201).body;
    const malformed = '{\n  "conversations": [\n    {"name": "x", "turns": [{"shout": "hi"}]}\n  ]\n}\n';
    const refused = expectError(await store(v1.id, malformed), 422, 'invalid_suite');
    expect(refused.body.error.details).toContainEqual(
      expect.objectContaining({ path: expect.stringContaining('/conversations/0/turns/0'), line: 3, column: expect.any(Number), message: expect.any(String) }),
    );
    expectError(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(bot.headers).type('json').send(malformed), 422, 'invalid_suite');
    expectError(await store(v1.id, '{"conversations": 5}'), 422, 'invalid_suite');
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 404);

    expectError(await stack.http.post(`/v1/scenarios/${v1.id}/tests`).set(bot.headers), 400);
    expectError(await stack.http.post(`/v1/scenarios/${v1.id}/tests`).set(bot.headers).type('text').send(bookingSuite), 415);
    expectError(await store(v1.id, '{"conversations": ['), 400);
  });

  it('carries the suite over to the next versions, which run it with ?run_tests=true', async () => {
    const v1 = expectStatus(await create(bookingScenario), 201).body;
    expectStatus(await store(v1.id, bookingSuite), 201);

    const v2 = expectStatus(await create(bookingScenario, '?run_tests=true'), 201).body;
    expect(v2.version).toBe(2);
    expect(v2.tests).toMatchObject({ valid: true, passed: 1, failed: 0 });
    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v2.id}/tests`).set(bot.headers), 200).body.suite).toEqual(JSON.parse(bookingSuite));

    // The suite proves the change broke the confirmation, turn by turn.
    const v3 = expectStatus(await create(reworded, '?run_tests=true'), 201).body;
    expect(v3.tests).toMatchObject({ valid: true, passed: 0, failed: 1 });
    expect(v3.tests.conversations[0].failures).toEqual([
      expect.objectContaining({
        turn: 8,
        line: 14,
        column: 9,
        expected: expect.stringContaining('Booked for 4 at 20:00, Ann.'),
        got: expect.stringContaining('See you at 20:00, Ann.'),
      }),
    ]);

    // Without the flag there is no `tests` field; a name without a suite answers null.
    expect(expectStatus(await create(bookingScenario), 201).body).not.toHaveProperty('tests');
    expect(
      expectStatus(
        await stack.http.post(`/v1/bots/${bot.id}/scenarios?run_tests=true`).set(bot.headers).send({ name: 'fresh', scenario_data: bookingScenario }),
        201,
      ).body.tests,
    ).toBeNull();

    // An upload is a new version too.
    const uploaded = expectStatus(
      await stack.http
        .post(`/v1/bots/${bot.id}/scenarios/upload?run_tests=true`)
        .set(bot.headers)
        .field('name', 'booking')
        .attach('file', Buffer.from(JSON.stringify(bookingScenario)), { filename: 'booking.json', contentType: 'application/json' }),
      201,
    ).body;
    expect(uploaded).toMatchObject({ version: 5, tests: { passed: 1, failed: 0 } });
    expectStatus(await stack.http.get(`/v1/scenarios/${uploaded.id}/tests`).set(bot.headers), 200);
  });

  it('refuses to activate a version whose suite fails (409 tests_failing) unless forced', async () => {
    const v1 = expectStatus(await create(reworded), 201).body;
    expectStatus(await store(v1.id, bookingSuite), 201);

    const refused = expectError(await activate(v1.id), 409, 'tests_failing');
    expect(refused.body.error.details).toMatchObject({
      passed: 0,
      failed: 1,
      failures_total: 1,
      failures: [expect.objectContaining({ conversation: 'books a table', line: 14, column: 9 })],
    });
    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}`).set(bot.headers), 200).body.is_active).toBe(false);

    const forced = expectStatus(await activate(v1.id, '?force=true&run_tests=true'), 200).body;
    expect(forced).toMatchObject({ is_active: true, tests: { passed: 0, failed: 1 } });

    // A passing suite activates, and shows its results when asked.
    const v2 = expectStatus(await create(bookingScenario), 201).body;
    expect(expectStatus(await activate(v2.id, '?run_tests=true'), 200).body).toMatchObject({ is_active: true, tests: { passed: 1, failed: 0 } });

    // A PUT of the active version, or an upload with mode=replace, activates: the same rule.
    expectError(await stack.http.put(`/v1/scenarios/${v2.id}`).set(bot.headers).send({ scenario_data: reworded }), 409, 'tests_failing');
    const replace = (query: string) =>
      stack.http
        .post(`/v1/bots/${bot.id}/scenarios/upload${query}`)
        .set(bot.headers)
        .field('name', 'booking')
        .field('mode', 'replace')
        .attach('file', Buffer.from(JSON.stringify(reworded)), { filename: 'booking.json', contentType: 'application/json' });
    expectError(await replace(''), 409, 'tests_failing');
    expect(expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios?name=booking`).set(bot.headers), 200).body.total).toBe(2);
    expect(expectStatus(await replace('?force=true'), 201).body).toMatchObject({ version: 3, is_active: true });

    // A version without a suite activates as before.
    const plain = expectStatus(
      await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(bot.headers).send({ name: 'plain', scenario_data: reworded }),
      201,
    ).body;
    expect(expectStatus(await activate(plain.id, '?run_tests=true'), 200).body).toMatchObject({ is_active: true, tests: null });
  });

  it('lets a viewer read and run but not store, hides the suite from other accounts, and deletes it with its version and bot', async () => {
    const v1 = expectStatus(await create(bookingScenario), 201).body;
    expectStatus(await store(v1.id, bookingSuite), 201);

    const viewer = tokenFor(stack, 'viewer', [bot.account]);
    expectError(await store(v1.id, bookingSuite, viewer), 403);
    expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(viewer), 200);
    expect(expectStatus(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(viewer), 200).body.passed).toBe(1);

    const stranger = tokenFor(stack, 'operator', ['someone-else']);
    expectError(await store(v1.id, bookingSuite, stranger), 404);
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}/tests`).set(stranger), 404);
    expectError(await stack.http.post(`/v1/scenarios/${v1.id}/tests/run`).set(stranger), 404);
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}/tests`), 401);

    const v2 = expectStatus(await create(bookingScenario), 201).body;
    expectStatus(await stack.http.delete(`/v1/scenarios/${v1.id}`).set(bot.headers), 204);
    expect(await stack.db('scenario_tests').where({ scenario_id: v1.id }).first()).toBeUndefined();
    expect(await stack.db('scenario_tests').where({ scenario_id: v2.id }).first()).toBeDefined();
    expectStatus(await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(bot.headers), 200);
    expect(await stack.db('scenario_tests').where({ scenario_id: v2.id }).first()).toBeUndefined();
  });
});
