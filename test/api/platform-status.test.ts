import { connectionStatusRecorder } from '../../activities/connection-status';
import { createLogger } from '../../src/log';
import { PlatformApiError } from '../../src/platforms/errors';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { bookingScenario, expectStatus } from './support';

const TOKEN = '7000009:AAH-status-token';

describe.each(DB_KINDS)('connection status from what the platform answers (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TOKEN });
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
  });

  it('goes unauthorized after a send answered 401, back to connected after a test; a blip stays connected; three failures in a row are an error', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: TOKEN }, scenario: bookingScenario });
    const connection = async () => expectStatus(await stack.http.get(`/v1/bots/${bot.id}/platforms/telegram`).set(bot.headers), 200).body;
    const row = () => stack.db('platform_connections').where({ bot_id: bot.id, platform: 'telegram' }).first();
    expect(await connection()).toMatchObject({ status: 'connected', last_error: null });

    let update = 1;
    const say = async (text: string) => {
      const request = telegramUpdate({ updateId: update++, chatId: 4242, text, secret: bot.webhookSecret });
      expectStatus(await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(request.headers).send(request.body), 200);
    };
    const delivered = (text: string) => tg.callsTo('sendMessage').some((call) => call.ok && call.body.text === text);

    // Both replies of /start are refused as Telegram refuses a revoked token.
    tg.failNext({ status: 401, description: 'Unauthorized', method: 'sendMessage', times: 2 });
    await say('/start');
    const refused = await eventually(
      async () => {
        const c = await connection();
        return c.status === 'unauthorized' && c;
      },
      20_000,
      'status unauthorized',
    );
    expect(refused).toMatchObject({ last_error: expect.stringContaining('(401): Unauthorized'), last_error_at: expect.any(String) });
    expect(JSON.stringify(refused)).not.toContain(TOKEN);

    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/platforms/telegram/test`).set(bot.headers), 200);
    expect(await connection()).toMatchObject({ status: 'connected', last_error: expect.stringContaining('Unauthorized') });
    expect((await row()).consecutive_failures).toBe(0);

    // One server error, then the retry goes through: still connected.
    tg.failNext({ status: 500, method: 'sendMessage' });
    await say('Anna');
    await eventually(() => delivered('How many guests, Anna?'), 20_000, 'the retried reply');
    await eventually(
      async () => (await row()).consecutive_failures === 0 && (await row()).last_error?.includes('Internal Server Error'),
      10_000,
      'failures reset',
    );
    expect((await connection()).status).toBe('connected');

    // Four in a row: an error from the third on, connected again once the reply goes through.
    tg.failNext({ status: 500, description: 'Bad Gateway', method: 'sendMessage', times: 4 });
    await say('4');
    const failing = await eventually(
      async () => {
        const c = await connection();
        return c.status === 'error' && c;
      },
      20_000,
      'status error',
    );
    expect(failing.last_error).toContain('Bad Gateway');
    expect((await row()).consecutive_failures).toBeGreaterThanOrEqual(3);
    await eventually(() => delivered('When?'), 30_000, 'the reply after the outage');
    await eventually(async () => (await connection()).status === 'connected', 10_000, 'connected again');
  });

  it('writes nothing for a send while it knows the connection is connected; every failure about the connection is written', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: TOKEN }, scenario: bookingScenario });
    const recorder = connectionStatusRecorder(stack.db, createLogger('silent'));
    const writes: string[] = [];
    const count = (query: { sql: string }) => {
      if (/^update/i.test(query.sql)) writes.push(query.sql);
    };
    stack.db.on('query', count);
    try {
      await recorder.sent(bot.id, 'telegram');
      await recorder.sent(bot.id, 'telegram');
      await recorder.sent(bot.id, 'telegram');
      expect(writes).toHaveLength(1);

      // A refusal about one chat says nothing of the connection.
      await recorder.failed(bot.id, 'telegram', new PlatformApiError('telegram', 'sendMessage', 403, 'Forbidden: bot was blocked by the user', false));
      expect(writes).toHaveLength(1);
      await recorder.failed(bot.id, 'telegram', new PlatformApiError('telegram', 'sendMessage', 502, 'Bad Gateway', true));
      expect(writes).toHaveLength(2);
      await recorder.sent(bot.id, 'telegram');
      expect(writes).toHaveLength(3);
    } finally {
      stack.db.off('query', count);
    }
    expect(await stack.db('platform_connections').where({ bot_id: bot.id, platform: 'telegram' }).first()).toMatchObject({
      status: 'connected',
      consecutive_failures: 0,
    });
  });
});
