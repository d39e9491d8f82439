import { keyId, open } from '../../src/crypto';
import { bindingOf } from '../../src/db/platforms';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { expectError, expectStatus, makeBot, TELEGRAM_TOKEN, tokenFor } from './support';

const WHATSAPP = {
  phone_number_id: '1234567890',
  access_token: 'EAAG-whatsapp-access-token',
  app_secret: 'wa-app-secret-value',
  verify_token: 'wa-verify-token',
};

describe.each(DB_KINDS)('platforms API (%s)', (dbKind) => {
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

  it('describes each platform’s credentials', async () => {
    const res = expectStatus(await stack.http.get('/v1/platforms').set(tokenFor(stack, 'viewer')), 200).body;
    expect(res.items.map((p: { platform: string }) => p.platform)).toEqual(['telegram', 'whatsapp', 'messenger', 'slack', 'discord']);
    const telegram = res.items.find((p: { platform: string }) => p.platform === 'telegram');
    expect(telegram).toMatchObject({ available: true, credentials_schema: { type: 'object', required: ['token'] } });
    expectError(await stack.http.get('/v1/platforms'), 401);
  });

  it('connects a platform with sealed credentials it never shows, and refuses bad or duplicate ones', async () => {
    const bot = await makeBot(stack);
    const created = expectStatus(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(bot.headers)
        .send({ platform: 'telegram', credentials: { token: TELEGRAM_TOKEN }, settings: { parse_mode: 'HTML' } }),
      201,
    );
    expect(created.body).toEqual({
      id: expect.any(String),
      bot_id: bot.id,
      platform: 'telegram',
      status: 'unverified',
      last_error: null,
      last_error_at: null,
      status_checked_at: null,
      settings: { parse_mode: 'HTML' },
      webhook_registered: false,
      webhook_registered_at: null,
      key_id: keyId(stack.config.encryptionKey),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(created.text).not.toContain(TELEGRAM_TOKEN);
    const row = await stack.db('platform_connections').where({ bot_id: bot.id }).first();
    expect(row.credentials_sealed).not.toContain(TELEGRAM_TOKEN);
    expect(open(row.credentials_sealed, { current: stack.config.encryptionKey }, bindingOf(bot.id, 'telegram', 'credentials'))).toEqual({
      token: TELEGRAM_TOKEN,
    });

    const bad = expectError(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(bot.headers)
        .send({ platform: 'telegram', credentials: { token: 'not a token' } }),
      400,
    );
    expect(bad.text).not.toContain('not a token');
    expectError(await stack.http.post(`/v1/bots/${bot.id}/platforms`).set(bot.headers).send({ platform: 'icq', credentials: {} }), 400);
    expectError(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(bot.headers)
        .send({ platform: 'whatsapp', credentials: { phone_number_id: '1' } }),
      400,
    );
    expectError(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(bot.headers)
        .send({ platform: 'telegram', credentials: { token: TELEGRAM_TOKEN } }),
      409,
      'platform_exists',
    );
    expectError(
      await stack.http.post(`/v1/bots/${bot.id}/platforms`).set(tokenFor(stack, 'viewer')).send({ platform: 'whatsapp', credentials: WHATSAPP }),
      403,
    );

    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms`).set(bot.headers).send({ platform: 'whatsapp', credentials: WHATSAPP }), 201);
    const list = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/platforms`).set(bot.headers), 200);
    expect(list.body).toMatchObject({ total: 2, items: [{ platform: 'telegram' }, { platform: 'whatsapp' }] });
    for (const secret of [TELEGRAM_TOKEN, ...Object.values(WHATSAPP)]) expect(list.text).not.toContain(secret);
    expect(expectStatus(await stack.http.get(`/v1/bots/${bot.id}/platforms/whatsapp`).set(bot.headers), 200).body.platform).toBe('whatsapp');
    expectError(await stack.http.get(`/v1/bots/${bot.id}/platforms/slack`).set(bot.headers), 404);
    expectError(await stack.http.get(`/v1/bots/${bot.id}/platforms/icq`).set(bot.headers), 404);
  });

  it('tests the connection, registers the webhook, re-seals new credentials and re-registers with them', async () => {
    const bot = await makeBot(stack, { telegram: true });
    const tested = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/test`).set(bot.headers), 200).body;
    expect(tested).toMatchObject({ ok: true, info: expect.any(Object) });
    expect(tg.callsTo('getMe').at(-1)?.path).toContain(TELEGRAM_TOKEN);

    const registered = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/webhook`).set(bot.headers), 200).body;
    expect(registered).toEqual({ url: `${stack.config.publicBaseUrl}/v1/webhooks/telegram/${bot.id}`, registered: true });
    const setWebhook = tg.callsTo('setWebhook').at(-1)!;
    expect(setWebhook.body).toMatchObject({ url: registered.url, secret_token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await stack.http.get(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers)).body.webhook_registered).toBe(true);

    const before = (await stack.db('platform_connections').where({ bot_id: bot.id }).first()).credentials_sealed;
    const newToken = '7000002:AAH-another-secret-token';
    const updated = expectStatus(
      await stack.http
        .put(`/v1/bots/${bot.id}/platforms/telegram`)
        .set(bot.headers)
        .send({ credentials: { token: newToken }, settings: { a: 1 } }),
      200,
    );
    expect(updated.body).toMatchObject({ platform: 'telegram', settings: { a: 1 }, webhook_registered: true });
    expect(updated.text).not.toContain(newToken);
    const after = (await stack.db('platform_connections').where({ bot_id: bot.id }).first()).credentials_sealed;
    expect(after).not.toBe(before);
    expect(open(after, { current: stack.config.encryptionKey }, bindingOf(bot.id, 'telegram', 'credentials'))).toEqual({ token: newToken });
    // Registered again with the new token and the same secret, so webhooks in flight still verify.
    const again = tg.callsTo('setWebhook').at(-1)!;
    expect(again.path).toContain(newToken);
    expect(again.body.secret_token).toBe(setWebhook.body.secret_token);
    expectError(
      await stack.http
        .put(`/v1/bots/${bot.id}/platforms/telegram`)
        .set(bot.headers)
        .send({ credentials: { token: 'bad' } }),
      400,
    );
    expectError(await stack.http.put(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers).send({ platform: 'slack' }), 400);

    tg.failNext({ status: 401, description: 'Unauthorized', method: 'getMe' });
    const refused = expectError(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/test`).set(bot.headers), 422, 'platform_rejected');
    expect(refused.text).not.toContain(newToken);

    const whatsapp = await makeBot(stack);
    expectStatus(await stack.http.post(`/v1/bots/${whatsapp.id}/platforms`).set(whatsapp.headers).send({ platform: 'whatsapp', credentials: WHATSAPP }), 201);
    const manual = expectStatus(await stack.http.post(`/v1/bots/${whatsapp.id}/platforms/whatsapp/webhook`).set(whatsapp.headers), 200).body;
    expect(manual).toMatchObject({ registered: false, instructions: expect.stringContaining(`/v1/webhooks/whatsapp/${whatsapp.id}`) });
    expectError(await stack.http.post(`/v1/bots/${whatsapp.id}/platforms/telegram/test`).set(whatsapp.headers), 404);
  });

  it('disconnects a platform, but not the last one of an active bot', async () => {
    const bot = await makeBot(stack, { telegram: true, scenario: true });
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 200);
    expectError(await stack.http.delete(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers), 409, 'bot_active');
    expectError(await stack.http.delete(`/v1/bots/${bot.id}/platforms/telegram`).set(tokenFor(stack, 'viewer')), 403);
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/deactivate`).set(bot.headers), 200);
    expectStatus(await stack.http.delete(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers), 204);
    expectError(await stack.http.delete(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers), 404);
    expect((await stack.http.get(`/v1/bots/${bot.id}/platforms`).set(bot.headers)).body.total).toBe(0);
  });

  it('refuses webhooks at once after the connection is removed (the proof check keeps no stale secret)', async () => {
    const bot = await makeBot(stack, { telegram: true, scenario: true });
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/webhook`).set(bot.headers), 200);
    const row = await stack.db('platform_connections').where({ bot_id: bot.id }).first();
    const secret = open<string>(row.webhook_secret_sealed, { current: stack.config.encryptionKey }, bindingOf(bot.id, 'telegram', 'webhook_secret'));
    const update = (updateId: number) => telegramUpdate({ updateId, chatId: 78, text: 'hi', secret });
    const first = update(1);
    expectStatus(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(first.headers).send(first.body), 200);
    expectStatus(await stack.http.delete(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers), 204);
    const second = update(2);
    expectError(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(second.headers).send(second.body), 401);
  });

  it('reports webhook status: last event, counts and last error', async () => {
    const bot = await makeBot(stack, { telegram: true, scenario: true });
    const empty = expectStatus(await stack.http.get(`/v1/webhooks/telegram/${bot.id}/status`).set(bot.headers), 200).body;
    expect(empty).toEqual({
      bot_id: bot.id,
      platform: 'telegram',
      last_event_at: null,
      counts: { received: 0, accepted: 0, rejected: 0, messages: 0 },
      last_error: null,
    });
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/webhook`).set(bot.headers), 200);
    const row = await stack.db('platform_connections').where({ bot_id: bot.id }).first();
    const secret = open<string>(row.webhook_secret_sealed, { current: stack.config.encryptionKey }, bindingOf(bot.id, 'telegram', 'webhook_secret'));

    // The bot is inactive: the webhook is acknowledged and counted but starts nothing.
    const ok = telegramUpdate({ updateId: 1, chatId: 77, text: 'hi', secret });
    expectStatus(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(ok.headers).send(ok.body), 200);
    const wrong = telegramUpdate({ updateId: 2, chatId: 77, text: 'hi', secret: 'wrong' });
    expectStatus(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(wrong.headers).send(wrong.body), 401);

    const status = await eventually(
      async () => {
        const res = await stack.http.get(`/v1/webhooks/telegram/${bot.id}/status`).set(tokenFor(stack, 'viewer'));
        return res.body.counts?.received === 2 ? res.body : undefined;
      },
      5000,
      'both webhooks counted',
    );
    expect(status.counts).toEqual({ received: 2, accepted: 1, rejected: 1, messages: 0 });
    expect(status.last_event_at).toMatch(/Z$/);
    expect(status.last_error).toEqual({ message: expect.stringContaining('rejected'), at: expect.any(String) });
    expect(JSON.stringify(status)).not.toContain(secret);
    expectError(await stack.http.get(`/v1/webhooks/telegram/${bot.id}/status`), 401);
    expectError(await stack.http.get(`/v1/webhooks/icq/${bot.id}/status`).set(bot.headers), 404);
    expectError(await stack.http.get(`/v1/webhooks/telegram/${bot.id}/status`).set(tokenFor(stack, 'operator', ['other'])), 404);
  });
});
