/**
 * The hostile caller at the API's front door: paths spelled to slip past the token guard, tokens
 * with missing or mistyped claims, undeclared methods, forged webhook floods meant to spend a bot's
 * budget, and replayed Discord interactions. Real app, databases of both kinds, Temporal and a
 * worker; requests come from several loopback addresses (127.0.0.x) so the API sees distinct sources.
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { createApp } from '../../api/app';
import { developmentToken, isUnderV1, signToken } from '../../api/auth';
import { RATE_LIMITS, sourceKey } from '../../api/rate-limit';
import { createLogger } from '../../src/log';
import { discordAdapter } from '../../src/platforms/discord';
import { WebhookAuthError } from '../../src/platforms/errors';
import { bookingScenario } from '../dialog/scenarios';
import {
  discordCommand,
  discordKeyPair,
  discordPing,
  discordRequest,
  type FakeDiscord,
  type FakeTelegram,
  type SignedRequest,
  snowflake,
  startFakeDiscord,
  startFakeTelegram,
  telegramUpdate,
  toWebhookRequest,
} from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: { error?: { code: string; message: string; details: unknown } } & Record<string, unknown>;
}

interface Call {
  method?: string;
  /** Sent byte for byte: no client normalises `//`, `..` or escapes on the way. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The loopback address the request comes from (default 127.0.0.1). */
  from?: string;
}

const agents = new Map<string, http.Agent>();

/** A second app on the stack's database and Temporal, with other settings, listening on loopback. */
async function listen(app: ReturnType<typeof createApp>): Promise<http.Server> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function send(server: http.Server, call: Call): Promise<Answer> {
  const from = call.from ?? '127.0.0.1';
  let agent = agents.get(from);
  if (!agent) agents.set(from, (agent = new http.Agent({ keepAlive: true, localAddress: from })));
  const { port } = server.address() as AddressInfo;
  const headers = {
    ...(call.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(call.body)) } : {}),
    ...call.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: call.method ?? 'GET', path: call.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body = {};
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          // Not JSON: the assertions on `text` or the status say what is wrong.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end(call.body);
  });
}

function expectAnswer(answer: Answer, status: number, code: string, what: string): Answer {
  if (answer.status !== status || answer.body.error?.code !== code)
    throw new Error(`${what} answered ${answer.status}, expected ${status} ${code}: ${answer.text}`);
  expect(Object.keys(answer.body.error).sort()).toEqual(['code', 'details', 'message']);
  return answer;
}

/** An HS256 token of any payload at all, which jsonwebtoken itself refuses to sign. */
function handMadeToken(payload: unknown, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

afterAll(() => {
  for (const agent of agents.values()) agent.destroy();
});

describe.each(DB_KINDS)('the API against hostile callers (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let discord: FakeDiscord;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let chatCounter = 0;
  const discordKeys = discordKeyPair();
  const DISCORD_APP = '1160000000000000077';
  const discordCredentials = { application_id: DISCORD_APP, bot_token: 'discord-adversarial-bot-token', public_key: discordKeys.publicKeyHex };

  beforeAll(async () => {
    tg = await startFakeTelegram();
    discord = await startFakeDiscord({ botToken: discordCredentials.bot_token, applicationId: DISCORD_APP });
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url, discord: discord.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-adversarial-token' }, scenario: bookingScenario });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
    await discord?.close();
  });

  const nextChat = () => 880_000 + (chatCounter += 1);
  const genuine = (chatId: number) => telegramUpdate({ updateId: chatId, chatId, text: '/start', secret: bot.webhookSecret });
  const forged = (chatId: number) => telegramUpdate({ updateId: chatId, chatId, text: '/start', secret: 'not-the-secret' });
  const webhook = (request: SignedRequest, from?: string): Call => ({
    method: 'POST',
    path: `/v1/webhooks/telegram/${bot.id}`,
    headers: request.headers,
    body: request.body,
    from,
  });
  const welcomedChat = (chatId: number) =>
    eventually(() => tg.callsTo('sendMessage').find((call) => String(call.body.chat_id) === String(chatId)), 20_000, `the welcome in chat ${chatId}`);
  const noDialog = async (chatId: number) => {
    await expect(stack.temporal.workflow.getHandle(`dialog:${bot.id}:telegram:${chatId}`).describe()).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });
    expect(tg.callsTo('sendMessage').filter((call) => String(call.body.chat_id) === String(chatId))).toEqual([]);
  };

  describe('the token guard', () => {
    const spellings = (id: string) => [
      `/V1/bots/${id}`,
      `/v1/BOTS/${id}`,
      '/V1/Accounts/acme/bots',
      `//v1/bots/${id}`,
      `/v1//bots/${id}`,
      `/%76%31/bots/${id}`,
      `/%2576%2531/bots/${id}`,
      `/v1%2Fbots%2F${id}`,
      `/v1./bots/${id}`,
      `/x/../v1/bots/${id}`,
      `/v1/bots/${id}/`,
      `/V1/webhooks/telegram/${id}/status`,
      '/v1',
      '/V1/',
    ];

    it('answers 401 to every spelling of a guarded path without a token, the same for an existing and a missing bot, and runs no route', async () => {
      const before = (await stack.http.get('/v1/accounts/acme/bots?status=all').set(bot.headers)).body.total;
      for (const method of ['GET', 'PUT', 'DELETE', 'POST']) {
        const body = method === 'PUT' || method === 'POST' ? JSON.stringify({ name: 'taken over' }) : undefined;
        const existing = spellings(bot.id);
        const missing = spellings('no-such-bot');
        for (const [index, path] of existing.entries()) {
          const query = method === 'DELETE' ? '?confirm=true' : '';
          const toExisting = expectAnswer(await send(stack.server, { method, path: path + query, body }), 401, 'unauthorized', `${method} ${path}`);
          const toMissing = expectAnswer(
            await send(stack.server, { method, path: missing[index] + query, body }),
            401,
            'unauthorized',
            `${method} ${missing[index]}`,
          );
          expect(toMissing.body).toEqual(toExisting.body);
        }
      }
      const after = await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers);
      expect(after.status).toBe(200);
      expect(after.body.name).not.toBe('taken over');
      expect((await stack.http.get('/v1/accounts/acme/bots?status=all').set(bot.headers)).body.total).toBe(before);
    });

    it('with a valid token, only the documented spelling reaches a route (routing is case-sensitive)', async () => {
      expect((await send(stack.server, { path: `/v1/bots/${bot.id}`, headers: bot.headers })).status).toBe(200);
      for (const path of [`/V1/bots/${bot.id}`, `/v1/BOTS/${bot.id}`, `/%76%31/bots/${bot.id}`]) {
        expectAnswer(await send(stack.server, { path, headers: bot.headers }), 404, 'not_found', path);
      }
    });

    it('refuses tokens with missing, mistyped or hostile claims with 401, never 500', async () => {
      const secret = stack.config.jwtSecret;
      const exp = inAnHour();
      const valid = { sub: 'mallory', role: 'admin', account_ids: ['acme'] };
      const tokens: Record<string, string> = {
        'no claims at all': jwt.sign({}, secret, { expiresIn: '1h' }),
        'a subject only': jwt.sign({ sub: 'mallory' }, secret, { expiresIn: '1h' }),
        'a numeric subject': jwt.sign({ ...valid, sub: 42 }, secret, { expiresIn: '1h' }),
        'an empty subject': jwt.sign({ ...valid, sub: '' }, secret, { expiresIn: '1h' }),
        'an unknown role': jwt.sign({ ...valid, role: 'root' }, secret, { expiresIn: '1h' }),
        'account_ids as a string': jwt.sign({ ...valid, account_ids: 'acme' }, secret, { expiresIn: '1h' }),
        'account_ids of numbers': jwt.sign({ ...valid, account_ids: [1, 2] }, secret, { expiresIn: '1h' }),
        'no exp': jwt.sign(valid, secret),
        'exp as a string': handMadeToken({ ...valid, exp: 'never' }, secret),
        'exp null': handMadeToken({ ...valid, exp: null }, secret),
        'an expired exp': handMadeToken({ ...valid, exp: Math.floor(Date.now() / 1000) - 60 }, secret),
        'a string payload': handMadeToken('admin', secret),
        'an array payload': handMadeToken([valid], secret),
        'a null payload': handMadeToken(null, secret),
        'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...valid, exp })).toString('base64url')}.`,
        'another secret': handMadeToken({ ...valid, exp }, 'not-the-secret-not-the-secret-not-the-secret'),
        'HS512 with the secret': jwt.sign(valid, secret, { algorithm: 'HS512', expiresIn: '1h' }),
      };
      for (const [what, token] of Object.entries(tokens)) {
        for (const path of [`/v1/bots/${bot.id}`, `/V1/bots/${bot.id}`, '/v1/accounts/acme/bots']) {
          expectAnswer(await send(stack.server, { path, headers: bearer(token) }), 401, 'unauthorized', `a token with ${what} on ${path}`);
        }
      }
      const noExp = await send(stack.server, { path: `/v1/bots/${bot.id}`, headers: bearer(tokens['no exp']) });
      expect(noExp.body.error?.message).toMatch(/expiry \(exp claim\)/);
      for (const header of ['Bearer', 'Bearer  ', 'Basic YWRtaW46YWRtaW4=', `Bearer ${tokens['no claims at all']} extra`]) {
        expectAnswer(
          await send(stack.server, { path: `/v1/bots/${bot.id}`, headers: { authorization: header } }),
          401,
          'unauthorized',
          `Authorization: ${header}`,
        );
      }
      // The same claims with an expiry pass: the refusals above are about what was missing or wrong.
      expect((await send(stack.server, { path: `/v1/bots/${bot.id}`, headers: bearer(handMadeToken({ ...valid, exp }, secret)) })).status).toBe(200);
    });

    it('signs every token with an expiry, and prints the start token only in development', () => {
      const secret = stack.config.jwtSecret;
      const claims = jwt.decode(signToken(secret, { sub: 'a', role: 'viewer', account_ids: [] })) as { exp?: number };
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
      expect(developmentToken({ env: 'production', jwtSecret: secret })).toBeUndefined();
      expect(developmentToken({ env: 'test', jwtSecret: secret })).toBeUndefined();
      const printed = jwt.verify(developmentToken({ env: 'development', jwtSecret: secret }) as string, secret) as { exp?: number; role: string };
      expect(printed).toMatchObject({ role: 'admin', exp: expect.any(Number) });
    });

    it('answers an undeclared method on a known path with 405, its Allow list and the error envelope, after the token check', async () => {
      const path = `/v1/bots/${bot.id}`;
      for (const method of ['TRACE', 'PATCH']) {
        const answer = expectAnswer(await send(stack.server, { method, path, headers: bot.headers }), 405, 'method_not_allowed', `${method} ${path}`);
        expect(answer.headers.allow?.split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'PUT', 'DELETE']));
        expect(answer.body.error?.details).toEqual({ allowed: answer.headers.allow?.split(/,\s*/) });
      }
      expectAnswer(await send(stack.server, { method: 'TRACE', path }), 401, 'unauthorized', 'TRACE without a token');
      const health = expectAnswer(await send(stack.server, { method: 'TRACE', path: '/health' }), 405, 'method_not_allowed', 'TRACE /health');
      expect(health.headers.allow).toContain('GET');
      expectAnswer(await send(stack.server, { method: 'TRACE', path: '/no/such/path' }), 404, 'not_found', 'TRACE on an unknown path');
    });

    it('reads a path the way any reader could: decoded, dot segments resolved, any case', () => {
      for (const path of [
        '/v1',
        '/V1/',
        '//v1/x',
        '/%76%31/x',
        '/%2576%2531/x',
        '/v1%2Fx',
        '/v1./x',
        '/v1.. /x',
        '/a/../v1/x',
        '\\v1\\x',
        '/./v1/x',
        '/%76%31/%ff',
      ]) {
        expect([path, isUnderV1(path)]).toEqual([path, true]);
      }
      for (const path of ['/health', '/v1x/bots', '/media/v1', '/v1/../health', '/%zz/v1', '/v2/bots']) {
        expect([path, isUnderV1(path)]).toEqual([path, false]);
      }
    });
  });

  describe('webhook budgets', () => {
    it('a flood of forgeries from one address and from many does not silence the bot: a genuine delivery from another address is answered', async () => {
      const flooder = '127.0.0.2';
      const floodChat = nextChat();
      const answers: number[] = [];
      for (let i = 0; i < 1_100; i++) answers.push((await send(stack.server, webhook(forged(floodChat), flooder))).status);
      const limit = RATE_LIMITS.failed_webhook_proofs;
      expect(answers.slice(0, limit).every((status) => status === 401)).toBe(true);
      expect(answers.slice(limit).every((status) => status === 429)).toBe(true);
      const refused = expectAnswer(await send(stack.server, webhook(forged(floodChat), flooder)), 429, 'rate_limited', 'the flooding address');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

      // Seventeen more addresses spend their whole budget: 1,080 failed proofs checked in all, more than the bot's 1,000.
      const helpers = Array.from({ length: 17 }, (_, i) => `127.0.0.${i + 3}`);
      const statuses = await Promise.all(
        helpers.map(async (from) => {
          const seen: number[] = [];
          for (let i = 0; i < limit; i++) seen.push((await send(stack.server, webhook(forged(floodChat), from))).status);
          return seen;
        }),
      );
      expect(statuses.flat().filter((status) => status !== 401)).toEqual([]);
      expect(statuses.flat().length + limit).toBeGreaterThan(RATE_LIMITS.webhooks);

      const chat = nextChat();
      const delivered = await send(stack.server, webhook(genuine(chat), '127.0.0.1'));
      expect(delivered.status).toBe(200);
      expect((await welcomedChat(chat)).body.text).toBe('Welcome to Chez Anna!');
      await noDialog(floodChat);
    });

    it('refuses the spent address even with a valid proof, and starts nothing for it', async () => {
      const spent = '127.0.0.40';
      for (let i = 0; i < RATE_LIMITS.failed_webhook_proofs; i++) await send(stack.server, webhook(forged(nextChat()), spent));
      const chat = nextChat();
      expectAnswer(await send(stack.server, webhook(genuine(chat), spent)), 429, 'rate_limited', 'a genuine delivery from the spent address');
      await noDialog(chat);
    });

    it('does not trust X-Forwarded-For outside production: a flooder rotating it is still one address', async () => {
      const from = '127.0.0.41';
      const statuses: number[] = [];
      for (let i = 0; i <= RATE_LIMITS.failed_webhook_proofs; i++) {
        const call = webhook(forged(nextChat()), from);
        statuses.push((await send(stack.server, { ...call, headers: { ...call.headers, 'x-forwarded-for': `203.0.113.${i % 250}` } })).status);
      }
      expect(statuses.at(-1)).toBe(429);
    });

    it('behind the production proxy, counts the address the proxy appended, not what the client wrote before it', async () => {
      const app = createApp({
        db: stack.db,
        config: { ...stack.config, env: 'production' },
        log: createLogger('silent'),
        temporal: stack.temporal,
        rateLimits: { limits: { failed_webhook_proofs: 3 } },
      });
      const server = await listen(app);
      try {
        const through = (request: SignedRequest, clientWrote: string, proxySaw: string): Call => ({
          ...webhook(request),
          headers: { ...request.headers, 'x-forwarded-for': `${clientWrote}, ${proxySaw}` },
        });
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await send(server, through(forged(nextChat()), `198.51.100.${i}`, '203.0.113.9'))).status);
        expect(statuses).toEqual([401, 401, 401, 429]);
        const chat = nextChat();
        expect((await send(server, through(genuine(chat), '203.0.113.9', '198.51.100.77'))).status).toBe(200);
        await welcomedChat(chat);
      } finally {
        server.close();
        await app.drain();
      }
    });

    it('counts only verified deliveries against the bot budget; beyond it a genuine delivery is 429 and starts nothing', async () => {
      const app = createApp({
        db: stack.db,
        config: stack.config,
        log: createLogger('silent'),
        temporal: stack.temporal,
        rateLimits: { limits: { webhooks: 2 } },
      });
      const server = await listen(app);
      try {
        for (let i = 0; i < 10; i++) expect((await send(server, webhook(forged(nextChat()), '127.0.0.42'))).status).toBe(401);
        const chats = [nextChat(), nextChat(), nextChat()];
        expect((await send(server, webhook(genuine(chats[0]), '127.0.0.43'))).status).toBe(200);
        expect((await send(server, webhook(genuine(chats[1]), '127.0.0.43'))).status).toBe(200);
        const limited = expectAnswer(await send(server, webhook(genuine(chats[2]), '127.0.0.43')), 429, 'rate_limited', 'the third genuine delivery');
        expect(limited.body.error?.details).toMatchObject({ category: 'webhooks', limit: 2 });
        await welcomedChat(chats[1]);
        await noDialog(chats[2]);
      } finally {
        server.close();
        await app.drain();
      }
    });

    it('keys IPv6 sources by their /64 and IPv4-mapped ones as IPv4', () => {
      expect(sourceKey('2001:db8:1:2:3:4:5:6')).toBe(sourceKey('2001:db8:1:2::9'));
      expect(sourceKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
      expect(sourceKey('2001:db8:1:3::9')).not.toBe(sourceKey('2001:db8:1:2::9'));
      expect(sourceKey('::1')).toBe('0:0:0:0::/64');
      expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
      expect(sourceKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
      expect(sourceKey('127.0.0.2')).toBe('127.0.0.2');
    });
  });

  describe('Discord replay window', () => {
    const command = (channel: string) =>
      discordCommand({
        applicationId: DISCORD_APP,
        channelId: channel,
        userId: '80351110224678912',
        id: snowflake(),
        token: `tok.${channel}.${snowflake()}`,
        name: 'start',
      });

    it('refuses a signed interaction whose timestamp is outside five minutes, and a captured one replayed later', async () => {
      const discordBot = await stack.createBot({ platform: 'discord', credentials: discordCredentials, scenario: bookingScenario });
      const post = (request: SignedRequest, server = stack.server) =>
        send(server, { method: 'POST', path: `/v1/webhooks/discord/${discordBot.id}`, headers: request.headers, body: request.body });
      const now = Math.floor(Date.now() / 1000);
      for (const timestamp of [now - 301, now + 301, 0]) {
        const channel = `11700000000000${String(timestamp).slice(-5)}`;
        expectAnswer(
          await post(discordRequest(command(channel), discordKeys, String(timestamp))),
          401,
          'unauthorized',
          `a timestamp ${timestamp - now} s away`,
        );
        await expect(stack.temporal.workflow.getHandle(`dialog:${discordBot.id}:discord:${channel}`).describe()).rejects.toMatchObject({
          name: 'WorkflowNotFoundError',
        });
      }

      const captured = discordRequest(command('1170000000000000991'), discordKeys);
      expect((await post(captured)).status).toBe(200);
      const later = createApp({
        db: stack.db,
        config: stack.config,
        log: createLogger('silent'),
        temporal: stack.temporal,
        now: () => Date.now() + 6 * 60 * 1000,
      });
      const server = await listen(later);
      try {
        expectAnswer(await post(captured, server), 401, 'unauthorized', 'the captured interaction six minutes later');
      } finally {
        server.close();
        await later.drain();
      }
    });

    it('accepts the edges of the window and refuses what is not a plain number of seconds', () => {
      const now = 1_700_000_000_000;
      const ping = discordPing(DISCORD_APP);
      const at = (timestamp: string) => () =>
        discordAdapter.handleWebhook(toWebhookRequest(discordRequest(ping, discordKeys, timestamp), { now }), discordCredentials);
      expect(at(String(now / 1000 - 300))().body).toEqual({ type: 1 });
      expect(at(String(now / 1000 + 300))().body).toEqual({ type: 1 });
      for (const timestamp of [String(now / 1000 - 301), String(now / 1000 + 301), '1.7e9', ` ${now / 1000}`, '', '-1', `${now / 1000}.0`]) {
        expect(at(timestamp)).toThrow(WebhookAuthError);
      }
    });
  });
});
