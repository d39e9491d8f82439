import request from 'supertest';
import { createApp } from '../../api/app';
import { open } from '../../src/crypto';
import { bindingOf } from '../../src/db/platforms';
import { createLogger } from '../../src/log';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { expectStatus, makeBot, TELEGRAM_TOKEN, tokenFor } from './support';

const CREDENTIALS = {
  telegram: { token: TELEGRAM_TOKEN },
  whatsapp: {
    phone_number_id: '1234567890',
    access_token: 'EAAG-secret-whatsapp-access',
    app_secret: 'secret-wa-app-secret',
    verify_token: 'secret-wa-verify',
  },
  messenger: { page_id: '998877', page_access_token: 'EAAG-secret-page-access', app_secret: 'secret-fb-app-secret', verify_token: 'secret-fb-verify' },
  slack: { bot_token: 'xoxb-secret-slack-bot-token', signing_secret: 'secret-slack-signing' },
  discord: { application_id: '4242', bot_token: 'secret-discord-bot-token', public_key: 'a'.repeat(64) },
};
const NEW_TELEGRAM_TOKEN = '7000009:AAH-rotated-secret-token';

/** Every value an operator gave as a secret (ids and the Discord public key are not secrets). */
const SECRETS = [
  TELEGRAM_TOKEN,
  NEW_TELEGRAM_TOKEN,
  CREDENTIALS.whatsapp.access_token,
  CREDENTIALS.whatsapp.app_secret,
  CREDENTIALS.whatsapp.verify_token,
  CREDENTIALS.messenger.page_access_token,
  CREDENTIALS.messenger.app_secret,
  CREDENTIALS.messenger.verify_token,
  CREDENTIALS.slack.bot_token,
  CREDENTIALS.slack.signing_secret,
  CREDENTIALS.discord.bot_token,
];

describe.each(DB_KINDS)('credentials never leave the database (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  const logLines: string[] = [];
  const seen: string[] = [];

  beforeAll(async () => {
    tg = await startFakeTelegram();
    const log = createLogger('trace', { write: (line: string) => void logLines.push(line) });
    stack = await startStack({ db: dbKind, worker: false, apiBases: { telegram: tg.url }, log });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  /** Keeps the whole answer, headers and body, of every request of the session. */
  const keep = (res: request.Response) => {
    seen.push(JSON.stringify(res.headers), res.text ?? '');
    return res;
  };

  it('shows no secret in any response or log line of a session that handles credentials', async () => {
    const bot = await makeBot(stack, { scenario: true });
    const h = bot.headers;
    const base = `/v1/bots/${bot.id}/platforms`;
    for (const [platform, credentials] of Object.entries(CREDENTIALS)) {
      keep(expectStatus(await stack.http.post(base).set(h).send({ platform, credentials }), 201));
    }
    // Wrong credentials are echoed by nobody, a duplicate neither.
    keep(
      await stack.http
        .post(base)
        .set(h)
        .send({ platform: 'telegram', credentials: { token: `${TELEGRAM_TOKEN} with spaces` } }),
    );
    keep(
      await stack.http
        .post(base)
        .set(h)
        .send({ platform: 'slack', credentials: { bot_token: CREDENTIALS.slack.bot_token } }),
    );
    keep(await stack.http.post(base).set(h).send({ platform: 'whatsapp', credentials: CREDENTIALS.whatsapp }));
    keep(await stack.http.get(base).set(h));
    for (const platform of Object.keys(CREDENTIALS)) keep(await stack.http.get(`${base}/${platform}`).set(h));
    keep(expectStatus(await stack.http.post(`${base}/telegram/test`).set(h), 200));
    keep(expectStatus(await stack.http.post(`${base}/telegram/webhook`).set(h), 200));
    for (const platform of ['whatsapp', 'messenger', 'slack', 'discord']) keep(await stack.http.post(`${base}/${platform}/webhook`).set(h));
    tg.failNext({ status: 401, description: 'Unauthorized', method: 'getMe' });
    keep(await stack.http.post(`${base}/telegram/test`).set(h));
    keep(
      expectStatus(
        await stack.http
          .put(`${base}/telegram`)
          .set(h)
          .send({ credentials: { token: NEW_TELEGRAM_TOKEN } }),
        200,
      ),
    );
    keep(
      await stack.http
        .put(`${base}/slack`)
        .set(h)
        .send({ credentials: { bot_token: 'x' } }),
    );
    keep(expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(h), 200));
    keep(await stack.http.get(`/v1/bots/${bot.id}`).set(h));
    keep(await stack.http.get(`/v1/accounts/acme/audit`).set(h));
    keep(await stack.http.get('/v1/openapi.json'));

    // Webhooks: a right and a wrong secret token, and the status page.
    const row = await stack.db('platform_connections').where({ bot_id: bot.id, platform: 'telegram' }).first();
    const webhookSecret = open<string>(row.webhook_secret_sealed, { current: stack.config.encryptionKey }, bindingOf(bot.id, 'telegram', 'webhook_secret'));
    const wrong = telegramUpdate({ updateId: 1, chatId: 5, text: 'hi', secret: 'wrong' });
    keep(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(wrong.headers).send(wrong.body));
    keep(await stack.http.get(`/v1/webhooks/telegram/${bot.id}/status`).set(h));
    keep(await stack.http.get(`/v1/webhooks/slack/${bot.id}/status`).set(h));

    // The platform cannot be reached at all: the network error must not carry the request URL's token.
    const unreachable = createApp({
      db: stack.db,
      config: { ...stack.config, apiBases: { ...stack.config.apiBases, telegram: 'http://127.0.0.1:9' } },
      log: createLogger('trace', { write: (line: string) => void logLines.push(line) }),
      temporal: stack.temporal,
    });
    keep(expectStatus(await request(unreachable.callback()).post(`${base}/telegram/test`).set(tokenFor(stack)), 502));

    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBeGreaterThan(50);
    expect(logLines.length).toBeGreaterThan(20);
    // The search does look at what it should: the bot id is in both, as is the rejected webhook.
    expect(seen.join('\n')).toContain(bot.id);
    expect(logLines.join('\n')).toContain('webhook rejected');
    for (const secret of [...SECRETS, webhookSecret]) {
      const inResponse = seen.find((text) => text.includes(secret));
      expect(inResponse ?? 'no response holds it').toBe('no response holds it');
      const inLog = logLines.find((line) => line.includes(secret));
      expect(inLog ?? 'no log line holds it').toBe('no log line holds it');
    }
  });
});
