import { WebhookAuthError } from '../../src/platforms';
import { discordAdapter } from '../../src/platforms/discord';
import { discordButton, discordCommand, discordKeyPair, discordPing, discordRequest, startFakeDiscord, toWebhookRequest, type FakeDiscord } from '../fakes';
import { failure } from './failure';

const keys = discordKeyPair();
const APP = '1160000000000000001';
const credentials = { application_id: APP, bot_token: 'MTE2MDAwMDAwMDAwMDAwMDAwMQ.Gx1234.bot-token-secret-value', public_key: keys.publicKeyHex };
const CHANNEL = '1170000000000000002';
const USER = '80351110224678912';

let discord: FakeDiscord;
beforeAll(async () => {
  discord = await startFakeDiscord({ botToken: credentials.bot_token, applicationId: APP });
});
afterAll(() => discord.close());
beforeEach(() => discord.reset());

const ctx = () => ({ apiBase: discord.url });
const handle = (interaction: object, signWith = keys) => discordAdapter.handleWebhook(toWebhookRequest(discordRequest(interaction, signWith)), credentials);
const base = { applicationId: APP, channelId: CHANNEL, userId: USER };
const live = (token = 'interaction-token-abc') => ({ interaction_token: token, interaction_expires_at: String(Date.now() + 60_000) });

describe('discord signature', () => {
  it('answers PING with PONG when signed by the application key', () => {
    expect(handle(discordPing(APP))).toEqual({ status: 200, body: { type: 1 }, messages: [] });
  });

  it('rejects another key, a missing signature, and a tampered body or timestamp', () => {
    expect(() => handle(discordPing(APP), discordKeyPair())).toThrow(WebhookAuthError);
    const unsigned = discordRequest(discordPing(APP));
    expect(() => discordAdapter.handleWebhook(toWebhookRequest(unsigned), credentials)).toThrow(WebhookAuthError);
    // Inside the five-minute window of `at`, so only the tampering can be what is refused.
    const signed = discordRequest(discordPing(APP), keys, '1700000000');
    const at = { now: 1_700_000_000_000 };
    expect(discordAdapter.handleWebhook(toWebhookRequest(signed, at), credentials).status).toBe(200);
    const tamperedBody = { ...signed, rawBody: Buffer.from(signed.body.replace('"type":1', '"type":2')) };
    expect(() => discordAdapter.handleWebhook(toWebhookRequest(tamperedBody, at), credentials)).toThrow(WebhookAuthError);
    const tamperedTime = { ...signed, headers: { ...signed.headers, 'x-signature-timestamp': '1700000001' } };
    expect(() => discordAdapter.handleWebhook(toWebhookRequest(tamperedTime, at), credentials)).toThrow(WebhookAuthError);
    const garbage = { ...signed, headers: { ...signed.headers, 'x-signature-ed25519': 'zz' } };
    expect(() => discordAdapter.handleWebhook(toWebhookRequest(garbage, at), credentials)).toThrow(WebhookAuthError);
  });
});

describe('discord normalization', () => {
  it('a slash command → command input, deferred response, interaction token in the reply context', () => {
    const now = 1_700_000_000_000;
    const interaction = discordCommand({ ...base, id: '1180000000000000003', token: 'tok-1', name: 'start' });
    const result = discordAdapter.handleWebhook(toWebhookRequest(discordRequest(interaction, keys, String(now / 1000)), { now }), credentials);
    expect(result.body).toEqual({ type: 5 });
    expect(result.messages).toEqual([
      {
        platform: 'discord',
        chatId: CHANNEL,
        messageId: '1180000000000000003',
        user: { id: USER, name: 'Anna', username: 'anna', language: 'en-US' },
        input: { kind: 'command', command: 'start' },
        sentAt: expect.stringMatching(/^20\d\d-/),
        replyContext: { interaction_token: 'tok-1', interaction_expires_at: String(now + 14 * 60 * 1000) },
      },
    ]);
  });

  it('/answer text:... → text input; other options become command args', () => {
    const answer = handle(discordCommand({ ...base, name: 'answer', options: [{ name: 'text', type: 3, value: 'Anna Petrova' }] }));
    expect(answer.messages[0]?.input).toEqual({ kind: 'text', text: 'Anna Petrova' });
    const withArgs = handle(discordCommand({ ...base, guildId: '1190000000000000004', name: 'start', options: [{ name: 'table', type: 4, value: 7 }] }));
    expect(withArgs.messages[0]).toMatchObject({ user: { id: USER, name: 'Anna' }, input: { kind: 'command', command: 'start', args: '7' } });
  });

  it('a button press → button input with its label, deferred update', () => {
    const result = handle(discordButton({ ...base, id: '1180000000000000005', customId: '20', label: '20:00' }));
    expect(result.body).toEqual({ type: 6 });
    expect(result.messages[0]).toMatchObject({ messageId: '1180000000000000005', chatId: CHANNEL, input: { kind: 'button', value: '20', text: '20:00' } });
  });

  it('a select menu pick → button input', () => {
    const interaction = { ...discordButton({ ...base, customId: 'guests' }), data: { custom_id: 'guests', component_type: 3, values: ['4'] } };
    expect(handle(interaction).messages[0]?.input).toEqual({ kind: 'button', value: '4' });
  });

  it('autocomplete is answered with no choices and starts nothing; unknown types are 400', () => {
    expect(handle({ ...discordCommand({ ...base, name: 'start' }), type: 4 })).toEqual({ status: 200, body: { type: 8, data: { choices: [] } }, messages: [] });
    expect(handle({ ...discordPing(APP), type: 99 })).toMatchObject({ status: 400, messages: [] });
  });
});

describe('discord send', () => {
  it('replies to a live interaction through its follow-up webhook, without the bot token', async () => {
    const result = await discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'Welcome!' }, live('tok-live'));
    expect(discord.calls.map((call) => call.method)).toEqual(['createFollowupMessage']);
    expect(discord.calls[0]?.path).toBe(`/webhooks/${APP}/tok-live`);
    expect(discord.calls[0]?.headers.authorization).toBeUndefined();
    expect(discord.calls[0]?.headers['user-agent']).toMatch(/^DiscordBot \(/);
    expect(discord.calls[0]?.body).toEqual({ content: 'Welcome!', allowed_mentions: { parse: [] } });
    expect(result.messageIds).toEqual([expect.stringMatching(/^\d+$/)]);
  });

  it('without an interaction: the channel with the bot token; typing only before media', async () => {
    await discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'Reminder' });
    expect(discord.calls.map((call) => `${call.method}:${call.status}`)).toEqual(['createMessage:200']);
    expect(discord.calls[0]?.path).toBe(`/channels/${CHANNEL}/messages`);
    expect(discord.calls[0]?.headers.authorization).toBe(`Bot ${credentials.bot_token}`);
    discord.reset();
    await discordAdapter.send(ctx(), credentials, CHANNEL, { media: [{ type: 'image', url: 'https://cdn.example/hall.jpg' }] });
    expect(discord.calls.map((call) => `${call.method}:${call.status}`)).toEqual(['triggerTypingIndicator:204', 'createMessage:200']);
  });

  it('an expired interaction (by clock or by Discord) falls back to the channel', async () => {
    await discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'late' }, { interaction_token: 'old', interaction_expires_at: String(Date.now() - 1) });
    expect(discord.calls.map((call) => call.method)).toEqual(['createMessage']);
    discord.reset();
    discord.expireInteraction('dead');
    await discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'a' }, live('dead'));
    expect(discord.calls.map((call) => `${call.method}:${call.status}`)).toEqual(['createFollowupMessage:404', 'createMessage:200']);
  });

  it('buttons → action rows of five, five rows at most', async () => {
    const buttons = Array.from({ length: 27 }, (_, index) => ({ text: `Option ${index + 1}`, value: `o${index + 1}` }));
    await discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'Pick', buttons }, live());
    const body = discord.calls[0]?.body as { components: { type: number; components: unknown[] }[] };
    expect(body.components).toHaveLength(5);
    expect(body.components.every((row) => row.type === 1 && row.components.length === 5)).toBe(true);
    expect(body.components[0]?.components[0]).toEqual({ type: 2, style: 1, label: 'Option 1', custom_id: 'o1' });
    expect(discord.calls[0]?.status).toBe(200);
  });

  it('splits long text at 2000, components on the last part', async () => {
    const text = Array.from({ length: 500 }, (_, index) => `word${index}`).join(' ');
    await discordAdapter.send(ctx(), credentials, CHANNEL, { text, buttons: [{ text: 'OK', value: 'ok' }] }, live());
    const bodies = discord.calls.map((call) => call.body as { content: string; components?: unknown[] });
    expect(bodies.length).toBe(2);
    expect(bodies.every((body) => body.content.length <= 2000)).toBe(true);
    expect(bodies.map((body) => body.content).join(' ')).toBe(text);
    expect(bodies[0]?.components).toBeUndefined();
    expect(bodies[1]?.components).toHaveLength(1);
  });

  it('media: images as embeds, other files as links', async () => {
    await discordAdapter.send(
      ctx(),
      credentials,
      CHANNEL,
      {
        media: [
          { type: 'image', url: 'https://cdn.example/hall.jpg', caption: 'Hall' },
          { type: 'video', url: 'https://cdn.example/tour.mp4', caption: 'Tour' },
        ],
      },
      live(),
    );
    expect(discord.calls.map((call) => call.body)).toEqual([
      { embeds: [{ image: { url: 'https://cdn.example/hall.jpg' }, description: 'Hall' }], allowed_mentions: { parse: [] } },
      { content: 'Tour\nhttps://cdn.example/tour.mp4', allowed_mentions: { parse: [] } },
    ]);
  });

  it('a failing typing indicator does not fail the send', async () => {
    discord.failNext({ method: 'triggerTypingIndicator', status: 500 });
    await expect(discordAdapter.send(ctx(), credentials, CHANNEL, { media: [{ type: 'image', url: 'https://cdn.example/hall.jpg' }] })).resolves.toEqual({
      messageIds: [expect.any(String)],
    });
  });
});

describe('discord errors', () => {
  const send = () => discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'hi' }, live('tok-err'));

  it('429 with retry_after from the body', async () => {
    discord.failNext({ status: 429, retryAfter: 1.5 });
    expect(await failure(send())).toMatchObject({ platform: 'discord', method: 'createFollowupMessage', status: 429, retryable: true, retryAfterSeconds: 1.5 });
  });

  it('5xx is retryable', async () => {
    discord.failNext({ status: 502 });
    expect(await failure(send())).toMatchObject({ status: 502, retryable: true });
  });

  it('403 Missing Access and 404 Unknown Channel are permanent', async () => {
    discord.failNext({ method: 'createMessage', status: 403 });
    const forbidden = await failure(discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'hi' }));
    expect(forbidden).toMatchObject({ status: 403, retryable: false, description: 'Missing Access (code 50001)' });
    discord.failNext({ method: 'createMessage', status: 404 });
    expect(await failure(discordAdapter.send(ctx(), credentials, CHANNEL, { text: 'hi' }))).toMatchObject({
      status: 404,
      retryable: false,
      description: 'Unknown Channel (code 10003)',
    });
  });

  it('neither the bot token nor the interaction token shows in errors', async () => {
    const error = await failure(discordAdapter.testConnection(ctx(), { ...credentials, bot_token: 'wrong-bot-token' }));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('wrong-bot-token');
    const network = await failure(discordAdapter.send({ apiBase: 'http://exa mple' }, credentials, CHANNEL, { text: 'hi' }, live('secret-interaction-token')));
    expect(`${network.message} ${String((network as unknown as { cause: unknown }).cause)}`).not.toMatch(/secret-interaction-token|bot-token-secret-value/);
  });
});

describe('discord setup', () => {
  it('testConnection calls /users/@me', async () => {
    expect(await discordAdapter.testConnection(ctx(), credentials)).toEqual({
      ok: true,
      info: { id: APP, username: 'getinn_bot', global_name: 'GET INN', bot: true },
    });
  });

  it('credentials need the hex public key', () => {
    expect(discordAdapter.credentialsSchema.safeParse(credentials).success).toBe(true);
    expect(discordAdapter.credentialsSchema.safeParse({ ...credentials, public_key: 'nothex' }).success).toBe(false);
  });
});
