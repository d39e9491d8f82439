import { dialogsRepository } from '../../src/db/dialogs';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { bookingScenario, dialogRow, expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe.each(DB_KINDS)('scenarios API (%s)', (dbKind) => {
  let stack: Stack;
  let bot: TestBot;

  beforeAll(async () => {
    stack = await startStack({ db: dbKind, worker: false });
  });
  beforeEach(async () => {
    bot = await makeBot(stack);
  });
  afterAll(() => stack.close());

  const create = (name: string, data: unknown, headers = bot.headers) =>
    stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(headers).send({ name, scenario_data: data });
  const upload = (text: string | Buffer, fields: Record<string, string> = {}, file: { filename?: string; contentType?: string } = {}) => {
    let req = stack.http.post(`/v1/bots/${bot.id}/scenarios/upload`).set(bot.headers);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    return req.attach('file', Buffer.isBuffer(text) ? text : Buffer.from(text), {
      filename: file.filename ?? 'scenario.json',
      contentType: file.contentType ?? 'application/json',
    });
  };

  it('creates versions by name, validates with paths, and lists, gets and exports them', async () => {
    const v1 = expectStatus(await create('booking', bookingScenario), 201).body;
    expect(v1).toMatchObject({ id: expect.any(String), bot_id: bot.id, name: 'booking', version: 1, is_active: false, warnings: expect.any(Array) });
    expect(v1.scenario_data.start_step).toBe('welcome');
    expect(v1).not.toHaveProperty('source_text');
    const v2 = expectStatus(await create('booking', bookingScenario), 201).body;
    expect(v2.version).toBe(2);
    expect(expectStatus(await create('other', bookingScenario), 201).body.version).toBe(1);

    const broken = clone(bookingScenario) as Record<string, any>;
    broken.steps.ask_guests.next_step = 'pick_tme';
    const invalid = expectError(await create('booking', broken), 422, 'invalid_scenario');
    expect(invalid.body.error.details).toContainEqual(
      expect.objectContaining({
        path: '/steps/ask_guests/next_step',
        line: expect.any(Number),
        column: expect.any(Number),
        suggestion: expect.stringContaining('pick_time'),
      }),
    );
    expectError(await create('booking', 'not a scenario'), 422);
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(bot.headers).send({ name: 'x' }), 400);
    expectError(await create('x', bookingScenario, tokenFor(stack, 'viewer')), 403);

    const list = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios?limit=10`).set(bot.headers), 200).body;
    expect(list.total).toBe(3);
    const named = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios?name=booking&version=2`).set(bot.headers), 200).body;
    expect(named.items.map((s: { id: string }) => s.id)).toEqual([v2.id]);
    expectStatus(await stack.http.post(`/v1/scenarios/${v2.id}/activate`).set(bot.headers).send({ active: true }), 200);
    const active = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios?active_only=true`).set(bot.headers), 200).body;
    expect(active.items.map((s: { id: string }) => s.id)).toEqual([v2.id]);

    expect(expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}`).set(bot.headers), 200).body).toMatchObject({ id: v1.id, version: 1 });
    const exported = expectStatus(await stack.http.get(`/v1/scenarios/${v1.id}?format=export`).set(bot.headers), 200);
    expect(exported.headers['content-disposition']).toContain('booking.v1.json');
    expect(JSON.parse(exported.text)).toMatchObject({ start_step: 'welcome', steps: expect.any(Object) });
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}?format=yaml`).set(bot.headers), 400);
    expectError(await stack.http.get('/v1/scenarios/nope').set(bot.headers), 404);
  });

  const withTriggers = (triggers: unknown) => ({ ...clone(bookingScenario), settings: { triggers } });
  const activate = (id: string, body: object = { active: true }) => stack.http.post(`/v1/scenarios/${id}/activate`).set(bot.headers).send(body);
  const fetchScenario = async (id: string) => expectStatus(await stack.http.get(`/v1/scenarios/${id}`).set(bot.headers), 200).body;
  const flags = async (...ids: string[]) =>
    Promise.all(ids.map(async (id) => ((s) => ({ active: s.is_active, default: s.is_default }))(await fetchScenario(id))));

  it('keeps several scenarios active, the first activated the default, and validates again on activation', async () => {
    const a = expectStatus(await create('a', bookingScenario), 201).body;
    const b = expectStatus(await create('b', bookingScenario), 201).body;
    expect(a.is_default).toBe(false);
    expect(expectStatus(await activate(a.id), 200).body).toMatchObject({ is_active: true, is_default: true });
    expect(expectStatus(await activate(b.id, {}), 200).body).toMatchObject({ is_active: true, is_default: false });
    expect(await flags(a.id, b.id)).toEqual([
      { active: true, default: true },
      { active: true, default: false },
    ]);
    expectError(await activate(b.id, { active: 'yes' }), 400);
    expectError(await activate(b.id, { active: false, default: true }), 422, 'invalid_content');

    // A stored version that no longer validates (e.g. written before a rule existed) cannot be activated.
    await stack
      .db('scenarios')
      .where({ id: a.id })
      .update({ scenario_data: JSON.stringify({ ...bookingScenario, start_step: 'nowhere' }) });
    expectError(await activate(a.id), 422, 'invalid_scenario');
  });

  it('moves the default on request, and to the oldest active scenario when the default is deactivated', async () => {
    const a = expectStatus(await create('a', bookingScenario), 201).body;
    const b = expectStatus(await create('b', bookingScenario), 201).body;
    const c = expectStatus(await create('c', bookingScenario), 201).body;
    for (const id of [a.id, b.id, c.id]) expectStatus(await activate(id), 200);
    expect(expectStatus(await activate(c.id, { active: true, default: true }), 200).body).toMatchObject({ is_active: true, is_default: true });
    expect(await flags(a.id, b.id, c.id)).toEqual([
      { active: true, default: false },
      { active: true, default: false },
      { active: true, default: true },
    ]);
    expect(expectStatus(await activate(c.id, { active: false }), 200).body).toMatchObject({ is_active: false, is_default: false });
    expect(await flags(a.id, b.id)).toEqual([
      { active: true, default: true },
      { active: true, default: false },
    ]);
    const stats = expectStatus(await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers), 200).body.stats;
    expect(stats.active_scenario).toEqual({ id: a.id, name: 'a', version: 1, is_default: true });
    expect(stats.active_scenarios.map((s: { id: string }) => s.id)).toEqual([a.id, b.id]);
  });

  it('activating a version deactivates the other versions of its name, which pass on the default', async () => {
    const v1 = expectStatus(await create('booking', bookingScenario), 201).body;
    const other = expectStatus(await create('menu', bookingScenario), 201).body;
    const v2 = expectStatus(await create('booking', bookingScenario), 201).body;
    expectStatus(await activate(v1.id), 200);
    expectStatus(await activate(other.id), 200);
    expect(expectStatus(await activate(v2.id), 200).body).toMatchObject({ version: 2, is_active: true, is_default: true });
    expect(await flags(v1.id, other.id, v2.id)).toEqual([
      { active: false, default: false },
      { active: true, default: false },
      { active: true, default: true },
    ]);
    const active = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios?active_only=true`).set(bot.headers), 200).body;
    expect(active.items.map((s: { id: string }) => s.id).sort()).toEqual([other.id, v2.id].sort());
    // A new version stored over the active one (PUT) takes its place, default included.
    const v3 = expectStatus(await stack.http.put(`/v1/scenarios/${v2.id}`).set(bot.headers).send({ scenario_data: bookingScenario }), 200).body;
    expect(v3).toMatchObject({ version: 3, is_active: true, is_default: true });
    expect(await flags(v2.id, other.id)).toEqual([
      { active: false, default: false },
      { active: true, default: false },
    ]);
  });

  it('refuses with 409 trigger_conflict a trigger another active scenario has, naming both and the trigger', async () => {
    const menu = expectStatus(await create('menu', withTriggers({ commands: ['/menu'], keywords: ['Menu', 'carte'] })), 201).body;
    const drinks = expectStatus(await create('drinks', withTriggers({ commands: ['/drinks'], keywords: ['la  CARTE'] })), 201).body;
    const wine = expectStatus(await create('wine', withTriggers({ commands: ['/MENU'] })), 201).body;
    expectStatus(await activate(menu.id), 200);
    // "la carte" is a phrase of its own, not the keyword "carte": no clash.
    expectStatus(await activate(drinks.id), 200);
    const refused = expectError(await activate(wine.id), 409, 'trigger_conflict');
    expect(refused.body.error.message).toContain('"/menu"');
    expect(refused.body.error.details).toEqual({
      trigger: '/menu',
      kind: 'command',
      scenario: { id: wine.id, name: 'wine', version: 1 },
      active_scenario: { id: menu.id, name: 'menu', version: 1 },
    });
    expect((await fetchScenario(wine.id)).is_active).toBe(false);

    const food = expectStatus(await create('food', withTriggers({ keywords: ['carte'] })), 201).body;
    expect(expectError(await activate(food.id), 409, 'trigger_conflict').body.error.details).toMatchObject({ trigger: 'carte', kind: 'keyword' });
    // A new version of the same scenario may keep its triggers; a version that takes another's may not be stored active.
    const menu2 = expectStatus(await create('menu', withTriggers({ commands: ['/menu'], keywords: ['menu'] })), 201).body;
    expectStatus(await activate(menu2.id), 200);
    expectError(
      await stack.http
        .put(`/v1/scenarios/${drinks.id}`)
        .set(bot.headers)
        .send({ scenario_data: withTriggers({ keywords: ['menu'] }) }),
      409,
      'trigger_conflict',
    );
    expect((await fetchScenario(drinks.id)).is_active).toBe(true);
    // Once "menu" is inactive, its triggers are free.
    expectStatus(await activate(menu2.id, { active: false }), 200);
    expectStatus(await activate(wine.id), 200);
  });

  it('keeps an active bot with at least one active scenario', async () => {
    const ready = await makeBot(stack, { scenario: true });
    const second = expectStatus(
      await stack.http.post(`/v1/bots/${ready.id}/scenarios`).set(ready.headers).send({ name: 'second', scenario_data: bookingScenario }),
      201,
    ).body;
    expectStatus(await stack.http.post(`/v1/scenarios/${second.id}/activate`).set(ready.headers).send({ active: true }), 200);
    // Activation through the API registers webhooks (test/api/bots.test.ts); here only the status matters.
    await stack.db('bots').where({ id: ready.id }).update({ status: 'active' });
    expectStatus(await stack.http.post(`/v1/scenarios/${ready.scenarioId}/activate`).set(ready.headers).send({ active: false }), 200);
    expectError(await stack.http.post(`/v1/scenarios/${second.id}/activate`).set(ready.headers).send({ active: false }), 409, 'bot_active');
  });

  it('PUT stores the next version, keeps it active, and counts the running dialogs left on older versions', async () => {
    const v1 = expectStatus(await create('main', bookingScenario), 201).body;
    expectStatus(await stack.http.post(`/v1/scenarios/${v1.id}/activate`).set(bot.headers).send({ active: true }), 200);
    const dialogs = dialogsRepository(stack.db);
    await dialogs.saveProjection(dialogRow(bot.id, 'c1', { scenario_id: v1.id }));
    await dialogs.saveProjection(dialogRow(bot.id, 'c2', { scenario_id: v1.id }));
    await dialogs.saveProjection(dialogRow(bot.id, 'c3', { scenario_id: v1.id, status: 'completed' }));

    const changed = clone(bookingScenario);
    changed.steps.welcome.message.text = 'Hello again!';
    const v2 = expectStatus(await stack.http.put(`/v1/scenarios/${v1.id}`).set(bot.headers).send({ scenario_data: changed }), 200).body;
    expect(v2).toMatchObject({ name: 'main', version: 2, is_active: true, dialogs_on_older_versions: 2 });
    expect(v2.id).not.toBe(v1.id);
    const old = (await stack.http.get(`/v1/scenarios/${v1.id}`).set(bot.headers)).body;
    expect(old).toMatchObject({ version: 1, is_active: false });
    expect(old.scenario_data.steps.welcome.message.text).toBe('Welcome to Chez Anna!');

    const broken = clone(bookingScenario) as Record<string, any>;
    broken.start_step = 'nowhere';
    expectError(await stack.http.put(`/v1/scenarios/${v2.id}`).set(bot.headers).send({ scenario_data: broken }), 422);
    expectError(await stack.http.put(`/v1/scenarios/${v2.id}`).set(bot.headers).send({ scenario_data: changed, name: 'renamed' }), 400);
    expectError(await stack.http.put(`/v1/scenarios/${v2.id}`).set(tokenFor(stack, 'viewer')).send({ scenario_data: changed }), 403);
  });

  it('refuses to delete an active version or one running dialogs use', async () => {
    const v1 = expectStatus(await create('main', bookingScenario), 201).body;
    const v2 = expectStatus(await create('main', bookingScenario), 201).body;
    expectStatus(await stack.http.post(`/v1/scenarios/${v2.id}/activate`).set(bot.headers).send({ active: true }), 200);
    await dialogsRepository(stack.db).saveProjection(dialogRow(bot.id, 'c1', { scenario_id: v1.id }));

    expectError(await stack.http.delete(`/v1/scenarios/${v2.id}`).set(bot.headers), 409, 'scenario_active');
    const inUse = expectError(await stack.http.delete(`/v1/scenarios/${v1.id}`).set(bot.headers), 409, 'scenario_in_use');
    expect(inUse.body.error.details).toEqual({ active_dialogs: 1 });

    await dialogsRepository(stack.db).saveProjection(dialogRow(bot.id, 'c1', { scenario_id: v1.id, status: 'completed', version: 2 }));
    expectStatus(await stack.http.delete(`/v1/scenarios/${v1.id}`).set(bot.headers), 204);
    expectError(await stack.http.get(`/v1/scenarios/${v1.id}`).set(bot.headers), 404);
  });

  it('uploads as new_version, replace and merge, keeping the file for export', async () => {
    const text = `${JSON.stringify(bookingScenario, null, 4)}\n`;
    const first = expectStatus(await upload(text), 201).body;
    expect(first).toMatchObject({ name: 'Table booking', version: 1, is_active: false, mode: 'new_version', dialogs_on_older_versions: 0 });
    expect((await stack.http.get(`/v1/scenarios/${first.id}?format=export`).set(bot.headers)).text).toBe(text);

    const named = expectStatus(await upload(text, { name: 'main', mode: 'new_version' }), 201).body;
    expect(named).toMatchObject({ name: 'main', version: 1 });

    const replaced = expectStatus(await upload(text, { name: 'main', mode: 'replace' }), 201).body;
    expect(replaced).toMatchObject({ name: 'main', version: 2, is_active: true, mode: 'replace' });

    const overlay = { steps: { welcome: { id: 'welcome', type: 'message', message: { text: 'Merged hello!' }, next_step: 'ask_name' } } };
    const merged = expectStatus(await upload(JSON.stringify(overlay), { name: 'main', mode: 'merge' }), 201).body;
    expect(merged).toMatchObject({ name: 'main', version: 3, is_active: false, mode: 'merge' });
    expect(merged.scenario_data.steps.welcome.message.text).toBe('Merged hello!');
    expect(Object.keys(merged.scenario_data.steps)).toEqual(Object.keys(bookingScenario.steps));
    expect(merged.scenario_data.start_step).toBe('welcome');

    const removeStep = { steps: { pick_time: null, ask_guests: { ...bookingScenario.steps.ask_guests, next_step: 'confirm' } } };
    const smaller = expectStatus(await upload(JSON.stringify(removeStep), { name: 'main', mode: 'merge' }), 201).body;
    expect(Object.keys(smaller.scenario_data.steps)).not.toContain('pick_time');

    const badMerge = expectError(
      await upload('{\n  "steps": {\n    "welcome": {"id": "welcome", "type": "message", "message": {"text": "x"}, "next_step": "nowhere"}\n  }\n}', {
        name: 'main',
        mode: 'merge',
      }),
      422,
    );
    expect(badMerge.body.error.details).toContainEqual(expect.objectContaining({ path: '/steps/welcome/next_step', line: 3 }));
    expectError(await upload(JSON.stringify(overlay), { name: 'absent', mode: 'merge' }), 404);
    expectError(await upload(text, { mode: 'overwrite' }), 400);
  });

  it('answers uploads with the right errors: 422 with line and column or without a name, 413, 415, 400', async () => {
    const syntax = expectError(await upload('{\n  "name": "x",\n  "start_step": "a",\n}'), 422, 'invalid_scenario');
    expect(syntax.body.error.details[0]).toMatchObject({ line: 4, column: 1 });

    const text = JSON.stringify(bookingScenario, null, 2).replace('"next_step": "ask_guests"', '"next_step": "ask_gests"');
    const semantic = expectError(await upload(text), 422);
    const detail = semantic.body.error.details.find((d: { path: string }) => d.path === '/steps/ask_name/next_step');
    expect(detail).toMatchObject({
      line: text.split('\n').findIndex((l) => l.includes('ask_gests')) + 1,
      column: expect.any(Number),
      suggestion: expect.stringContaining('ask_guests'),
    });

    expectError(await upload(Buffer.alloc(1024 * 1024 + 10, 0x20)), 413, 'payload_too_large');
    expectError(await upload(Buffer.from([0x89, 0x50, 0x4e, 0x47]), {}, { filename: 'logo.png', contentType: 'image/png' }), 415, 'unsupported_media_type');
    expectError(await upload(Buffer.from([0xff, 0xfe, 0x00, 0x7b])), 415);
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios/upload`).set(bot.headers).send({ scenario_data: bookingScenario }), 415);
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios/upload`).set(bot.headers).field('mode', 'new_version'), 400);
    const noName = { ...bookingScenario } as Record<string, unknown>;
    delete noName.name;
    expectError(await upload(JSON.stringify(noName)), 422, 'scenario_name_missing');
    expectError(await stack.http.post(`/v1/bots/${bot.id}/scenarios/upload`).set(tokenFor(stack, 'viewer')).attach('file', Buffer.from('{}'), 'a.json'), 403);
  });

  it('clones to another bot of the same account, never to another account', async () => {
    const source = expectStatus(await create('main', bookingScenario), 201).body;
    const sibling = await makeBot(stack, { headers: bot.headers });
    const copy = expectStatus(
      await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(bot.headers).send({ bot_id: sibling.id, name: 'copied' }),
      201,
    ).body;
    expect(copy).toMatchObject({ bot_id: sibling.id, name: 'copied', version: 1, is_active: false });
    expect(copy.scenario_data).toEqual(source.scenario_data);
    const same = expectStatus(await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(bot.headers).send({}), 201).body;
    expect(same).toMatchObject({ bot_id: bot.id, name: 'main', version: 2 });

    const foreign = await makeBot(stack, { account: 'elsewhere' });
    expectError(await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(bot.headers).send({ bot_id: foreign.id }), 404);
    const admin = tokenFor(stack, 'admin', []);
    expectError(await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(admin).send({ bot_id: foreign.id }), 422, 'different_account');
    expectError(await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(bot.headers).send({ bot_id: 42 }), 400);
  });

  it('refuses media ids the bot does not have, on upload and on clone to another bot', async () => {
    const withMedia = clone(bookingScenario) as Record<string, any>;
    withMedia.steps.welcome.message.media = [{ type: 'image', media_id: 'no-such-media' }];
    const text = JSON.stringify(withMedia, null, 2);
    const refused = expectError(await upload(text), 422, 'invalid_scenario');
    expect(refused.body.error.details).toContainEqual(
      expect.objectContaining({ path: expect.stringContaining('/steps/welcome/message/media/0'), line: expect.any(Number) }),
    );

    // A version stored before its media went away cannot be copied to a bot without that media.
    const source = expectStatus(await create('main', bookingScenario), 201).body;
    await stack
      .db('scenarios')
      .where({ id: source.id })
      .update({ scenario_data: JSON.stringify(withMedia) });
    const sibling = await makeBot(stack, { headers: bot.headers });
    expectError(await stack.http.post(`/v1/scenarios/${source.id}/clone`).set(bot.headers).send({ bot_id: sibling.id }), 422, 'invalid_scenario');
  });

  it('limits scenario writes to 20 a minute per token', async () => {
    const headers = tokenFor(stack);
    for (let i = 0; i < 20; i++) expectStatus(await create(`s${i}`, bookingScenario, headers), 201);
    const limited = expectError(await create('s20', bookingScenario, headers), 429, 'rate_limited');
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}/scenarios`).set(headers), 200);
  });
});
