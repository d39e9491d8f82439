/**
 * The operator console's backend: its test chat, the built-in `console` platform, runs a scenario
 * through the real dialog workflow (no platform connected, the bot inactive) and the replies land
 * in the dialog's history; a draft version can be tried by id; and the page is served at /console
 * with its security headers, nothing outside its build folder.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { createApp } from '../../api/app';
import { errorEnvelope, requestId } from '../../api/middleware';
import { consolePage } from '../../api/routes/console';
import { createLogger } from '../../src/log';
import { searchAttributes } from '../../workflows/messages';
import { bookingScenario } from '../dialog/scenarios';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

interface HistoryItem {
  message_type: string;
  text: string | null;
  payload: { buttons?: { text: string; value: string }[] } | null;
}

describe.each(DB_KINDS)('console test chat (%s)', (dbKind) => {
  let stack: Stack;
  let bot: TestBot;

  beforeAll(async () => {
    stack = await startStack({ db: dbKind });
    bot = await makeBot(stack, { scenario: true });
  });
  afterAll(() => stack.close());

  const say = (chat: string, body: Record<string, unknown>, headers = bot.headers, botId = bot.id) =>
    stack.http
      .post(`/v1/bots/${botId}/console/messages`)
      .set(headers)
      .send({ chat_id: chat, ...body });
  const history = async (chat: string): Promise<HistoryItem[]> =>
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}/dialogs/console/${chat}/history?limit=500`).set(bot.headers), 200).body.items;
  /** The history once it holds `rows` messages (a turn's user row is written after its replies). */
  const transcript = (chat: string, rows: number) =>
    eventually(
      async () => {
        const items = await history(chat);
        return items.length >= rows && items;
      },
      20_000,
      `${rows} messages in console/${chat}`,
    );

  it('walks the booking scenario through the real workflow of an inactive bot with no platform, its replies in the history', async () => {
    expect(expectStatus(await stack.http.get(`/v1/bots/${bot.id}`).set(bot.headers), 200).body).toMatchObject({ status: 'inactive', stats: { platforms: [] } });
    const chat = 'walk-1';
    const first = expectStatus(await say(chat, { text: 'Hello' }), 202).body;
    expect(first).toEqual({ chat_id: chat, message_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await transcript(chat, 3);
    expectStatus(await say(chat, { text: 'Bob' }), 202);
    await transcript(chat, 5);
    expectStatus(await say(chat, { text: '4' }), 202);
    const asked = await transcript(chat, 7);
    expect(asked.at(-1)).toMatchObject({
      text: 'When?',
      payload: { buttons: [expect.objectContaining({ value: '18' }), expect.objectContaining({ value: '20' })] },
    });
    expectStatus(await say(chat, { button: '20' }), 202);
    const items = await transcript(chat, 9);
    expect(items.map((item) => [item.message_type, item.text])).toEqual([
      ['user', 'Hello'],
      ['bot', 'Welcome to Chez Anna!'],
      ['bot', 'Your name?'],
      ['user', 'Bob'],
      ['bot', 'How many guests, Bob?'],
      ['user', '4'],
      ['bot', 'When?'],
      ['user', '20'],
      ['bot', 'Booked for 4 at 20:00, Bob.'],
    ]);

    const workflowId = `dialog:${bot.id}:console:${chat}`;
    const dialog = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/dialogs/console/${chat}`).set(bot.headers), 200).body;
    expect(dialog).toMatchObject({
      platform: 'console',
      chat_id: chat,
      status: 'completed',
      scenario_id: bot.scenarioId,
      collected_data: { user_name: 'Bob', guests: 4, time: '20', booked: true },
      workflow_id: workflowId,
      user: { name: 'Console' },
    });
    const description = await stack.temporal.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(searchAttributes.platform)).toBe('console');
    const listed = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/dialogs?platform=console`).set(bot.headers), 200).body;
    expect(listed.items.map((item: { chat_id: string }) => item.chat_id)).toContain(chat);
    expect(listed.items.every((item: { platform: string }) => item.platform === 'console')).toBe(true);
  });

  it('runs a conversation on a draft version named by scenario_id, and keeps it there', async () => {
    const draftScenario = {
      ...bookingScenario,
      steps: { ...bookingScenario.steps, welcome: { ...bookingScenario.steps.welcome, message: { text: 'Draft hello!' } } },
    };
    const draft = expectStatus(
      await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(bot.headers).send({ name: 'draft', scenario_data: draftScenario }),
      201,
    ).body;
    expect(draft.is_active).toBe(false);
    const chat = 'draft-1';
    expectStatus(await say(chat, { text: 'Hi', scenario_id: draft.id }), 202);
    await transcript(chat, 3);
    // Later messages without the id stay on the version the conversation began on.
    expectStatus(await say(chat, { text: 'Ann' }), 202);
    const items = await transcript(chat, 5);
    expect(items.filter((item) => item.message_type === 'bot').map((item) => item.text)).toEqual(['Draft hello!', 'Your name?', 'How many guests, Ann?']);
    const dialog = expectStatus(await stack.http.get(`/v1/bots/${bot.id}/dialogs/console/${chat}`).set(bot.headers), 200).body;
    expect(dialog).toMatchObject({ scenario_id: draft.id, scenario_version: 1 });
  });

  it('refuses a scenario of another bot or account (404), viewers (403) and malformed messages (400)', async () => {
    const sibling = await makeBot(stack, { scenario: true, headers: bot.headers });
    const stranger = await makeBot(stack, { account: 'other', scenario: true });
    expectError(await say('x', { text: 'Hi', scenario_id: sibling.scenarioId }), 404, 'not_found');
    expectError(await say('x', { text: 'Hi', scenario_id: stranger.scenarioId }), 404, 'not_found');
    expectError(await say('x', { text: 'Hi', scenario_id: 'no-such-scenario' }), 404, 'not_found');
    expectError(await say('x', { text: 'Hi' }, bot.headers, stranger.id), 404, 'not_found');

    const viewer = tokenFor(stack, 'viewer', [bot.account]);
    expectError(await say('viewer-chat', { text: 'Hi' }, viewer), 403, 'forbidden');
    // The viewer still reads what operators wrote.
    expectStatus(await stack.http.get(`/v1/bots/${bot.id}/dialogs?platform=console`).set(viewer), 200);

    for (const body of [
      {},
      { text: 'Hi', button: '18' },
      { text: '' },
      { text: 'x'.repeat(4097) },
      { button: 'x'.repeat(257) },
      { text: 'Hi', extra: true },
      { text: 'Hi', chat_id: 'has space' },
      { text: 'Hi', chat_id: '../walk-1' },
      { text: 'Hi', chat_id: 'x'.repeat(65) },
      { text: 'a\u0000b' },
    ]) {
      expectError(await say('ok-chat', body), 400);
    }
    expect(await history('ok-chat')).toEqual([]);
  });

  it('counts console messages against the per-token dialog operations budget', async () => {
    const app = createApp({
      db: stack.db,
      config: stack.config,
      log: createLogger('silent'),
      temporal: stack.temporal,
      rateLimits: { limits: { dialog_operations: 2 } },
    });
    const limited = request(app.callback());
    const headers = tokenFor(stack, 'operator', [bot.account]);
    const send = () => limited.post(`/v1/bots/${bot.id}/console/messages`).set(headers).send({ chat_id: 'budget', text: 'Hi' });
    expectStatus(await send(), 202);
    expectStatus(await send(), 202);
    expect(expectError(await send(), 429, 'rate_limited').headers['retry-after']).toMatch(/^[0-9]+$/);
    await app.drain();
  });

  it('keeps the console out of the connectable platforms', async () => {
    const platforms = expectStatus(await stack.http.get('/v1/platforms').set(bot.headers), 200).body.items;
    expect(platforms.map((p: { platform: string }) => p.platform)).toEqual(['telegram', 'whatsapp', 'messenger', 'slack', 'discord']);
    expectError(await stack.http.post(`/v1/bots/${bot.id}/platforms`).set(bot.headers).send({ platform: 'console', credentials: {} }), 400);
    expectError(await stack.http.get(`/v1/bots/${bot.id}/platforms/console`).set(bot.headers), 404);
    expectError(await stack.http.post(`/v1/webhooks/console/${bot.id}`).send({ text: 'Hi' }), 401);
    // Activation still needs a real platform.
    expectError(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 409);
  });
});

/** A GET with the path exactly as written: HTTP clients would resolve `..` before sending. */
function rawGet(port: number, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console page', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ db: 'sqlite', worker: false });
  });
  afterAll(() => stack.close());

  const SECURITY_HEADERS = {
    'content-security-policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  it('serves the build at /console and /console/ with its security headers, no token needed', async () => {
    for (const page of ['/console', '/console/']) {
      const res = expectStatus(await stack.http.get(page), 200);
      expect(res.headers).toMatchObject(SECURITY_HEADERS);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<script type="module" src="/console/app.js">');
    }
    const script = expectStatus(await stack.http.get('/console/app.js'), 200);
    expect(script.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(script.headers).toMatchObject(SECURITY_HEADERS);
    expect(expectStatus(await stack.http.get('/console/style.css'), 200).headers['content-type']).toMatch(/^text\/css/);
    expectError(await stack.http.get('/console/nothing.js'), 404);
    expect(expectError(await stack.http.post('/console/app.js').send('{}'), 405).headers.allow).toBe('GET, HEAD');
  });

  it('serves nothing outside its build folder, however the path is spelled', async () => {
    const server = stack.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const secretish = ['"name": "getinn-bot-engine"', 'JWT_SECRET', '"compilerOptions"'];
    for (const attempt of [
      '/console/../package.json',
      '/console/../../package.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
      '/console/%2e%2e%2fpackage.json',
      '/console/%252e%252e%252fpackage.json',
      '/console/..%5cpackage.json',
      '/console/....//package.json',
      '/console//etc/passwd',
      '/console/.inputs.json',
      '/console/../tsconfig.json',
      '/console/..%2f..%2f.env.example',
      '/console/app.js%00.html',
    ]) {
      const res = await rawGet(port, attempt);
      expect([400, 404]).toContain(res.status);
      for (const marker of secretish) expect(res.body).not.toContain(marker);
    }
    server.close();
  });

  it('answers /console/config.json with the Temporal UI link the page builds, and nothing else', async () => {
    const none = expectStatus(await stack.http.get('/console/config.json'), 200);
    expect(none.body).toEqual({ temporal_ui_url: null, temporal_namespace: stack.config.temporal.namespace });
    stack.config.temporal.uiOrigin = 'http://127.0.0.1:8233';
    try {
      expect(expectStatus(await stack.http.get('/console/config.json'), 200).body).toEqual({
        temporal_ui_url: 'http://127.0.0.1:8233',
        temporal_namespace: 'default',
      });
    } finally {
      delete stack.config.temporal.uiOrigin;
    }
  });

  it('is 503 naming the build command while the build is missing', async () => {
    const app = new Koa();
    app.use(requestId(createLogger('silent')));
    app.use(errorEnvelope());
    app.use(consolePage(stack.config, path.join(os.tmpdir(), 'no-console-build-here')));
    const res = expectError(await request(app.callback()).get('/console'), 503, 'console_not_built');
    expect(res.body.error.message).toContain('npm run build:console');
    expect(res.headers).toMatchObject(SECURITY_HEADERS);
  });
});
