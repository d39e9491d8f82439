/**
 * A message that goes out as several platform calls, failing part-way and retried: the retry
 * resumes after the parts already delivered (`SendProgress`), as the deliverTurn activity does with
 * its heartbeat details. Each part reaches the fake exactly once.
 */
import type { OutgoingMessage } from '../../src/engine/types';
import { PlatformApiError } from '../../src/platforms';
import { discordAdapter } from '../../src/platforms/discord';
import { messengerAdapter } from '../../src/platforms/messenger';
import { slackAdapter } from '../../src/platforms/slack';
import { telegramAdapter } from '../../src/platforms/telegram';
import type { PlatformAdapter, PlatformContext, SendResult, SentPart } from '../../src/platforms/types';
import { whatsappAdapter } from '../../src/platforms/whatsapp';
import {
  startFakeDiscord,
  startFakeMessenger,
  startFakeSlack,
  startFakeTelegram,
  startFakeWhatsApp,
  type FailureSpec,
  type FakeServer,
  type RecordedCall,
} from '../fakes';

/**
 * A fetch that tells the fake to fail the `nth` call of `method` (1-based) just before sending it,
 * so the failure lands on a given part whatever came before. The fake answers it; nothing is faked here.
 */
function failingAt(fake: FakeServer, methodOf: (url: string, body: unknown) => string | null, method: string, nth: number, spec: Omit<FailureSpec, 'method'>) {
  let seen = 0;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : input.toString();
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    if (methodOf(url, body) === method) {
      seen += 1;
      if (seen === nth) fake.failNext({ ...spec, method, times: 1 });
    }
    return fetch(input, init);
  }) as typeof fetch;
}

interface Attempt {
  error?: unknown;
  result?: SendResult;
  done: number;
}

/**
 * What the deliverTurn activity does with Temporal: each attempt starts from the progress the
 * earlier ones reported, ids are merged, and retryable platform errors lead to another attempt.
 */
async function sendWithRetries<C>(
  adapter: PlatformAdapter<C>,
  ctx: PlatformContext,
  credentials: C,
  chatId: string,
  message: OutgoingMessage,
  replyContext?: Record<string, string>,
): Promise<{ attempts: Attempt[]; messageIds: string[]; mediaFileIds: (string | null)[] }> {
  let checkpoint: SentPart & { mediaFileIds: (string | null)[] } = { partsSent: 0, messageIds: [], mediaFileIds: [] };
  const attempts: Attempt[] = [];
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const done = checkpoint.partsSent;
    try {
      const result = await adapter.send(ctx, credentials, chatId, message, replyContext, {
        done,
        onPartSent(part) {
          expect(part.partsSent).toBeGreaterThan(checkpoint.partsSent);
          checkpoint = {
            partsSent: part.partsSent,
            messageIds: [...checkpoint.messageIds, ...part.messageIds],
            mediaFileIds: [...checkpoint.mediaFileIds, ...(part.mediaFileIds ?? [])],
          };
        },
      });
      attempts.push({ result, done });
      return { attempts, messageIds: checkpoint.messageIds, mediaFileIds: checkpoint.mediaFileIds };
    } catch (error) {
      attempts.push({ error, done });
      if (!(error instanceof PlatformApiError && error.retryable)) throw error;
    }
  }
  throw new Error('still failing after 5 attempts');
}

/** The successful calls' bodies, without the per-call noise; duplicates would show as equal entries. */
const delivered = (fake: FakeServer, methods: string[]): RecordedCall[] => fake.calls.filter((call) => call.ok && methods.includes(call.method));
const expectNoDuplicates = (calls: RecordedCall[]) => {
  const bodies = calls.map((call) => call.rawBody);
  expect(new Set(bodies).size).toBe(bodies.length);
};

const longText = (words: number, word = 'lorem') => Array.from({ length: words }, (_, i) => `${word}${i}`).join(' ');

describe('telegram: resume after a failed part', () => {
  const TOKEN = '123456789:AAH-resume_token_0123456789abcdef';
  let tg: Awaited<ReturnType<typeof startFakeTelegram>>;
  beforeAll(async () => {
    tg = await startFakeTelegram({ token: TOKEN });
  });
  afterAll(() => tg.close());
  beforeEach(() => tg.reset());
  const methodOf = (url: string) => url.split('/').pop() ?? null;
  const SEND_METHODS = ['sendMediaGroup', 'sendMessage', 'sendPhoto', 'sendVideo', 'sendDocument', 'sendAudio'];

  // An album of three photos (parts 1-3), then 9,000+ characters in three chunks (parts 4-6), buttons on the last.
  const message: OutgoingMessage = {
    media: [1, 2, 3].map((n) => ({ type: 'image' as const, url: `https://cdn.example/${n}.jpg`, caption: `dish ${n}` })),
    text: longText(1300),
    buttons: [
      { text: 'Book', value: 'book' },
      { text: 'Menu', value: 'menu' },
    ],
  };

  it.each([
    ['a 500 on the second text chunk', { status: 500 }, 2],
    ['a 429 on the first text chunk', { status: 429, retryAfter: 1 }, 1],
  ])('%s: the album and the chunks before it are not sent again', async (_name, spec, nth) => {
    const ctx = { apiBase: tg.url, fetch: failingAt(tg, methodOf, 'sendMessage', nth, spec) };
    const { attempts, messageIds, mediaFileIds } = await sendWithRetries(telegramAdapter, ctx, { token: TOKEN }, '1111', message);

    expect(attempts.map((a) => [a.done, a.error ? 'failed' : 'ok'])).toEqual([
      [0, 'failed'],
      [3 + nth - 1, 'ok'],
    ]);
    expect(tg.calls.filter((call) => !call.ok).map((call) => `${call.method}:${call.status}`)).toEqual([`sendMessage:${spec.status}`]);
    const sent = delivered(tg, SEND_METHODS);
    expect(sent.map((call) => call.method)).toEqual(['sendMediaGroup', 'sendMessage', 'sendMessage', 'sendMessage']);
    expectNoDuplicates(sent);
    const chunks = tg
      .callsTo('sendMessage')
      .filter((call) => call.ok)
      .map((call) => call.body.text as string);
    expect(chunks.join(' ')).toBe(message.text);
    expect(
      tg
        .callsTo('sendMessage')
        .filter((call) => call.ok)
        .map((call) => call.body.reply_markup !== undefined),
    ).toEqual([false, false, true]);
    // Ids of both attempts, in the order the user sees them; a file id per photo.
    const expectedIds = sent.flatMap((call) => {
      const result = (call.response as { result: { message_id: number } | { message_id: number }[] }).result;
      return (Array.isArray(result) ? result : [result]).map((m) => String(m.message_id));
    });
    expect(messageIds).toEqual(expectedIds);
    expect(mediaFileIds).toHaveLength(3);
    expect(mediaFileIds.every((id) => typeof id === 'string')).toBe(true);
    // The retry shows "typing" again (not a part), and sends only the rest.
    expect(attempts[1]?.result?.messageIds).toHaveLength(3 - nth + 1);
  });

  it('an album refused and sent one by one resumes at the next item, without trying the album again', async () => {
    tg.failNext({ method: 'sendMediaGroup', status: 400, description: 'Bad Request: failed to get HTTP URL content' });
    const ctx = { apiBase: tg.url, fetch: failingAt(tg, methodOf, 'sendPhoto', 2, { status: 502 }) };
    const { attempts, mediaFileIds } = await sendWithRetries(telegramAdapter, ctx, { token: TOKEN }, '1111', { ...message, text: 'Enjoy!' });

    expect(attempts.map((a) => a.done)).toEqual([0, 1]);
    expect(tg.callsTo('sendMediaGroup')).toHaveLength(1);
    const photos = tg.callsTo('sendPhoto').filter((call) => call.ok);
    expect(photos.map((call) => call.body.photo)).toEqual(['https://cdn.example/1.jpg', 'https://cdn.example/2.jpg', 'https://cdn.example/3.jpg']);
    expect(
      tg
        .callsTo('sendMessage')
        .filter((call) => call.ok)
        .map((call) => call.body.text),
    ).toEqual(['Enjoy!']);
    expect(mediaFileIds).toHaveLength(3);
  });

  it('a retry after everything was delivered sends nothing', async () => {
    const first = await sendWithRetries(telegramAdapter, { apiBase: tg.url }, { token: TOKEN }, '1111', message);
    const before = delivered(tg, SEND_METHODS).length;
    const again = await telegramAdapter.send({ apiBase: tg.url }, { token: TOKEN }, '1111', message, undefined, {
      done: 6,
      onPartSent: () => {
        throw new Error('nothing should be sent');
      },
    });
    expect(first.messageIds).toHaveLength(6);
    expect(again.messageIds).toEqual([]);
    expect(delivered(tg, SEND_METHODS)).toHaveLength(before);
  });
});

describe('whatsapp: resume after a failed part', () => {
  const credentials = { phone_number_id: '106540352242922', access_token: 'EAAJB-resume-token', app_secret: 's', verify_token: 'v' };
  const USER = '16505551234';
  let wa: FakeServer;
  beforeAll(async () => {
    wa = await startFakeWhatsApp({ phoneNumberId: credentials.phone_number_id, accessToken: credentials.access_token });
  });
  afterAll(() => wa.close());
  beforeEach(() => wa.reset());
  const methodOf = (_url: string, body: unknown) => ((body as { status?: string } | undefined)?.status === 'read' ? 'markRead' : 'messages');

  // Three media one by one (parts 1-3), 5,000+ characters of text: a 4096 chunk, then the rest in
  // interactive-sized pieces with reply buttons on the last.
  const message: OutgoingMessage = {
    media: [
      { type: 'image', url: 'https://cdn.example/a.jpg', caption: 'terrace' },
      { type: 'video', url: 'https://cdn.example/b.mp4' },
      { type: 'document', url: 'https://cdn.example/menu.pdf', caption: 'menu' },
    ],
    text: longText(700),
    buttons: [
      { text: 'Book', value: 'book' },
      { text: 'Call', value: 'call' },
    ],
  };

  it.each([
    ['a 429 on the third medium', { status: 429, retryAfter: 1 }, 3, 2],
    ['a 500 on the second medium', { status: 500 }, 2, 1],
    ['a 503 on the first text chunk', { status: 503 }, 4, 3],
  ])('%s: nothing delivered before it is sent again', async (_name, spec, nth, done) => {
    const ctx = { apiBase: wa.url, fetch: failingAt(wa, methodOf, 'messages', nth, spec) };
    const { attempts, messageIds } = await sendWithRetries(whatsappAdapter, ctx, credentials, USER, message, { message_id: 'wamid.user' });

    expect(attempts.map((a) => [a.done, a.error ? 'failed' : 'ok'])).toEqual([
      [0, 'failed'],
      [done, 'ok'],
    ]);
    expect(wa.calls.filter((call) => !call.ok).map((call) => `${call.method}:${call.status}`)).toEqual([`messages:${spec.status}`]);
    const sent = delivered(wa, ['messages']);
    expectNoDuplicates(sent);
    expect(sent.map((call) => call.body.type)).toEqual(['image', 'video', 'document', 'text', 'text', 'text', 'interactive']);
    const texts = sent
      .map((call) => call.body as { text?: { body: string }; interactive?: { body: { text: string } } })
      .flatMap((b) => b.text?.body ?? b.interactive?.body.text ?? []);
    expect(texts.join(' ')).toBe(message.text);
    expect(messageIds).toEqual(sent.map((call) => (call.response as { messages: { id: string }[] }).messages[0]?.id));
  });

  it('an audio that went as a link covers its caption: the retry sends neither again', async () => {
    const audio: OutgoingMessage = { media: [{ type: 'audio', url: 'https://cdn.example/jingle.mp3', caption: 'our jingle' }], text: 'Hello' };
    wa.failNext({ method: 'messages', status: 400, code: 131053, description: '(#131053) Media upload error' });
    const ctx = { apiBase: wa.url, fetch: failingAt(wa, methodOf, 'messages', 3, { status: 500 }) };
    const { attempts } = await sendWithRetries(whatsappAdapter, ctx, credentials, USER, audio);
    expect(attempts.map((a) => a.done)).toEqual([0, 2]);
    expect(delivered(wa, ['messages']).map((call) => (call.body as { text?: { body: string } }).text?.body)).toEqual([
      'our jingle\nhttps://cdn.example/jingle.mp3',
      'Hello',
    ]);
  });

  it('an audio sent, its caption failed: the retry sends the caption only', async () => {
    const audio: OutgoingMessage = { media: [{ type: 'audio', url: 'https://cdn.example/jingle.mp3', caption: 'our jingle' }], text: 'Hello' };
    const ctx = { apiBase: wa.url, fetch: failingAt(wa, methodOf, 'messages', 2, { status: 500 }) };
    const { attempts } = await sendWithRetries(whatsappAdapter, ctx, credentials, USER, audio);
    expect(attempts.map((a) => a.done)).toEqual([0, 1]);
    expect(delivered(wa, ['messages']).map((call) => call.body.type)).toEqual(['audio', 'text', 'text']);
    expect(delivered(wa, ['messages']).map((call) => (call.body as { text?: { body: string } }).text?.body)).toEqual([undefined, 'our jingle', 'Hello']);
  });
});

describe('messenger, slack, discord: resume after a failed part', () => {
  const fakes: FakeServer[] = [];
  afterAll(() => Promise.all(fakes.map((fake) => fake.close())));

  const message: OutgoingMessage = {
    media: [
      { type: 'image', url: 'https://cdn.example/a.jpg', caption: 'terrace' },
      { type: 'document', url: 'https://cdn.example/menu.pdf' },
    ],
    text: longText(900),
    buttons: [{ text: 'Book', value: 'book' }],
  };

  it('messenger: a 500 on the third part (the document, after image and caption)', async () => {
    const credentials = { page_id: '1000001', page_access_token: 'EAAB-page-token', app_secret: 's', verify_token: 'v' };
    const fake = await startFakeMessenger({ pageId: credentials.page_id, pageAccessToken: credentials.page_access_token });
    fakes.push(fake);
    const methodOf = (_url: string, body: unknown) => ((body as { sender_action?: string }).sender_action ? 'senderAction' : 'messages');
    const ctx = { apiBase: fake.url, fetch: failingAt(fake, methodOf, 'messages', 3, { status: 500 }) };
    const { attempts } = await sendWithRetries(messengerAdapter, ctx, credentials, '2200001', message);
    expect(attempts.map((a) => a.done)).toEqual([0, 2]);
    const sent = fake.calls.filter((call) => call.ok && !(call.body as { sender_action?: string }).sender_action);
    expectNoDuplicates(sent);
    expect(sent).toHaveLength(2 + 1 + 4);
  });

  it('slack: a 500 on the third part', async () => {
    const fake = await startFakeSlack({ botToken: 'xoxb-resume' });
    fakes.push(fake);
    const ctx = { apiBase: fake.url, fetch: failingAt(fake, (url) => url.split('/').pop() ?? null, 'chat.postMessage', 3, { status: 500 }) };
    const { attempts } = await sendWithRetries(slackAdapter, ctx, { bot_token: 'xoxb-resume', signing_secret: 's' }, 'C100', message);
    expect(attempts.map((a) => a.done)).toEqual([0, 2]);
    const sent = delivered(fake, ['chat.postMessage']);
    expectNoDuplicates(sent);
    expect(sent).toHaveLength(2 + 3);
  });

  it('discord: a 500 on the third part', async () => {
    const fake = await startFakeDiscord({ botToken: 'discord-bot-token' });
    fakes.push(fake);
    const methodOf = (url: string) => (url.endsWith('/typing') ? 'triggerTypingIndicator' : 'createMessage');
    const ctx = { apiBase: fake.url, fetch: failingAt(fake, methodOf, 'createMessage', 3, { status: 500 }) };
    const credentials = { application_id: '1100', bot_token: 'discord-bot-token', public_key: '00'.repeat(32) };
    const { attempts } = await sendWithRetries(discordAdapter, ctx, credentials, '3300', message);
    expect(attempts.map((a) => a.done)).toEqual([0, 2]);
    const sent = delivered(fake, ['createMessage']);
    expectNoDuplicates(sent);
    expect(sent).toHaveLength(2 + 4);
  });
});
