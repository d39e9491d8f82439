/** A booking's time on the real stack: `expected_input.type: "time"` through a Telegram webhook. */
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

const timeScenario = {
  version: '1.0',
  name: 'Booking time',
  start_step: 'ask_time',
  steps: {
    ask_time: {
      id: 'ask_time',
      type: 'message',
      message: { text: 'What time?' },
      expected_input: { type: 'time', variable: 'time', min_value: '12:00', max_value: '22:30', error_message: 'Between 12:00 and 22:30, please.' },
      next_step: 'confirm',
    },
    confirm: { id: 'confirm', type: 'message', message: { text: 'Booked for {{time}}.' } },
  },
};

describe.each(DB_KINDS)('a time answer on the real stack (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  it('re-asks for a number or a time outside the window, then stores "HH:MM" from "7:30 pm"', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: timeScenario });
    const chat = 2301;
    const post = (updateId: number, text: string) => {
      const update = telegramUpdate({ updateId, chatId: chat, text, secret: bot.webhookSecret });
      return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    };
    const textsTo = () =>
      tg
        .callsTo('sendMessage')
        .filter((c) => String(c.body.chat_id) === String(chat))
        .map((c) => c.body.text);
    const sendAndWait = async (updateId: number, text: string, replies: number) => {
      expect((await post(updateId, text)).status).toBe(200);
      await eventually(() => textsTo().length >= replies || undefined, 20_000, `${replies} replies`);
    };

    await sendAndWait(1, '/start', 1);
    await sendAndWait(2, '4', 2);
    await sendAndWait(3, '9:30', 3);
    await sendAndWait(4, '7:30 pm', 4);
    expect(textsTo()).toEqual(['What time?', 'Between 12:00 and 22:30, please.', 'Between 12:00 and 22:30, please.', 'Booked for 19:30.']);

    const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    expect(state.body).toMatchObject({ status: 'completed', collected_data: { time: '19:30' } });
  });
});
