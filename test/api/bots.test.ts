import { dialogClient } from '../../api/dialog-client';
import { dialogsRepository } from '../../src/db/dialogs';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { dialogRow, expectError, expectStatus, makeBot, TELEGRAM_TOKEN, tokenFor } from './support';

describe.each(DB_KINDS)('bots API (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, worker: false, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  it('creates a bot and refuses a malformed, unauthenticated, read-only, foreign or duplicate one', async () => {
    const headers = tokenFor(stack);
    const created = expectStatus(
      await stack.http
        .post('/v1/accounts/acme/bots')
        .set(headers)
        .send({ name: 'Front desk', description: 'Bookings', settings: { locale: 'en' } }),
      201,
    );
    expect(created.body).toEqual({
      id: expect.any(String),
      account_id: 'acme',
      name: 'Front desk',
      description: 'Bookings',
      status: 'inactive',
      settings: { locale: 'en' },
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    expect(created.headers['x-request-id']).toBeTruthy();

    expectError(await stack.http.post('/v1/accounts/acme/bots').set(headers).send({ description: 'no name' }), 400, 'invalid_request');
    // Well-formed, with a name the schema allows (non-empty), but nothing a person can read in it.
    expectError(await stack.http.post('/v1/accounts/acme/bots').set(headers).send({ name: ' \t ' }), 422, 'invalid_content');
    expectError(await stack.http.post('/v1/accounts/acme/bots').set(headers).set('Content-Type', 'application/json').send('{"name":'), 400);
    expectError(await stack.http.post('/v1/accounts/acme/bots').set(headers).set('Content-Type', 'text/plain').send('name=x'), 415, 'unsupported_media_type');
    expectError(
      await stack.http
        .post('/v1/accounts/acme/bots')
        .set(headers)
        .set('Content-Type', 'application/json')
        .send(`{"name":"${'x'.repeat(1024 * 1024)}"}`),
      413,
      'payload_too_large',
    );
    expectError(await stack.http.post('/v1/accounts/acme/bots').send({ name: 'x' }), 401, 'unauthorized');
    expectError(await stack.http.post('/v1/accounts/acme/bots').set('Authorization', 'Bearer not-a-jwt').send({ name: 'x' }), 401);
    expectError(await stack.http.post('/v1/accounts/acme/bots').set(tokenFor(stack, 'viewer')).send({ name: 'x' }), 403, 'forbidden');
    expectError(await stack.http.post('/v1/accounts/other/bots').set(headers).send({ name: 'x' }), 404, 'not_found');

    const duplicate = expectError(await stack.http.post('/v1/accounts/acme/bots').set(headers).send({ name: 'Front desk' }), 409, 'duplicate_name');
    expect(duplicate.body.error.message).toContain('already exists');
    // The same name in another account is another bot.
    expectStatus(
      await stack.http
        .post('/v1/accounts/beta/bots')
        .set(tokenFor(stack, 'operator', ['beta']))
        .send({ name: 'Front desk' }),
      201,
    );
  });

  it('lists with status filter and pagination, gets with stats, updates with the same uniqueness', async () => {
    const headers = tokenFor(stack, 'operator', ['list-acct']);
    const a = await makeBot(stack, { account: 'list-acct', name: 'a', headers });
    const b = await makeBot(stack, { account: 'list-acct', name: 'b', headers, scenario: true, telegram: true });
    await makeBot(stack, { account: 'list-acct', name: 'c', headers });
    expectStatus(await stack.http.post(`/v1/bots/${b.id}/activate`).set(headers), 200);

    const all = expectStatus(await stack.http.get('/v1/accounts/list-acct/bots?limit=2&offset=1').set(headers), 200).body;
    expect(all).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(all.items.map((x: { name: string }) => x.name)).toEqual(['b', 'c']);
    const active = expectStatus(await stack.http.get('/v1/accounts/list-acct/bots?status=active').set(headers), 200).body;
    expect(active.items.map((x: { id: string }) => x.id)).toEqual([b.id]);
    const inactive = expectStatus(await stack.http.get('/v1/accounts/list-acct/bots?status=inactive').set(tokenFor(stack, 'viewer', ['list-acct'])), 200).body;
    expect(inactive.total).toBe(2);
    expectError(await stack.http.get('/v1/accounts/list-acct/bots?status=sleeping').set(headers), 400);
    expectError(await stack.http.get('/v1/accounts/list-acct/bots?limit=501').set(headers), 400);

    await dialogsRepository(stack.db).saveProjection(dialogRow(b.id, 'c1', { scenario_id: b.scenarioId }));
    await dialogsRepository(stack.db).saveProjection(dialogRow(b.id, 'c2', { status: 'completed', scenario_id: b.scenarioId }));
    const got = expectStatus(await stack.http.get(`/v1/bots/${b.id}`).set(headers), 200).body;
    const main = { id: b.scenarioId, name: 'main', version: 1, is_default: true };
    expect(got.stats).toEqual({ platforms: ['telegram'], active_scenario: main, active_scenarios: [main], dialogs: { active: 1, completed: 1 } });

    const renamed = expectStatus(
      await stack.http
        .put(`/v1/bots/${a.id}`)
        .set(headers)
        .send({ name: 'a2', settings: { x: 1 } }),
      200,
    ).body;
    expect(renamed).toMatchObject({ name: 'a2', settings: { x: 1 }, status: 'inactive' });
    expectError(await stack.http.put(`/v1/bots/${a.id}`).set(headers).send({ name: 'b' }), 409, 'duplicate_name');
    expectError(await stack.http.put(`/v1/bots/${a.id}`).set(headers).send({ status: 'active' }), 400);
    expectError(
      await stack.http
        .put(`/v1/bots/${a.id}`)
        .set(tokenFor(stack, 'viewer', ['list-acct']))
        .send({ name: 'z' }),
      403,
    );
    expectError(await stack.http.get('/v1/bots/no-such-bot').set(headers), 404);
  });

  it('activates only with a connected platform and an active scenario, registering the webhook; deactivates', async () => {
    const bot = await makeBot(stack);
    const missingBoth = expectError(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 409, 'not_ready');
    expect(missingBoth.body.error.details).toEqual({ missing: ['a connected platform', 'an active scenario'] });

    const withScenario = await makeBot(stack, { scenario: true });
    const missingPlatform = expectError(await stack.http.post(`/v1/bots/${withScenario.id}/activate`).set(withScenario.headers), 409);
    expect(missingPlatform.body.error.details.missing).toEqual(['a connected platform']);

    const ready = await makeBot(stack, { scenario: true, telegram: true });
    const before = tg.callsTo('setWebhook').length;
    const activated = expectStatus(await stack.http.post(`/v1/bots/${ready.id}/activate`).set(ready.headers), 200).body;
    expect(activated.status).toBe('active');
    expect(activated.webhooks).toEqual([{ platform: 'telegram', url: expect.stringContaining(`/v1/webhooks/telegram/${ready.id}`), registered: true }]);
    expect(tg.callsTo('setWebhook').length).toBe(before + 1);
    expect(tg.callsTo('setWebhook').at(-1)?.path).toContain(TELEGRAM_TOKEN);
    expectError(await stack.http.post(`/v1/bots/${ready.id}/activate`).set(tokenFor(stack, 'viewer')), 403);

    const deactivated = expectStatus(await stack.http.post(`/v1/bots/${ready.id}/deactivate`).set(ready.headers), 200).body;
    expect(deactivated.status).toBe('inactive');
    expect((await stack.http.get(`/v1/bots/${ready.id}`).set(ready.headers)).body.stats.platforms).toEqual(['telegram']);
  });

  it('deletes a bot only with confirm, removing all of it and terminating its running dialog workflows', async () => {
    const bot = await makeBot(stack, { scenario: true, telegram: true });
    const dialogs = dialogClient(stack.temporal, stack.config.temporal.taskQueue);
    // No worker runs here: the workflows stay Running until the delete terminates them.
    for (const chat of ['501', '502']) {
      await dialogs.deliver(bot.id, { platform: 'telegram', chatId: chat, messageId: `m-${chat}`, input: { type: 'text', text: '/start' } } as never);
      await dialogsRepository(stack.db).saveProjection(dialogRow(bot.id, chat, { scenario_id: bot.scenarioId }));
    }
    await stack.db('dialog_messages').insert({
      bot_id: bot.id,
      platform: 'telegram',
      chat_id: '501',
      message_type: 'user',
      text: 'hi',
      dedupe_key: `k-${bot.id}`,
      created_at: new Date().toISOString(),
    });

    expectError(await stack.http.delete(`/v1/bots/${bot.id}`).set(bot.headers), 400);
    expectError(await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(tokenFor(stack, 'viewer')), 403);
    expectError(await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(tokenFor(stack, 'operator', ['other'])), 404);

    const deleted = expectStatus(await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(bot.headers), 200).body;
    expect(deleted).toEqual({
      deleted: true,
      removed: { messages: 1, events: 0, dialogs: 2, scenarios: 1, platforms: 1, webhook_stats: 0 },
      workflows_terminated: 2,
      workflow_runs_deleted: 2,
    });
    for (const chat of ['501', '502']) {
      // Terminated, then deleted by the server in the background.
      const gone = () =>
        stack.temporal.workflow
          .getHandle(`dialog:${bot.id}:telegram:${chat}`)
          .describe()
          .then(
            () => false,
            (error: Error) => error.name === 'WorkflowNotFoundError',
          );
      await eventually(gone, 60_000, `dialog ${chat} deleted`);
    }
    for (const table of ['bots', 'scenarios', 'platform_connections', 'dialogs', 'dialog_messages']) {
      const [{ n }] = await stack
        .db(table)
        .where(table === 'bots' ? { id: bot.id } : { bot_id: bot.id })
        .count({ n: '*' });
      expect(Number(n)).toBe(0);
    }
    expectError(await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers), 404);
    await eventually(
      async () =>
        (await stack.http.get(`/v1/accounts/acme/audit`).set(bot.headers)).body.items.some((e: { action: string }) => e.action === 'DELETE /v1/bots/:botId') ||
        undefined,
      5000,
      'audit entry',
    );
  });

  it('limits bot creation to 10 a minute per token, with Retry-After', async () => {
    const headers = tokenFor(stack, 'operator', ['burst']);
    for (let i = 0; i < 10; i++)
      expectStatus(
        await stack.http
          .post('/v1/accounts/burst/bots')
          .set(headers)
          .send({ name: `b${i}` }),
        201,
      );
    const limited = expectError(await stack.http.post('/v1/accounts/burst/bots').set(headers).send({ name: 'b10' }), 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another token subject has its own budget; reads are not limited.
    expectStatus(
      await stack.http
        .post('/v1/accounts/burst/bots')
        .set(tokenFor(stack, 'operator', ['burst']))
        .send({ name: 'b10' }),
      201,
    );
    expectStatus(await stack.http.get('/v1/accounts/burst/bots').set(headers), 200);
  });
});
