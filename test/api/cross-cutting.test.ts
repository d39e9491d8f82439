import type Redis from 'ioredis';
import { once } from 'node:events';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { createApp } from '../../api/app';
import { redisForRateLimits } from '../../api/rate-limit';
import { createDb } from '../../src/db';
import { dialogsRepository } from '../../src/db/dialogs';
import { createLogger } from '../../src/log';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { bookingScenario, dialogRow, expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

interface DocOperation {
  security?: unknown[];
  requestBody?: { content: Record<string, unknown> };
}

describe.each(DB_KINDS)('API-wide behaviour (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: TestBot;
  let doc: { openapi: string; paths: Record<string, Record<string, DocOperation>> };

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, worker: false, apiBases: { telegram: tg.url } });
    bot = await makeBot(stack, { name: 'Secret Sauce Bot', scenario: true, telegram: true });
    await dialogsRepository(stack.db).saveProjection(dialogRow(bot.id, 'c1', { scenario_id: bot.scenarioId, collected_data: { user_name: 'Private Person' } }));
    doc = expectStatus(await stack.http.get('/v1/openapi.json'), 200).body;
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  it('publishes an OpenAPI 3 document of every route, built from the request schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    const contract = [
      'POST /v1/accounts/{accountId}/bots',
      'GET /v1/accounts/{accountId}/bots',
      'GET /v1/bots/{botId}',
      'PUT /v1/bots/{botId}',
      'DELETE /v1/bots/{botId}',
      'POST /v1/bots/{botId}/activate',
      'POST /v1/bots/{botId}/deactivate',
      'POST /v1/bots/{botId}/scenarios',
      'POST /v1/bots/{botId}/scenarios/upload',
      'GET /v1/bots/{botId}/scenarios',
      'GET /v1/scenarios/{id}',
      'PUT /v1/scenarios/{id}',
      'DELETE /v1/scenarios/{id}',
      'POST /v1/scenarios/{id}/activate',
      'POST /v1/scenarios/{id}/clone',
      'GET /v1/bots/{botId}/dialogs',
      'GET /v1/bots/{botId}/dialogs/{platform}/{chatId}',
      'PUT /v1/bots/{botId}/dialogs/{platform}/{chatId}',
      'DELETE /v1/bots/{botId}/dialogs/{platform}/{chatId}',
      'GET /v1/bots/{botId}/dialogs/{platform}/{chatId}/history',
      'GET /v1/bots/{botId}/dialogs/{platform}/{chatId}/export',
      'POST /v1/bots/{botId}/platforms',
      'GET /v1/bots/{botId}/platforms',
      'GET /v1/bots/{botId}/platforms/{platform}',
      'PUT /v1/bots/{botId}/platforms/{platform}',
      'DELETE /v1/bots/{botId}/platforms/{platform}',
      'POST /v1/bots/{botId}/platforms/{platform}/test',
      'POST /v1/bots/{botId}/platforms/{platform}/webhook',
      'POST /v1/webhooks/{platform}/{botId}',
      'GET /v1/webhooks/{platform}/{botId}/status',
      'GET /v1/accounts/{accountId}/audit',
    ];
    for (const operation of contract) expect(operations).toContain(operation);

    const createBot = doc.paths['/v1/accounts/{accountId}/bots'].post as Record<string, any>;
    expect(createBot.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', maxLength: 200 } },
    });
    const resolve = (node: { $ref?: string }) =>
      node.$ref
        ? node.$ref
            .split('/')
            .slice(1)
            .reduce((at: any, key) => at[key], doc)
        : node;
    expect(resolve(createBot.responses['429']).headers['Retry-After']).toBeDefined();
    const upload = doc.paths['/v1/bots/{botId}/scenarios/upload'].post as Record<string, any>;
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.mode).toMatchObject({ enum: ['new_version', 'replace', 'merge'] });
    const connect = doc.paths['/v1/bots/{botId}/platforms'].post as Record<string, any>;
    const shapes = connect.requestBody.content['application/json'].schema.oneOf.map(resolve);
    expect(shapes.map((shape: any) => shape.properties.platform.const)).toEqual(['telegram', 'whatsapp', 'messenger', 'slack', 'discord']);
    expect(shapes[0].properties.credentials).toMatchObject({ required: ['token'] });
    const history = doc.paths['/v1/bots/{botId}/dialogs/{platform}/{chatId}/history'].get as Record<string, any>;
    expect(history.parameters.map((p: { name: string }) => p.name)).toEqual([
      'botId',
      'platform',
      'chatId',
      'limit',
      'offset',
      'message_type',
      'from_timestamp',
      'to_timestamp',
      'format',
    ]);
    expect(doc.paths['/v1/webhooks/{platform}/{botId}'].post.security).toEqual([]);
  });

  it('serves Swagger UI at /docs from local assets only', async () => {
    const page = expectStatus(await stack.http.get('/docs'), 200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const src of page.text.match(/(?:src|href)="([^"]+)"/g) ?? []) {
      const url = src.replace(/^(?:src|href)="|"$/g, '');
      expectStatus(await stack.http.get(url), 200);
    }
    const bundle = expectStatus(await stack.http.get('/docs/assets/swagger-ui-bundle.js'), 200);
    expect(bundle.headers['content-type']).toContain('javascript');
    expect((await stack.http.get('/docs/init.js')).text).toContain('/v1/openapi.json');
    expectError(await stack.http.get('/docs/assets/..%2Fpackage.json'), 404);
  });

  /** Every operator route of the document, with this bot's resources filled in. */
  function routesOfBot() {
    const params: Record<string, string> = { accountId: bot.account, botId: bot.id, id: bot.scenarioId as string, platform: 'telegram', chatId: 'c1' };
    const routes: { method: string; path: string; multipart: boolean }[] = [];
    for (const [template, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (operation.security?.length === 0) continue;
        if (!/\{/.test(template)) continue; // account-independent (the platform catalogue)
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => params[name]);
        routes.push({ method, path, multipart: Boolean(operation.requestBody?.content['multipart/form-data']) });
      }
    }
    return routes;
  }

  const send = (
    http: request.Agent | ReturnType<typeof request>,
    route: { method: string; path: string; multipart: boolean },
    headers: Record<string, string>,
  ) => {
    const req = (http as unknown as Record<string, (p: string) => request.Test>)
      [route.method](`${route.path}${route.method === 'delete' ? '?confirm=true' : ''}`)
      .set(headers);
    if (route.multipart) return req.attach('file', Buffer.from(JSON.stringify(bookingScenario)), 'scenario.json');
    return route.method === 'get'
      ? req
      : req.send({ name: 'x', scenario_data: bookingScenario, active: true, expected_version: 0, platform: 'telegram', credentials: { token: '1:a' } });
  };

  it('answers 404, never 403 and never data, to every route of another account’s resources', async () => {
    const routes = routesOfBot();
    expect(routes.length).toBeGreaterThanOrEqual(29);
    const audited = async () => (await stack.http.get(`/v1/accounts/${bot.account}/audit`).set(bot.headers)).body.total;
    const auditedBefore = await audited();
    for (const role of ['operator', 'viewer'] as const) {
      const stranger = tokenFor(stack, role, ['someone-else']);
      for (const route of routes) {
        const res = await send(stack.http, route, stranger);
        if (res.status !== 404) throw new Error(`${role} ${route.method.toUpperCase()} ${route.path} answered ${res.status}: ${res.text}`);
        expect(res.body.error.code).toBe('not_found');
        for (const hidden of [bot.id, 'Secret Sauce Bot', 'Private Person', bot.scenarioId as string]) expect(res.text).not.toContain(hidden);
      }
    }
    // Nothing happened: the bot, its scenario, platform and dialog are all still there.
    const still = expectStatus(await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers), 200).body;
    expect(still).toMatchObject({ name: 'Secret Sauce Bot', stats: { platforms: ['telegram'], active_scenario: { id: bot.scenarioId } } });
    expect(await audited()).toBe(auditedBefore);
    // An admin reaches every account.
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}`).set(tokenFor(stack, 'admin', [])), 200);
  });

  it('answers 401 to every operator route without a valid token, and 403 to every write by a viewer', async () => {
    const routes = routesOfBot();
    const expired = { Authorization: `Bearer ${jwt.sign({ sub: 'x', role: 'admin', account_ids: [] }, stack.config.jwtSecret, { expiresIn: -10 })}` };
    const forged = { Authorization: `Bearer ${jwt.sign({ sub: 'x', role: 'admin', account_ids: [] }, 'another-secret-another-secret-another-secret')}` };
    for (const route of routes) {
      for (const headers of [{}, expired, forged]) {
        const res = await send(stack.http, route, headers);
        if (res.status !== 401) throw new Error(`${route.method.toUpperCase()} ${route.path} without a valid token answered ${res.status}`);
        expect(res.body.error.code).toBe('unauthorized');
      }
    }
    const viewer = tokenFor(stack, 'viewer', [bot.account]);
    // POSTs that only read: running a test suite and validating a scenario store and change nothing.
    const readsByPost = (path: string) => path.endsWith('/tests/run') || path.endsWith('/scenarios/validate');
    for (const route of routes.filter((r) => r.method !== 'get' && !readsByPost(r.path))) {
      const res = await send(stack.http, route, viewer);
      if (res.status !== 403) throw new Error(`viewer ${route.method.toUpperCase()} ${route.path} answered ${res.status}: ${res.text}`);
    }
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}`).set(viewer), 200);
  });

  it('keeps an audit log of operator writes: who, what, when, with the request id', async () => {
    const account = 'audited';
    const headers = tokenFor(stack, 'operator', [account], 'alice@example.com');
    const created = expectStatus(
      await stack.http.post(`/v1/accounts/${account}/bots`).set(headers).set('X-Request-Id', 'req-audit-1').send({ name: 'audited bot' }),
      201,
    );
    expect(created.headers['x-request-id']).toBe('req-audit-1');
    expectStatus(await stack.http.put(`/v1/bots/${created.body.id}`).set(headers).send({ description: 'changed' }), 200);
    expectError(await stack.http.post(`/v1/accounts/${account}/bots`).set(headers).send({ name: 'audited bot' }), 409);
    expectError(
      await stack.http
        .put(`/v1/bots/${created.body.id}`)
        .set(tokenFor(stack, 'viewer', [account], 'bob'))
        .send({ description: 'no' }),
      403,
    );
    expectStatus(await stack.http.get(`/v1/bots/${created.body.id}`).set(headers), 200);

    const log = expectStatus(await stack.http.get(`/v1/accounts/${account}/audit`).set(tokenFor(stack, 'viewer', [account])), 200).body;
    expect(log).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(log.items[0]).toMatchObject({
      actor: 'alice@example.com',
      role: 'operator',
      action: 'PUT /v1/bots/:botId',
      method: 'PUT',
      path: `/v1/bots/${created.body.id}`,
      status: 200,
      account_id: account,
    });
    expect(log.items[1]).toMatchObject({
      action: 'POST /v1/accounts/:accountId/bots',
      request_id: 'req-audit-1',
      status: 201,
      created_at: expect.stringMatching(/Z$/),
    });
    const byActor = (await stack.http.get(`/v1/accounts/${account}/audit?actor=bob`).set(headers)).body;
    expect(byActor.total).toBe(0);
    const later = (await stack.http.get(`/v1/accounts/${account}/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`).set(headers))
      .body;
    expect(later.total).toBe(0);
    expectError(await stack.http.get(`/v1/accounts/${account}/audit`).set(tokenFor(stack, 'operator', ['acme'])), 404);
    expectError(await stack.http.get(`/v1/accounts/${account}/audit?from=soon`).set(headers), 400);
  });

  it('limits failed webhook proofs per source address, with Retry-After, apart from the bot budget', async () => {
    const limits = { webhooks: 2, failed_webhook_proofs: 3 };
    const app = createApp({ db: stack.db, config: stack.config, log: createLogger('silent'), temporal: stack.temporal, rateLimits: { limits } });
    const http = request(app.callback());
    // Three failures, more than the bot's budget of two: they do not spend it.
    for (let i = 0; i < 3; i++) expectError(await http.post(`/v1/webhooks/telegram/${bot.id}`).send({ update_id: i }), 401);
    // The address has spent its own, whichever bot it tries next.
    const limited = expectError(await http.post('/v1/webhooks/telegram/another-bot').send({ update_id: 3 }), 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error.details).toMatchObject({ category: 'failed_webhook_proofs', limit: 3 });
    await app.drain();
  });

  it('shares rate limits between API processes through Redis when configured', async () => {
    const redis = redisForRateLimits(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', createLogger('silent')) as Redis;
    const ready = await Promise.race([once(redis, 'ready').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
    if (!ready) {
      redis.disconnect();
      console.warn('Redis is not reachable (TEST_REDIS_URL): the shared rate limit test is skipped');
      return;
    }
    try {
      const apps = [1, 2].map(() =>
        request(
          createApp({
            db: stack.db,
            config: stack.config,
            log: createLogger('silent'),
            temporal: stack.temporal,
            rateLimits: { redis, limits: { dialog_operations: 3 } },
          }).callback(),
        ),
      );
      const headers = tokenFor(stack);
      expectStatus(await apps[0].get(`/v1/bots/${bot.id}/dialogs`).set(headers), 200);
      expectStatus(await apps[1].get(`/v1/bots/${bot.id}/dialogs`).set(headers), 200);
      expectStatus(await apps[0].get(`/v1/bots/${bot.id}/dialogs`).set(headers), 200);
      const limited = expectError(await apps[1].get(`/v1/bots/${bot.id}/dialogs`).set(headers), 429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('answers a failure of ours with 500 and the request id, never a stack trace', async () => {
    const broken = createDb({ databaseUrl: 'postgres://nobody@127.0.0.1:9/none' });
    const lines: string[] = [];
    const app = createApp({
      db: broken,
      config: stack.config,
      log: createLogger('error', { write: (l: string) => void lines.push(l) }),
      temporal: stack.temporal,
    });
    const res = expectError(await request(app.callback()).get(`/v1/bots/${bot.id}`).set(bot.headers), 500, 'internal_error');
    expect(res.text).not.toMatch(/at \w+ \(|ECONNREFUSED|node_modules/);
    expect(lines.join('')).toContain(res.headers['x-request-id']);
    await broken.destroy();
  });
});
