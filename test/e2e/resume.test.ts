/**
 * A reply that goes out as several platform calls fails part-way; Temporal retries the deliverTurn
 * activity, which resumes after the parts its heartbeat details say were delivered (a text-only
 * turn's local attempt hands its progress over instead). Through the real path: webhook → dialog
 * workflow → activity (heartbeats, retry) → adapter → the fake.
 *
 * The failure is put after two parts on purpose: the SDK sends the first heartbeat at once and
 * throttles the next ones, so the second part's progress reaches the server only because the SDK
 * flushes the latest details when the attempt fails. Were it lost, the second part would be sent twice.
 */
import { randomUUID } from 'node:crypto';
import { startFakeTelegram, startFakeWhatsApp, telegramUpdate, whatsappWebhook, type FakeServer, type FakeTelegram, type RecordedCall } from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';

const longText = (words: number) => Array.from({ length: words }, (_, i) => `word${i}`).join(' ');
const TEXT = longText(900); // two Telegram chunks (4096), two WhatsApp parts plus nothing else

const scenarioWith = (media: { type: string; url: string; caption?: string }[]) => ({
  version: '1.0',
  name: 'Menu',
  start_step: 'menu',
  steps: {
    menu: { id: 'menu', type: 'message', message: { text: TEXT, media }, next_step: null },
  },
});

interface TranscriptRow {
  message_type: string;
  platform_message_id: string | null;
  dedupe_key: string;
}

/** The bot's transcript rows in the chat, once the reply's row is there. */
function botRowsOnceWritten(stack: Stack, botId: string, chat: string): Promise<TranscriptRow[]> {
  return eventually(
    async () => {
      const found: TranscriptRow[] = await stack.db('dialog_messages').where({ bot_id: botId, chat_id: chat, message_type: 'bot' });
      return found.length > 0 ? found : undefined;
    },
    30_000,
    'the bot transcript row',
  );
}

const idsOf = (call: RecordedCall): string[] => {
  const result = (call.response as { result?: { message_id: number } | { message_id: number }[]; messages?: { id: string }[] }) ?? {};
  if (result.messages) return result.messages.map((m) => m.id);
  const r = result.result;
  return (Array.isArray(r) ? r : r ? [r] : []).map((m) => String(m.message_id));
};

describe('a reply failing part-way is resumed by the retried activity', () => {
  let tg: FakeTelegram;
  let wa: FakeServer;
  let stack: Stack;
  const waCredentials = { phone_number_id: '106540352242977', access_token: 'EAAJB-resume-e2e', app_secret: 'resume-app-secret', verify_token: 'v' };

  beforeAll(async () => {
    tg = await startFakeTelegram();
    wa = await startFakeWhatsApp({ phoneNumberId: waCredentials.phone_number_id, accessToken: waCredentials.access_token });
    stack = await startStack({ db: 'sqlite', apiBases: { telegram: tg.url, whatsapp: wa.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
    await wa?.close();
  });

  it('telegram: two albums, then the text fails with a 500; after the retry every part was delivered once', async () => {
    // Parts: album of two photos (1-2), album of two documents (3-4), text chunks (5-6).
    const media = [
      { type: 'image', url: 'https://cdn.example/terrace.jpg', caption: 'terrace' },
      { type: 'image', url: 'https://cdn.example/hall.jpg' },
      { type: 'document', url: 'https://cdn.example/menu.pdf' },
      { type: 'document', url: 'https://cdn.example/wine.pdf' },
    ];
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-resume-e2e' }, scenario: scenarioWith(media) });
    const chat = '7100';
    tg.failNext({ method: 'sendMessage', status: 500, description: 'Internal Server Error' });
    const update = telegramUpdate({ updateId: 880001, chatId: chat, text: '/start', secret: bot.webhookSecret });
    const response = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    expect(response.status).toBe(200);

    const rows = await botRowsOnceWritten(stack, bot.id, chat);

    const toChat = (call: RecordedCall) => String(call.body.chat_id) === chat;
    const sends = tg.calls.filter((call) => toChat(call) && call.method !== 'sendChatAction');
    expect(sends.map((call) => `${call.method}:${call.status}`)).toEqual([
      'sendMediaGroup:200',
      'sendMediaGroup:200',
      'sendMessage:500',
      'sendMessage:200',
      'sendMessage:200',
    ]);
    const delivered = sends.filter((call) => call.ok);
    expect(new Set(delivered.map((call) => call.rawBody)).size).toBe(delivered.length);
    expect(
      delivered
        .slice(2)
        .map((call) => call.body.text)
        .join(' '),
    ).toBe(TEXT);
    // The retry showed "upload_photo" again (not a part): two chat actions, one per attempt.
    expect(tg.callsTo('sendChatAction').filter(toChat)).toHaveLength(2);

    expect(rows).toHaveLength(1);
    expect(rows[0]?.platform_message_id?.split(',')).toEqual(delivered.flatMap(idsOf));
  });

  it('telegram text only: the local attempt sends the first chunk, the second fails; the activity sends only the second', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-resume-text' }, scenario: scenarioWith([]) });
    const chat = '7101';
    // The second chunk fails: the first is the local attempt's, the third the retried activity's.
    tg.failNext({ method: 'sendMessage', status: 502, description: 'Bad Gateway', after: 1 });
    const update = telegramUpdate({ updateId: 880101, chatId: chat, text: '/start', secret: bot.webhookSecret });
    expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body)).status).toBe(200);
    const rows = await botRowsOnceWritten(stack, bot.id, chat);

    const sends = tg.callsTo('sendMessage').filter((call) => String(call.body.chat_id) === chat);
    expect(sends.map((call) => call.status)).toEqual([200, 502, 200]);
    const delivered = sends.filter((call) => call.ok);
    expect(delivered.map((call) => call.body.text).join(' ')).toBe(TEXT);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.platform_message_id?.split(',')).toEqual(delivered.flatMap(idsOf));
  });

  it('whatsapp: four media one by one, a 429 on the third; after the retry every part was delivered once', async () => {
    const media = [
      { type: 'image', url: 'https://cdn.example/a.jpg', caption: 'terrace' },
      { type: 'video', url: 'https://cdn.example/b.mp4' },
      { type: 'image', url: 'https://cdn.example/c.jpg' },
      { type: 'document', url: 'https://cdn.example/menu.pdf' },
    ];
    const bot = await stack.createBot({ platform: 'whatsapp', credentials: waCredentials, scenario: scenarioWith(media) });
    const chat = '16505559001';
    // All parts share the fake's method `messages`: the third one fails.
    wa.failNext({ method: 'messages', status: 429, retryAfter: 1, after: 2 });
    const hook = whatsappWebhook({
      phoneNumberId: waCredentials.phone_number_id,
      from: chat,
      id: `wamid.${randomUUID()}`,
      text: 'hi',
      appSecret: waCredentials.app_secret,
    });
    const response = await stack.http.post(`/v1/webhooks/whatsapp/${bot.id}`).set(hook.headers).send(hook.body);
    expect(response.status).toBe(200);
    const rows = await botRowsOnceWritten(stack, bot.id, chat);

    const sends = wa.callsTo('messages').filter((call) => call.body.to === chat);
    expect(sends.map((call) => `${String(call.body.type)}:${call.status}`)).toEqual([
      'image:200',
      'video:200',
      'image:429',
      'image:200',
      'document:200',
      'text:200',
      'text:200',
    ]);
    const delivered = sends.filter((call) => call.ok);
    expect(new Set(delivered.map((call) => call.rawBody)).size).toBe(delivered.length);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.platform_message_id?.split(',')).toEqual(delivered.flatMap(idsOf));
  });
});
