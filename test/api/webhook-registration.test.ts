import {
  type FakeDiscord,
  type FakeMessenger,
  type FakeTelegram,
  type FakeWhatsApp,
  startFakeDiscord,
  startFakeMessenger,
  startFakeTelegram,
  startFakeWhatsApp,
} from '../fakes';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { expectError, expectStatus, makeBot, TELEGRAM_TOKEN, type TestBot } from './support';

// The app secret is any string: not fit for a header, so the app token goes in the body.
const APP = { id: '730000000000001', secret: 'meta app sécret' };
const DISCORD = { application_id: '1160000000000000001', bot_token: 'discord-registration-bot-token', public_key: 'b'.repeat(64) };
const MESSENGER = {
  page_id: '104560000000001',
  page_access_token: 'EAAG-page-access-token',
  app_secret: APP.secret,
  verify_token: 'messenger-verify-token',
  app_id: APP.id,
};
const WHATSAPP = {
  phone_number_id: '1049000000000001',
  access_token: 'EAAG-whatsapp-access-token',
  app_secret: APP.secret,
  verify_token: 'whatsapp-verify-token',
  business_account_id: '102290129340398',
  app_id: APP.id,
};
const SLACK = { bot_token: 'xoxb-registration-token', signing_secret: 'slack-signing-secret' };
const SECRETS = [
  TELEGRAM_TOKEN,
  DISCORD.bot_token,
  MESSENGER.page_access_token,
  APP.secret,
  MESSENGER.verify_token,
  WHATSAPP.access_token,
  WHATSAPP.verify_token,
  SLACK.bot_token,
];

describe.each(DB_KINDS)('webhook registration per platform (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let discord: FakeDiscord;
  let messenger: FakeMessenger;
  let whatsapp: FakeWhatsApp;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TELEGRAM_TOKEN });
    discord = await startFakeDiscord({ botToken: DISCORD.bot_token, applicationId: DISCORD.application_id });
    messenger = await startFakeMessenger({ pageId: MESSENGER.page_id, pageAccessToken: MESSENGER.page_access_token, app: APP });
    whatsapp = await startFakeWhatsApp({
      phoneNumberId: WHATSAPP.phone_number_id,
      accessToken: WHATSAPP.access_token,
      businessAccountId: WHATSAPP.business_account_id,
      app: APP,
    });
    stack = await startStack({
      db: dbKind,
      worker: false,
      // Slack has no fake: nothing may be called there.
      apiBases: { telegram: tg.url, discord: discord.url, messenger: messenger.url, whatsapp: whatsapp.url, slack: 'http://127.0.0.1:9' },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all([tg, discord, messenger, whatsapp].map((fake) => fake?.close()));
  });

  const connect = async (bot: TestBot, platform: string, credentials: Record<string, string>) =>
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms`).set(bot.headers).send({ platform, credentials }), 201).body;
  const connection = async (bot: TestBot, platform: string) =>
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}/platforms/${platform}`).set(bot.headers), 200).body;
  const urlOf = (bot: TestBot, platform: string) => `${stack.config.publicBaseUrl}/v1/webhooks/${platform}/${bot.id}`;

  it('registers on activation where the platform has an API, says what is left elsewhere, and unregisters on deactivation', async () => {
    const bot = await makeBot(stack, { scenario: true });
    const created = await connect(bot, 'telegram', { token: TELEGRAM_TOKEN });
    expect(created).toMatchObject({ status: 'unverified', webhook_registered: false, last_error: null, last_error_at: null, status_checked_at: null });
    await connect(bot, 'discord', DISCORD);
    await connect(bot, 'messenger', MESSENGER);
    await connect(bot, 'whatsapp', WHATSAPP);
    await connect(bot, 'slack', SLACK);

    const activated = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 200);
    for (const secret of SECRETS) expect(activated.text).not.toContain(secret);
    const webhooks = Object.fromEntries(activated.body.webhooks.map((w: { platform: string }) => [w.platform, w]));
    for (const platform of ['telegram', 'discord', 'messenger', 'whatsapp'])
      expect(webhooks[platform]).toEqual({ platform, url: urlOf(bot, platform), registered: true });
    expect(webhooks.slack).toEqual({
      platform: 'slack',
      url: urlOf(bot, 'slack'),
      registered: false,
      instructions: expect.stringContaining(`set ${urlOf(bot, 'slack')} as the Request URL of Event Subscriptions`),
    });

    expect(tg.webhook).toMatchObject({ url: urlOf(bot, 'telegram'), secret_token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(discord.interactionsEndpointUrl).toBe(urlOf(bot, 'discord'));
    expect(discord.callsTo('editCurrentApplication').at(-1)?.headers.authorization).toBe(`Bot ${DISCORD.bot_token}`);

    expect(messenger.subscriptions.app.page).toEqual({
      callback_url: urlOf(bot, 'messenger'),
      verify_token: MESSENGER.verify_token,
      fields: ['messages', 'messaging_postbacks'],
    });
    expect(messenger.callsTo('subscribeApp').at(-1)?.body.access_token).toBe(`${APP.id}|${APP.secret}`);
    expect(messenger.subscriptions.account).toEqual({ subscribed_fields: ['messages', 'messaging_postbacks'] });
    expect(messenger.callsTo('subscribePage').at(-1)?.path).toBe(`/${MESSENGER.page_id}/subscribed_apps`);
    expect(messenger.callsTo('subscribePage').at(-1)?.headers.authorization).toBe(`Bearer ${MESSENGER.page_access_token}`);

    expect(whatsapp.subscriptions.app.whatsapp_business_account).toEqual({
      callback_url: urlOf(bot, 'whatsapp'),
      verify_token: WHATSAPP.verify_token,
      fields: ['messages'],
    });
    expect(whatsapp.subscriptions.account).toEqual({ override_callback_uri: urlOf(bot, 'whatsapp') });
    expect(whatsapp.callsTo('subscribeBusinessAccount').at(-1)?.body).toEqual({
      override_callback_uri: urlOf(bot, 'whatsapp'),
      verify_token: WHATSAPP.verify_token,
    });

    const listed = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/platforms`).set(bot.headers), 200);
    for (const secret of SECRETS) expect(listed.text).not.toContain(secret);
    const byPlatform = Object.fromEntries(listed.body.items.map((c: { platform: string }) => [c.platform, c]));
    for (const platform of ['telegram', 'discord', 'messenger', 'whatsapp']) {
      expect(byPlatform[platform]).toMatchObject({
        status: 'connected',
        webhook_registered: true,
        webhook_registered_at: expect.any(String),
        status_checked_at: expect.any(String),
      });
    }
    expect(byPlatform.slack).toMatchObject({ status: 'unverified', webhook_registered: false, webhook_registered_at: null });

    const deactivated = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/deactivate`).set(bot.headers), 200).body;
    expect(Object.fromEntries(deactivated.webhooks.map((w: { platform: string; unregistered: boolean }) => [w.platform, w.unregistered]))).toEqual({
      telegram: true,
      discord: true,
      messenger: true,
      whatsapp: true,
      slack: false,
    });
    expect(tg.webhook).toBeNull();
    expect(discord.interactionsEndpointUrl).toBeNull();
    expect(discord.callsTo('editCurrentApplication').at(-1)?.body).toEqual({ interactions_endpoint_url: null });
    expect(messenger.subscriptions.account).toBeNull();
    expect(whatsapp.subscriptions.account).toBeNull();
    for (const platform of ['telegram', 'discord', 'messenger', 'whatsapp']) expect((await connection(bot, platform)).webhook_registered).toBe(false);
  });

  it('subscribes a Messenger page without app_id and leaves the callback URL to the operator; WhatsApp without a business account id calls nothing', async () => {
    const bot = await makeBot(stack, { scenario: true });
    const { app_id: _appId, ...pageOnly } = MESSENGER;
    await connect(bot, 'messenger', pageOnly);
    const appCalls = messenger.callsTo('subscribeApp').length;
    const page = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/messenger/webhook`).set(bot.headers), 200);
    expect(page.body).toEqual({
      url: urlOf(bot, 'messenger'),
      registered: false,
      instructions: expect.stringContaining(`set the Callback URL to ${urlOf(bot, 'messenger')}`),
    });
    expect(page.text).not.toContain(MESSENGER.verify_token);
    expect(messenger.callsTo('subscribeApp')).toHaveLength(appCalls);
    expect(messenger.subscriptions.account).toEqual({ subscribed_fields: ['messages', 'messaging_postbacks'] });
    // The page accepted its token: the connection works, though we cannot know where the app sends events.
    expect(await connection(bot, 'messenger')).toMatchObject({ status: 'connected', webhook_registered: false });

    const { business_account_id: _account, app_id: _app, ...phoneOnly } = WHATSAPP;
    await connect(bot, 'whatsapp', phoneOnly);
    const whatsappCalls = whatsapp.calls.length;
    const manual = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/whatsapp/webhook`).set(bot.headers), 200).body;
    expect(manual).toEqual({ url: urlOf(bot, 'whatsapp'), registered: false, instructions: expect.stringContaining('business_account_id') });
    expect(whatsapp.calls).toHaveLength(whatsappCalls);
    expect(await connection(bot, 'whatsapp')).toMatchObject({ status: 'unverified', webhook_registered: false });
    const deactivated = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/deactivate`).set(bot.headers), 200).body;
    expect(deactivated.webhooks).toEqual([
      { platform: 'messenger', unregistered: true },
      { platform: 'whatsapp', unregistered: false },
    ]);
    expect(whatsapp.calls).toHaveLength(whatsappCalls);

    expectError(
      await stack.http
        .post(`/v1/bots/${bot.id}/platforms`)
        .set(bot.headers)
        .send({ platform: 'whatsapp', credentials: { ...WHATSAPP, business_account_id: '../me' } }),
      400,
    );
  });

  it('unregisters when a connection is deleted and when the bot is deleted, even past a platform refusing', async () => {
    const bot = await makeBot(stack, { scenario: true });
    await connect(bot, 'telegram', { token: TELEGRAM_TOKEN });
    await connect(bot, 'discord', DISCORD);
    await connect(bot, 'messenger', MESSENGER);
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 200);
    expect(discord.interactionsEndpointUrl).toBe(urlOf(bot, 'discord'));

    expectStatus(await stack.http.delete(`/v1/bots/${bot.id}/platforms/discord`).set(bot.headers), 204);
    expect(discord.interactionsEndpointUrl).toBeNull();
    expectError(await stack.http.get(`/v1/bots/${bot.id}/platforms/discord`).set(bot.headers), 404);

    tg.failNext({ status: 500, method: 'deleteWebhook', times: 5 });
    const unsubscribed = messenger.callsTo('unsubscribePage').length;
    const deleted = expectStatus(await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(bot.headers), 200).body;
    expect(deleted).toMatchObject({ deleted: true, removed: { platforms: 2 } });
    expect(tg.callsTo('deleteWebhook').at(-1)).toMatchObject({ status: 500 });
    expect(messenger.callsTo('unsubscribePage')).toHaveLength(unsubscribed + 1);
    expect(messenger.subscriptions.account).toBeNull();
    expectError(await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers), 404);
  });

  it('reports a platform refusing the registration in the answer and the status, without stopping the others', async () => {
    const bot = await makeBot(stack, { scenario: true });
    await connect(bot, 'telegram', { token: TELEGRAM_TOKEN });
    const wrongToken = 'discord-wrong-bot-token';
    await connect(bot, 'discord', { ...DISCORD, bot_token: wrongToken });
    const activated = expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 200);
    expect(activated.body.status).toBe('active');
    expect(activated.text).not.toContain(wrongToken);
    expect(activated.body.webhooks).toEqual([
      { platform: 'telegram', url: urlOf(bot, 'telegram'), registered: true },
      { platform: 'discord', url: urlOf(bot, 'discord'), registered: false, error: expect.stringContaining('(401)') },
    ]);
    const refused = await connection(bot, 'discord');
    expect(refused).toMatchObject({
      status: 'unauthorized',
      webhook_registered: false,
      last_error: expect.stringContaining('Unauthorized'),
      last_error_at: expect.any(String),
    });
    expect(JSON.stringify(refused)).not.toContain(wrongToken);

    // A bot whose only connection was refused waits for credentials that work.
    const alone = await makeBot(stack, { scenario: true });
    await connect(alone, 'discord', { ...DISCORD, bot_token: wrongToken });
    expectError(await stack.http.post(`/v1/bots/${alone.id}/platforms/discord/webhook`).set(alone.headers), 422, 'platform_rejected');
    expect((await connection(alone, 'discord')).status).toBe('unauthorized');
    const notReady = expectError(await stack.http.post(`/v1/bots/${alone.id}/activate`).set(alone.headers), 409, 'not_ready');
    expect(notReady.body.error.details.missing).toEqual(['a connected platform']);
    // New credentials are unverified until the platform is asked.
    const fixed = expectStatus(await stack.http.put(`/v1/bots/${alone.id}/platforms/discord`).set(alone.headers).send({ credentials: DISCORD }), 200).body;
    expect(fixed.status).toBe('unverified');
    const registered = expectStatus(await stack.http.post(`/v1/bots/${alone.id}/activate`).set(alone.headers), 200).body;
    expect(registered.webhooks).toEqual([{ platform: 'discord', url: urlOf(alone, 'discord'), registered: true }]);
    expect(await connection(alone, 'discord')).toMatchObject({ status: 'connected', webhook_registered: true });
  });
});
