import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { bookingScenario } from './scenarios';

describe.each(DB_KINDS)('a Telegram dialog end to end (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: bookingScenario });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  const post = (update: ReturnType<typeof telegramUpdate>) => stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
  const textsTo = (chatId: number) =>
    tg
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chatId))
      .map((c) => c.body.text);

  it('answers each message with the scenario, once, and keeps the state and history', async () => {
    const chat = 1001;
    const secret = bot.webhookSecret as string;
    expect(secret).toBeTruthy();
    expect(tg.callsTo('setWebhook')[0].body).toMatchObject({ url: expect.stringContaining(`/v1/webhooks/telegram/${bot.id}`), secret_token: secret });

    const start = telegramUpdate({ updateId: 1, chatId: chat, text: '/start', secret });
    const started = await post(start);
    expect(started.body).toEqual({ ok: true });
    expect(started.status).toBe(200);
    await eventually(() => textsTo(chat).length >= 2 || undefined, 20_000, 'welcome and first question');
    expect(textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

    expect((await post(telegramUpdate({ updateId: 2, chatId: chat, text: 'Anna', secret }))).status).toBe(200);
    // Telegram redelivers an update it thinks was not acknowledged: the same update_id changes nothing.
    expect((await post(telegramUpdate({ updateId: 2, chatId: chat, text: 'Anna', secret }))).status).toBe(200);
    await eventually(() => textsTo(chat).length >= 3 || undefined, 15_000, 'the guests question');

    await post(telegramUpdate({ updateId: 3, chatId: chat, text: 'many', secret }));
    await post(telegramUpdate({ updateId: 4, chatId: chat, text: '4', secret }));
    await eventually(() => textsTo(chat).length >= 5 || undefined, 15_000, 'the time question');
    const timeQuestion = tg
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chat))
      .at(-1)!;
    expect(JSON.stringify(timeQuestion.body.reply_markup)).toContain('"callback_data":"18"');

    await post(telegramUpdate({ updateId: 5, chatId: chat, callbackData: '20', buttonText: '20:00', secret }));
    await eventually(() => textsTo(chat).length >= 6 || undefined, 15_000, 'the confirmation');

    const texts = textsTo(chat);
    expect(texts[0]).toBe('Welcome to Chez Anna!');
    expect(texts[1]).toBe('Your name?');
    expect(texts[2]).toBe('How many guests, Anna?');
    expect(texts[3]).not.toBe('How many guests, Anna?'); // the error message for "many"
    expect(texts[4]).toBe('When?');
    expect(texts[5]).toBe('Booked for 4 at 20:00, Anna.');
    expect(texts).toHaveLength(6);

    const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      status: 'completed',
      collected_data: { user_name: 'Anna', guests: 4, time: '20', booked: true },
      scenario_id: bot.scenarioId,
      scenario_version: 1,
      workflow_id: `dialog:${bot.id}:telegram:${chat}`,
    });

    const history = await eventually(
      async () => {
        const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}/history?limit=100`).set(bot.headers);
        return res.body.total >= 11 ? res.body : undefined;
      },
      10_000,
      'the transcript',
    );
    expect(history.items.filter((i: { message_type: string }) => i.message_type === 'user')).toHaveLength(5);
    expect(history.items.filter((i: { message_type: string }) => i.message_type === 'bot')).toHaveLength(6);

    const list = await stack.http.get(`/v1/bots/${bot.id}/dialogs?status=completed`).set(bot.headers);
    expect(list.body.items.map((d: { chat_id: string }) => d.chat_id)).toContain(String(chat));
  });

  it('refuses a webhook with a wrong or missing secret token and starts nothing', async () => {
    const chat = 1002;
    const before = tg.calls.length;
    expect((await post(telegramUpdate({ updateId: 10, chatId: chat, text: '/start', secret: 'wrong' }))).status).toBe(401);
    const missing = await post(telegramUpdate({ updateId: 11, chatId: chat, text: '/start' }));
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    await new Promise((r) => setTimeout(r, 500));
    expect(tg.calls.length).toBe(before);
    const described = await stack.temporal.workflow
      .getHandle(`dialog:${bot.id}:telegram:${chat}`)
      .describe()
      .catch(() => undefined);
    expect(described).toBeUndefined();
  });
});
