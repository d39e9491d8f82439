/**
 * Discord over the Gateway, on the real stack: the gateway module (two instances, as two processes
 * would run it) against the fake Gateway and the fake REST API, dialogs in Temporal, replies at the
 * fake's `POST /channels/{id}/messages`.
 */
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway } from '../../gateway';
import { startGatewayHttp } from '../../gateway/http';
import { createLogger } from '../../src/log';
import {
  discordGatewayMessage,
  discordKeyPair,
  type FakeDiscord,
  type FakeDiscordGateway,
  snowflake,
  startFakeDiscord,
  startFakeDiscordGateway,
} from '../fakes';
import { bookingScenario } from '../dialog/scenarios';
import { eventually, type Stack, startStack } from '../support/stack';

const keys = discordKeyPair();
const GUEST = '80351110224678912';
const bots = {
  a: { token: 'gateway-bot-a-token', applicationId: '1160000000000000011', userId: '1160000000000000011' },
  b: { token: 'gateway-bot-b-token', applicationId: '1160000000000000022', userId: '1160000000000000022' },
  c: { token: 'gateway-bot-c-token', applicationId: '1160000000000000033', userId: '1160000000000000033' },
};
/** Discord's intents GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT. */
const INTENTS = (1 << 9) | (1 << 12) | (1 << 15);
const LISTED_CHANNEL = '1180000000000000001';
const OTHER_CHANNEL = '1180000000000000002';
const GUILD = '1190000000000000001';

describe('Discord over the Gateway', () => {
  let gatewayFake: FakeDiscordGateway;
  let rest: FakeDiscord;
  let stack: Stack;
  const gateways: Gateway[] = [];
  const botIds: Record<string, string> = {};

  const startGateway = async () => {
    const gateway = createGateway({
      db: stack.db,
      config: stack.config,
      log: createLogger(stack.config.logLevel),
      temporal: stack.temporal,
      rescanIntervalMs: 300,
      lease: { ttlMs: 3_000, renewMs: 500 },
    });
    gateways.push(gateway);
    await gateway.start();
    return gateway;
  };
  const connectBot = async (name: keyof typeof bots, settings?: Record<string, unknown>) => {
    const bot = await stack.createBot({
      platform: 'discord',
      credentials: { application_id: bots[name].applicationId, bot_token: bots[name].token, public_key: keys.publicKeyHex },
      scenario: bookingScenario,
    });
    if (settings) {
      const res = await stack.http.put(`/v1/bots/${bot.id}/platforms/discord`).set(bot.headers).send({ settings });
      expect(res.status).toBe(200);
    }
    botIds[name] = bot.id;
    return bot;
  };
  const write = (name: keyof typeof bots, chat: string, content: string, extra: Partial<Parameters<typeof discordGatewayMessage>[0]> = {}) => {
    const message = discordGatewayMessage({ channelId: chat, userId: GUEST, content, ...extra });
    gatewayFake.dispatch(bots[name].token, 'MESSAGE_CREATE', message);
    return message;
  };
  const textsTo = (chat: string) =>
    rest
      .callsTo('createMessage')
      .filter((call) => call.path === `/channels/${chat}/messages` && call.ok)
      .map((call) => call.body.content as string);
  const waitForTexts = (chat: string, count: number, what: string) => eventually(() => textsTo(chat).length >= count || undefined, 20_000, what);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));
  const identifiesOf = (name: keyof typeof bots) => gatewayFake.identifies.filter((identify) => identify.token === bots[name].token);
  const holders = (botId: string) => gateways.filter((gateway) => gateway.sessions().includes(botId)).length;

  beforeAll(async () => {
    gatewayFake = await startFakeDiscordGateway({ bots: [bots.a, bots.b], heartbeatIntervalMs: 400 });
    rest = await startFakeDiscord({ gatewayUrl: gatewayFake.url });
    stack = await startStack({ db: 'sqlite', apiBases: { discord: rest.url } });
    await connectBot('a', { channel_ids: [LISTED_CHANNEL, 'not-a-snowflake'] });
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await stack?.close();
    await rest?.close();
    await gatewayFake?.close();
  });

  it('opens one session with the message intents, heartbeats, and registers the slash commands on READY', async () => {
    await startGateway();
    await eventually(() => gatewayFake.liveSessions(bots.a.token) === 1, 10_000, 'the session of bot a');
    expect(identifiesOf('a')).toEqual([expect.objectContaining({ intents: INTENTS, shard: [0, 1] })]);

    const [registration] = await rest.waitForCalls(1, { method: 'bulkOverwriteGlobalApplicationCommands', ok: true });
    expect(registration.path).toBe(`/applications/${bots.a.applicationId}/commands`);
    expect(registration.headers.authorization).toBe(`Bot ${bots.a.token}`);
    const commands = registration.body.value as { name: string; options?: { name: string; type: number }[] }[];
    expect(commands.map((command) => command.name)).toEqual(['start', 'help', 'reset', 'answer']);
    expect(commands[3].options?.map((option) => [option.name, option.type])).toEqual([
      ['text', 3],
      ['file', 11],
    ]);
    await eventually(() => gatewayFake.heartbeats() > 0, 5_000, 'a heartbeat');
  });

  it('answers /health with the state of the database and Temporal and its session count', async () => {
    let gateway: Gateway | undefined;
    const server = await startGatewayHttp({ host: '127.0.0.1', port: 0, gateway: () => gateway, log: createLogger('silent') });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${url}/health`)).status).toBe(503);
      gateway = gateways[0];
      const res = await fetch(`${url}/health`);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: 'ok', database: 'ok', temporal: 'ok', sessions: 1 } });
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('runs the booking in a direct message in free text; a redelivered message sends nothing twice', async () => {
    const dm = snowflake();
    write('a', dm, '/start');
    await waitForTexts(dm, 2, 'welcome and the name question');
    const name = write('a', dm, 'Anna');
    gatewayFake.dispatch(bots.a.token, 'MESSAGE_CREATE', name);
    await waitForTexts(dm, 3, 'the guests question');
    write('a', dm, '4');
    await waitForTexts(dm, 4, 'the time question');
    write('a', dm, '20:00');
    await waitForTexts(dm, 5, 'the confirmation');
    await settle();
    expect(textsTo(dm)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Anna?', 'When?', 'Booked for 4 at 20:00, Anna.']);

    const state = await stack.http.get(`/v1/bots/${botIds.a}/dialogs/discord/${dm}`).set(stack.auth());
    expect(state.body).toMatchObject({ status: 'completed', collected_data: { user_name: 'Anna', guests: 4, time: '20' }, user: { id: GUEST, name: 'Anna' } });
  });

  it('answers in a listed channel (a mention of the bot left out), and ignores other channels, bots and system messages', async () => {
    write('a', OTHER_CHANNEL, '/start', { guildId: GUILD });
    write('a', LISTED_CHANNEL, '/start', { guildId: GUILD, bot: true });
    write('a', LISTED_CHANNEL, '/start', { guildId: GUILD, type: 7 });
    write('a', LISTED_CHANNEL, `<@${bots.a.userId}> /start`, { guildId: GUILD });
    await waitForTexts(LISTED_CHANNEL, 2, 'the welcome in the listed channel');
    write('a', LISTED_CHANNEL, `<@${bots.a.userId}> Bob`, { guildId: GUILD });
    await waitForTexts(LISTED_CHANNEL, 3, 'the guests question in the listed channel');
    await settle();
    expect(textsTo(LISTED_CHANNEL)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'How many guests, Bob?']);
    expect(textsTo(OTHER_CHANNEL)).toEqual([]);
  });

  it('resumes a dropped session, and a message written during the gap arrives once', async () => {
    for (const [index, code] of [4000, 1006].entries()) {
      const chat = snowflake();
      gatewayFake.drop(bots.a.token, code);
      write('a', chat, '/start');
      await waitForTexts(chat, 2, `the welcome written while the connection was down (${code})`);
      await settle();
      expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
      expect(gatewayFake.resumes.filter((resume) => resume.token === bots.a.token)).toHaveLength(index + 1);
      expect(gatewayFake.resumes.at(-1)).toMatchObject({ resumed: true, path: '/resume' });
    }
    expect(identifiesOf('a')).toHaveLength(1);
    expect(rest.callsTo('bulkOverwriteGlobalApplicationCommands')).toHaveLength(1);
  });

  it('shares the bots between two gateway processes: one session per bot, each message delivered once', async () => {
    const second = await startGateway();
    await connectBot('b');
    await eventually(() => gatewayFake.liveSessions(bots.b.token) === 1, 10_000, 'the session of bot b');
    await settle();
    expect(second.sessions()).not.toContain(botIds.a);
    expect([holders(botIds.a), holders(botIds.b)]).toEqual([1, 1]);
    expect([identifiesOf('a').length, identifiesOf('b').length]).toEqual([1, 1]);

    const chat = snowflake();
    write('b', chat, '/start');
    await waitForTexts(chat, 2, 'the welcome of bot b');
    await settle();
    expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

    // The first process stops and gives its leases up: the second takes bot a over.
    await gateways[0].stop();
    await eventually(() => second.sessions().includes(botIds.a) && gatewayFake.liveSessions(bots.a.token) === 1, 10_000, 'bot a taken over');
    expect(identifiesOf('a')).toHaveLength(2);
    const after = snowflake();
    write('a', after, '/start');
    await waitForTexts(after, 2, 'the welcome after the takeover');
    await settle();
    expect(textsTo(after)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
  });

  it('closes the session of a deactivated bot', async () => {
    const second = gateways[1];
    const res = await stack.http.post(`/v1/bots/${botIds.b}/deactivate`).set(stack.auth());
    expect(res.status).toBe(200);
    await eventually(() => !second.sessions().includes(botIds.b) && gatewayFake.liveSessions(bots.b.token) === 0, 10_000, 'the session of bot b closed');
    expect(gatewayFake.dispatch(bots.b.token, 'MESSAGE_CREATE', discordGatewayMessage({ channelId: snowflake(), userId: GUEST, content: '/start' }))).toBe(0);
  });

  it('gives up on a token the Gateway refuses (4004) until the connection changes', async () => {
    const second = gateways[1];
    await connectBot('c');
    await eventually(() => rest.callsTo('getGatewayBot').some((call) => call.headers.authorization === `Bot ${bots.c.token}`), 10_000, 'bot c connecting');
    await settle();
    expect(second.sessions()).not.toContain(botIds.c);
    expect(gatewayFake.rejectedIdentifies()).toEqual([bots.c.token]);
  });
});
