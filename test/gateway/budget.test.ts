/**
 * The bot's delivery budget over the Discord Gateway, on the real stack: messages beyond it reach no
 * dialog and count as refused in the webhook stats, with one warning per window; a bot's webhook and
 * Gateway deliveries spend one budget (through Redis, as separate processes share it).
 */
import { once } from 'node:events';
import type Redis from 'ioredis';
import request from 'supertest';
import { createApp } from '../../api/app';
import { type RateLimitOptions, redisForRateLimits } from '../../api/rate-limit';
import { createGateway, type Gateway } from '../../gateway';
import { createLogger, type Logger } from '../../src/log';
import {
  discordCommand,
  discordGatewayMessage,
  discordKeyPair,
  discordRequest,
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
  a: { token: 'budget-bot-a-token', applicationId: '1160000000000000111', userId: '1160000000000000111' },
  b: { token: 'budget-bot-b-token', applicationId: '1160000000000000222', userId: '1160000000000000222' },
};
const LIMIT = 3;

describe('Discord Gateway messages and the bot’s delivery budget', () => {
  let gatewayFake: FakeDiscordGateway;
  let rest: FakeDiscord;
  let stack: Stack;
  const gateways: Gateway[] = [];

  const startGateway = async (rateLimits: RateLimitOptions, log: Logger = createLogger('silent')) => {
    const gateway = createGateway({ db: stack.db, config: stack.config, log, temporal: stack.temporal, rescanIntervalMs: 300, rateLimits });
    gateways.push(gateway);
    await gateway.start();
    return gateway;
  };
  const connectBot = async (name: keyof typeof bots, gateway: Gateway) => {
    const bot = await stack.createBot({
      platform: 'discord',
      credentials: { application_id: bots[name].applicationId, bot_token: bots[name].token, public_key: keys.publicKeyHex },
      scenario: bookingScenario,
    });
    await eventually(() => gateway.sessions().includes(bot.id) && gatewayFake.liveSessions(bots[name].token) === 1, 10_000, `the session of bot ${name}`);
    return bot.id;
  };
  const write = (name: keyof typeof bots, chat: string) =>
    expect(gatewayFake.dispatch(bots[name].token, 'MESSAGE_CREATE', discordGatewayMessage({ channelId: chat, userId: GUEST, content: '/start' }))).toBe(1);
  const welcomed = (chat: string) =>
    eventually(
      () =>
        rest.callsTo('createMessage').some((call) => call.path === `/channels/${chat}/messages` && call.ok) ||
        rest.callsTo('createFollowupMessage').some((call) => call.path.includes(`/tok.${chat}.`)),
      20_000,
      `the welcome in ${chat}`,
    );
  const hasDialog = (botId: string, chat: string) =>
    stack.temporal.workflow
      .getHandle(`dialog:${botId}:discord:${chat}`)
      .describe()
      .then(
        () => true,
        (error: Error) => (error.name === 'WorkflowNotFoundError' ? false : Promise.reject(error)),
      );
  const statusOf = async (botId: string) => (await stack.http.get(`/v1/webhooks/discord/${botId}/status`).set(stack.auth())).body;
  const refusals = (botId: string, count: number) =>
    eventually(async () => (await statusOf(botId)).counts.rejected >= count || undefined, 10_000, `${count} refusals`);

  beforeAll(async () => {
    gatewayFake = await startFakeDiscordGateway({ bots: [bots.a, bots.b], heartbeatIntervalMs: 400 });
    rest = await startFakeDiscord({ gatewayUrl: gatewayFake.url });
    stack = await startStack({ db: 'sqlite', apiBases: { discord: rest.url } });
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await stack?.close();
    await rest?.close();
    await gatewayFake?.close();
  });

  it('drops the messages beyond the budget: they reach no dialog, count as refused, and are warned about once', async () => {
    const lines: string[] = [];
    const gateway = await startGateway({ limits: { webhooks: LIMIT } }, createLogger('warn', { write: (line: string) => void lines.push(line) }));
    const botId = await connectBot('a', gateway);
    const chats = Array.from({ length: LIMIT + 3 }, () => snowflake());
    for (const chat of chats) write('a', chat);

    await refusals(botId, 3);
    for (const chat of chats.slice(0, LIMIT)) await welcomed(chat);
    for (const chat of chats.slice(LIMIT)) expect(await hasDialog(botId, chat)).toBe(false);
    const status = await statusOf(botId);
    expect(status.counts).toEqual({ received: LIMIT + 3, accepted: LIMIT, rejected: 3, messages: LIMIT });
    expect(status.last_error.message).toMatch(/^rate limited: /);
    const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.context?.bot_id === botId && /budget/.test(entry.message));
    expect(warnings).toEqual([expect.objectContaining({ level: 'WARNING', context: { bot_id: botId, platform: 'discord' } })]);
    expect(lines.join('')).not.toContain('/start');
  });

  it('spends one budget for the bot’s webhook and its Gateway messages, shared through Redis', async () => {
    const redis = redisForRateLimits(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', createLogger('silent')) as Redis;
    const ready = await Promise.race([once(redis, 'ready').then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000))]);
    if (!ready) {
      redis.disconnect();
      console.warn('Redis is not reachable (TEST_REDIS_URL): the shared budget test is skipped');
      return;
    }
    // The earlier gateway gives its bots up: only the one counting in Redis holds sessions.
    for (const earlier of gateways) await earlier.stop();
    const rateLimits = { redis, limits: { webhooks: LIMIT } };
    const app = createApp({ db: stack.db, config: stack.config, log: createLogger('silent'), temporal: stack.temporal, rateLimits });
    try {
      const http = request(app.callback());
      const gateway = await startGateway(rateLimits);
      const botId = await connectBot('b', gateway);
      const webhook = (chat: string) => {
        const interaction = discordCommand({
          applicationId: bots.b.applicationId,
          channelId: chat,
          userId: GUEST,
          token: `tok.${chat}.${snowflake()}`,
          name: 'start',
        });
        const signed = discordRequest(interaction, keys);
        return http.post(`/v1/webhooks/discord/${botId}`).set(signed.headers).send(signed.body);
      };
      const [first, second, third, fourth, fifth] = Array.from({ length: 5 }, () => snowflake());

      expect((await webhook(first)).status).toBe(200);
      write('b', second);
      await welcomed(second);
      expect((await webhook(third)).status).toBe(200);
      write('b', fourth);
      await refusals(botId, 1);
      const limited = await webhook(fifth);
      expect(limited.status).toBe(429);
      expect(limited.body.error.details).toMatchObject({ category: 'webhooks', limit: LIMIT });

      for (const chat of [first, third]) await welcomed(chat);
      expect(await hasDialog(botId, fourth)).toBe(false);
      expect(await hasDialog(botId, fifth)).toBe(false);
      expect((await statusOf(botId)).counts).toEqual({ received: 4, accepted: 3, rejected: 1, messages: 3 });
    } finally {
      await app.drain();
      redis.disconnect();
    }
  });
});
