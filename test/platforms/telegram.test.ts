import http from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { adapters, getAdapter, PlatformApiError, PlatformNetworkError, WebhookAuthError } from '../../src/platforms';
import { telegramAdapter } from '../../src/platforms/telegram';
import { MAX_USER_FIELD_LENGTH } from '../../src/platforms/shared/user';
import { startFakeTelegram, telegramRequest, telegramUpdate, toWebhookRequest, type FakeTelegram } from '../fakes';
import { failure } from './failure';

const TOKEN = '123456789:AAH-test_token_value_0123456789abcdef';
const SECRET = 'webhook-secret-0123456789';
const credentials = { token: TOKEN };

let tg: FakeTelegram;
beforeAll(async () => {
  tg = await startFakeTelegram({ token: TOKEN });
});
afterAll(() => tg.close());
beforeEach(() => tg.reset());

const ctx = () => ({ apiBase: tg.url });
const handle = (update: object, secret: string | undefined = SECRET) =>
  telegramAdapter.handleWebhook(toWebhookRequest(telegramRequest(update, secret)), credentials, SECRET);

/** Capture the rejection of a send, failing the test if it resolved. */
const from = { id: 1111, is_bot: false, first_name: 'Anna', last_name: 'Petrova', username: 'anna', language_code: 'en' };
const chat = { id: 1111, first_name: 'Anna', type: 'private' };

describe('telegram webhook verification', () => {
  it('accepts the secret token given to setWebhook', () => {
    const result = telegramAdapter.handleWebhook(
      toWebhookRequest(telegramUpdate({ updateId: 10, chatId: 1111, text: 'hi', secret: SECRET })),
      credentials,
      SECRET,
    );
    expect(result.status).toBe(200);
    expect(result.messages).toHaveLength(1);
  });

  it('rejects a forged, a missing, and an unregistered secret', () => {
    const request = (secret?: string) => toWebhookRequest(telegramUpdate({ updateId: 10, chatId: 1111, text: 'hi', secret }));
    expect(() => telegramAdapter.handleWebhook(request('forged'), credentials, SECRET)).toThrow(WebhookAuthError);
    expect(() => telegramAdapter.handleWebhook(request(SECRET.slice(0, -1)), credentials, SECRET)).toThrow(WebhookAuthError);
    expect(() => telegramAdapter.handleWebhook(request(undefined), credentials, SECRET)).toThrow(WebhookAuthError);
    expect(() => telegramAdapter.handleWebhook(request(SECRET), credentials, undefined)).toThrow(WebhookAuthError);
  });

  it('verifies before it parses: a forged request with a broken body is still a 401 case', () => {
    const request = toWebhookRequest({ body: '{', rawBody: Buffer.from('{'), headers: { 'x-telegram-bot-api-secret-token': 'x' } });
    expect(() => telegramAdapter.handleWebhook(request, credentials, SECRET)).toThrow(WebhookAuthError);
  });

  it('answers 400 to a verified body that is not an update', () => {
    const request = toWebhookRequest({ body: '{', rawBody: Buffer.from('{'), headers: { 'x-telegram-bot-api-secret-token': SECRET } });
    expect(telegramAdapter.handleWebhook(request, credentials, SECRET)).toMatchObject({ status: 400, messages: [] });
  });
});

describe('telegram normalization', () => {
  it('text message → text input with update_id as message id', () => {
    const result = handle({ update_id: 894512, message: { message_id: 17, from, chat, date: 1718000000, text: 'Table for two' } });
    expect(result).toEqual({
      status: 200,
      messages: [
        {
          platform: 'telegram',
          chatId: '1111',
          messageId: '894512',
          user: { id: '1111', name: 'Anna Petrova', username: 'anna', language: 'en' },
          input: { kind: 'text', text: 'Table for two' },
          sentAt: '2024-06-10T06:13:20.000Z',
        },
      ],
    });
  });

  it('commands, with the bot name and a payload', () => {
    const command = (text: string, length: number) =>
      handle({ update_id: 1, message: { message_id: 1, from, chat, date: 1, text, entities: [{ offset: 0, length, type: 'bot_command' }] } }).messages[0]
        ?.input;
    expect(command('/start', 6)).toEqual({ kind: 'command', command: 'start' });
    expect(command('/start@getinn_test_bot table-7', 22)).toEqual({ kind: 'command', command: 'start', args: 'table-7' });
    expect(command('/help', 5)).toEqual({ kind: 'command', command: 'help' });
  });

  it('the sender as a user profile: hostile fields dropped or cut at 256 characters', () => {
    const user = (sender: object) => handle({ update_id: 1, message: { message_id: 1, from: sender, chat, date: 1, text: 'hi' } }).messages[0]?.user;
    expect(user({ id: 1111, is_bot: false, first_name: 'Ada' })).toEqual({ id: '1111', name: 'Ada' });
    const long = user({ id: 1111, is_bot: false, first_name: 'A'.repeat(5000), username: { evil: true }, language_code: ['en'] });
    expect(long).toEqual({ id: '1111', name: 'A'.repeat(MAX_USER_FIELD_LENGTH) });
    // A surrogate pair across the cut is not split in half.
    expect(user({ id: 1111, is_bot: false, first_name: `${'a'.repeat(255)}😀` })?.name).toBe('a'.repeat(255));
    expect(user({ id: { not: 'an id' }, first_name: 'Ada' })).toBeUndefined();
  });

  it('a slash without a command entity stays text', () => {
    const result = handle({ update_id: 1, message: { message_id: 1, from, chat, date: 1, text: '/ not a command' } });
    expect(result.messages[0]?.input).toEqual({ kind: 'text', text: '/ not a command' });
  });

  it('callback query → button input, answered in the webhook reply', () => {
    const result = handle({
      update_id: 894513,
      callback_query: {
        id: '4382bfdwdsb323b2d9',
        from,
        message: {
          message_id: 18,
          from: { id: 7000001, is_bot: true, first_name: 'GET INN' },
          chat,
          date: 1718000000,
          text: 'When?',
          reply_markup: { inline_keyboard: [[{ text: '18:00', callback_data: '18' }], [{ text: '20:00', callback_data: '20' }]] },
        },
        chat_instance: '-5196428359219540431',
        data: '20',
      },
    });
    expect(result.status).toBe(200);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(result.body).toEqual({ method: 'answerCallbackQuery', callback_query_id: '4382bfdwdsb323b2d9' });
    expect(result.messages).toEqual([
      expect.objectContaining({
        chatId: '1111',
        messageId: '894513',
        user: expect.objectContaining({ id: '1111' }),
        input: { kind: 'button', value: '20', text: '20:00' },
      }),
    ]);
  });

  it('a callback from an inline-mode message is answered but starts nothing', () => {
    const result = handle({ update_id: 5, callback_query: { id: 'q', from, inline_message_id: 'AAA', chat_instance: '1', data: 'x' } });
    expect(result.body).toEqual({ method: 'answerCallbackQuery', callback_query_id: 'q' });
    expect(result.messages).toEqual([]);
  });

  it('media: the largest photo, documents, voice, video with captions and mime types', () => {
    const input = (message: object) => handle({ update_id: 1, message: { message_id: 1, from, chat, date: 1, ...message } }).messages[0]?.input;
    expect(
      input({
        photo: [
          { file_id: 'small', file_unique_id: 'a', width: 90, height: 67, file_size: 1000 },
          { file_id: 'large', file_unique_id: 'b', width: 1280, height: 960, file_size: 90000 },
        ],
        caption: 'our table',
      }),
    ).toEqual({ kind: 'media', media: { type: 'image', media_id: 'large', mime: 'image/jpeg', caption: 'our table' } });
    expect(input({ document: { file_id: 'doc1', file_unique_id: 'd', file_name: 'menu.pdf', mime_type: 'application/pdf' } })).toEqual({
      kind: 'media',
      media: { type: 'document', media_id: 'doc1', mime: 'application/pdf' },
    });
    expect(input({ voice: { file_id: 'voice1', file_unique_id: 'v', duration: 3, mime_type: 'audio/ogg' } })).toEqual({
      kind: 'media',
      media: { type: 'audio', media_id: 'voice1', mime: 'audio/ogg' },
    });
    expect(input({ video: { file_id: 'vid1', file_unique_id: 'v', duration: 3, width: 1, height: 1, mime_type: 'video/mp4' } })).toEqual({
      kind: 'media',
      media: { type: 'video', media_id: 'vid1', mime: 'video/mp4' },
    });
  });

  it('location, venue and contact', () => {
    const input = (message: object) => handle({ update_id: 1, message: { message_id: 1, from, chat, date: 1, ...message } }).messages[0]?.input;
    expect(input({ location: { latitude: 55.7558, longitude: 37.6173 } })).toEqual({ kind: 'location', latitude: 55.7558, longitude: 37.6173 });
    expect(
      input({ location: { latitude: 1, longitude: 2 }, venue: { location: { latitude: 1, longitude: 2 }, title: 'GET INN', address: 'Main st' } }),
    ).toEqual({ kind: 'location', latitude: 1, longitude: 2 });
    expect(input({ contact: { phone_number: '+79991234567', first_name: 'Anna', last_name: 'P', user_id: 1111 } })).toEqual({
      kind: 'contact',
      phone: '+79991234567',
      name: 'Anna P',
    });
  });

  it('edits, channel posts, membership changes, stickers and service messages are acknowledged and ignored', () => {
    const ignored = [
      { update_id: 1, edited_message: { message_id: 1, from, chat, date: 1, edit_date: 2, text: 'edited' } },
      { update_id: 2, channel_post: { message_id: 1, chat: { id: -100, type: 'channel', title: 'News' }, date: 1, text: 'post' } },
      { update_id: 3, my_chat_member: { chat, from, date: 1, old_chat_member: {}, new_chat_member: {} } },
      { update_id: 4, message: { message_id: 1, from, chat, date: 1, sticker: { file_id: 's', file_unique_id: 's', width: 1, height: 1 } } },
      { update_id: 5, message: { message_id: 1, from, chat, date: 1, new_chat_members: [from] } },
    ];
    for (const update of ignored) expect(handle(update)).toEqual({ status: 200, messages: [] });
  });
});

describe('telegram send', () => {
  it('sends text alone: a chat action would arrive with it', async () => {
    const result = await telegramAdapter.send(ctx(), credentials, '1111', { text: 'Welcome to GET INN!' });
    expect(tg.calls.map((call) => call.method)).toEqual(['sendMessage']);
    expect(tg.calls[0]?.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(tg.calls[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(tg.calls[0]?.body).toEqual({ chat_id: '1111', text: 'Welcome to GET INN!' });
    expect(result.messageIds).toHaveLength(1);
  });

  it('sends buttons as an inline keyboard, one per row', async () => {
    await telegramAdapter.send(ctx(), credentials, '1111', {
      text: 'When?',
      buttons: [
        { text: '18:00', value: '18' },
        { text: '20:00', value: '20' },
      ],
    });
    expect(tg.callsTo('sendMessage')[0]?.body).toEqual({
      chat_id: '1111',
      text: 'When?',
      reply_markup: {
        inline_keyboard: [[{ text: '18:00', callback_data: '18' }], [{ text: '20:00', callback_data: '20' }]],
      },
    });
  });

  it('refuses a button value over 64 bytes before calling Telegram', async () => {
    const error = await failure(telegramAdapter.send(ctx(), credentials, '1111', { text: 'x', buttons: [{ text: 'long', value: 'é'.repeat(33) }] }));
    expect(error).toBeInstanceOf(PlatformApiError);
    expect(error.retryable).toBe(false);
    expect(tg.callsTo('sendMessage')).toHaveLength(0);
  });

  it('splits a long text on word boundaries, buttons under the last part', async () => {
    const words = Array.from({ length: 1400 }, (_, index) => `word${index}`);
    const text = words.join(' ');
    await telegramAdapter.send(ctx(), credentials, '1111', { text, buttons: [{ text: 'OK', value: 'ok' }] });
    const sent = tg.callsTo('sendMessage').map((call) => call.body);
    expect(sent.length).toBe(3);
    for (const part of sent) expect((part.text as string).length).toBeLessThanOrEqual(4096);
    expect(sent.map((part) => part.text).join(' ')).toBe(text);
    expect(sent[0]?.reply_markup).toBeUndefined();
    expect(sent[2]?.reply_markup).toEqual({ inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] });
  });

  it('sends a single photo with its caption, then the text', async () => {
    await telegramAdapter.send(ctx(), credentials, '1111', {
      text: 'Our hall',
      media: [{ type: 'image', url: 'https://cdn.example/hall.jpg', caption: 'Main hall' }],
    });
    expect(tg.calls.map((call) => call.method)).toEqual(['sendChatAction', 'sendPhoto', 'sendMessage']);
    expect(tg.calls[0]?.body).toEqual({ chat_id: '1111', action: 'upload_photo' });
    expect(tg.calls[1]?.body).toEqual({ chat_id: '1111', photo: 'https://cdn.example/hall.jpg', caption: 'Main hall' });
  });

  it('sends video, audio and documents with their own methods', async () => {
    await telegramAdapter.send(ctx(), credentials, '1111', {
      media: [
        { type: 'video', url: 'https://cdn.example/v.mp4' },
        { type: 'audio', url: 'https://cdn.example/a.mp3' },
        { type: 'document', url: 'https://cdn.example/menu.pdf' },
      ],
    });
    expect(tg.calls.map((call) => call.method)).toEqual(['sendChatAction', 'sendVideo', 'sendAudio', 'sendDocument']);
    expect(tg.callsTo('sendDocument')[0]?.body).toEqual({ chat_id: '1111', document: 'https://cdn.example/menu.pdf' });
  });

  it('sends 12 photos as albums of 10 and 2', async () => {
    const media = Array.from({ length: 12 }, (_, index) => ({ type: 'image' as const, url: `https://cdn.example/${index}.jpg`, caption: `dish ${index}` }));
    const result = await telegramAdapter.send(ctx(), credentials, '1111', { media });
    const albums = tg.callsTo('sendMediaGroup');
    expect(albums).toHaveLength(2);
    expect(albums[0]?.body.media).toHaveLength(10);
    expect((albums[1]?.body.media as unknown[])[1]).toEqual({ type: 'photo', media: 'https://cdn.example/11.jpg', caption: 'dish 11' });
    expect(result.messageIds).toHaveLength(12);
  });

  it('keeps documents out of photo albums', async () => {
    await telegramAdapter.send(ctx(), credentials, '1111', {
      media: [
        { type: 'image', url: 'https://cdn.example/1.jpg' },
        { type: 'video', url: 'https://cdn.example/2.mp4' },
        { type: 'document', url: 'https://cdn.example/3.pdf' },
      ],
    });
    expect(tg.calls.map((call) => call.method)).toEqual(['sendChatAction', 'sendMediaGroup', 'sendDocument']);
    expect(tg.callsTo('sendMediaGroup')[0]?.body.media).toEqual([
      { type: 'photo', media: 'https://cdn.example/1.jpg' },
      { type: 'video', media: 'https://cdn.example/2.mp4' },
    ]);
  });

  it('falls back from a refused album to single sends, then to a link', async () => {
    tg.failNext({ method: 'sendMediaGroup', status: 400, description: 'Bad Request: failed to get HTTP URL content' });
    tg.failNext({ method: 'sendPhoto', status: 400, description: 'Bad Request: wrong file identifier/HTTP URL specified' });
    const result = await telegramAdapter.send(ctx(), credentials, '1111', {
      media: [
        { type: 'image', url: 'https://cdn.example/broken.jpg', caption: 'Terrace' },
        { type: 'image', url: 'https://cdn.example/ok.jpg' },
      ],
    });
    expect(tg.calls.map((call) => `${call.method}:${call.status}`)).toEqual([
      'sendChatAction:200',
      'sendMediaGroup:400',
      'sendPhoto:400',
      'sendMessage:200',
      'sendPhoto:200',
    ]);
    expect(tg.callsTo('sendMessage')[0]?.body).toEqual({ chat_id: '1111', text: 'Terrace\nhttps://cdn.example/broken.jpg' });
    expect(result.messageIds).toHaveLength(2);
  });

  it('a failing typing indicator does not fail the send', async () => {
    tg.failNext({ method: 'sendChatAction', status: 500 });
    await expect(telegramAdapter.send(ctx(), credentials, '1111', { text: 'hi' })).resolves.toEqual({ messageIds: [expect.any(String)] });
  });
});

describe('telegram errors', () => {
  it('429 carries retry_after', async () => {
    tg.failNext({ method: 'sendMessage', status: 429, retryAfter: 7 });
    const error = await failure(telegramAdapter.send(ctx(), credentials, '1111', { text: 'hi' }));
    expect(error).toBeInstanceOf(PlatformApiError);
    expect(error).toMatchObject({ platform: 'telegram', method: 'sendMessage', status: 429, retryable: true, retryAfterSeconds: 7 });
    expect(error.description).toBe('Too Many Requests: retry after 7');
  });

  it('5xx is retryable', async () => {
    tg.failNext({ method: 'sendMessage', status: 502, description: 'Bad Gateway' });
    const error = await failure(telegramAdapter.send(ctx(), credentials, '1111', { text: 'hi' }));
    expect(error).toMatchObject({ status: 502, retryable: true });
  });

  it('blocked by the user and chat not found are permanent, with the description', async () => {
    tg.failNext({ method: 'sendMessage', status: 403, description: 'Forbidden: bot was blocked by the user' });
    const blocked = await failure(telegramAdapter.send(ctx(), credentials, '1111', { text: 'hi' }));
    expect(blocked).toMatchObject({ status: 403, retryable: false, description: 'Forbidden: bot was blocked by the user' });
    expect(blocked.message).toBe('telegram sendMessage failed (403): Forbidden: bot was blocked by the user');

    tg.failNext({ method: 'sendMessage', status: 400, description: 'Bad Request: chat not found' });
    const missing = await failure(telegramAdapter.send(ctx(), credentials, '1111', { text: 'hi' }));
    expect(missing).toMatchObject({ status: 400, retryable: false, description: 'Bad Request: chat not found' });
  });

  it('a media send to a blocked chat does not fall back', async () => {
    tg.failNext({ method: 'sendPhoto', status: 400, description: 'Bad Request: chat not found' });
    await expect(telegramAdapter.send(ctx(), credentials, '1111', { media: [{ type: 'image', url: 'https://cdn.example/a.jpg' }] })).rejects.toMatchObject({
      status: 400,
      retryable: false,
    });
    expect(tg.callsTo('sendMessage')).toHaveLength(0);
  });

  it('a bad token is permanent and never shows the token', async () => {
    const error = await failure(telegramAdapter.testConnection(ctx(), { token: '999:wrong-token-value' }));
    expect(error).toMatchObject({ status: 401, retryable: false, description: 'Unauthorized' });
    expect(JSON.stringify({ ...error, text: error.message, stack: error.stack })).not.toContain('wrong-token-value');
  });

  it('an unreachable API is a retryable network error without the token in it', async () => {
    const port = await closedPort();
    const error = await failure(telegramAdapter.send({ apiBase: `http://127.0.0.1:${port}` }, credentials, '1111', { text: 'hi' }));
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(`${error.message} ${String((error as PlatformNetworkError).cause)} ${error.stack}`).not.toContain(TOKEN);
  });

  it('a URL fetch cannot parse does not leak the token either', async () => {
    const error = await failure(telegramAdapter.testConnection({ apiBase: 'http://exa mple' }, credentials));
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(`${error.message} ${String((error as PlatformNetworkError).cause)}`).not.toContain(TOKEN);
  });

  it('a timeout is a network error', async () => {
    // Like fetch, it rejects with the signal's reason: the TimeoutError DOMException of AbortSignal.timeout.
    const never: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as DOMException)));
    const error = await failure(telegramAdapter.testConnection({ apiBase: tg.url, fetch: never, timeoutMs: 20 }, credentials));
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error.message).toBe('telegram getMe: network error: request timed out');
  });

  it('an API that never answers times out as a network error', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await failure(telegramAdapter.send({ apiBase: `http://127.0.0.1:${port}`, timeoutMs: 50 }, credentials, '1111', { text: 'hi' }));
      expect(error).toBeInstanceOf(PlatformNetworkError);
      expect(error.message).toBe('telegram sendMessage: network error: request timed out');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('telegram setup', () => {
  it('testConnection calls getMe and returns the bot, no secrets', async () => {
    const result = await telegramAdapter.testConnection(ctx(), credentials);
    expect(result).toEqual({
      ok: true,
      info: { id: 7000001, username: 'getinn_test_bot', first_name: 'GET INN', can_join_groups: true, can_read_all_group_messages: false },
    });
    expect(tg.calls[0]?.method).toBe('getMe');
  });

  it('registerWebhook calls setWebhook with the secret and the updates a dialog needs', async () => {
    await telegramAdapter.registerWebhook?.(ctx(), credentials, 'https://bots.example/v1/webhooks/telegram/bot_1', SECRET);
    expect(tg.callsTo('setWebhook')[0]?.body).toEqual({
      url: 'https://bots.example/v1/webhooks/telegram/bot_1',
      secret_token: SECRET,
      allowed_updates: ['message', 'callback_query'],
      drop_pending_updates: false,
    });
    expect(tg.webhook).toMatchObject({ url: 'https://bots.example/v1/webhooks/telegram/bot_1', secret_token: SECRET });
  });

  it('validates credentials without echoing them', () => {
    expect(telegramAdapter.credentialsSchema.safeParse({ token: TOKEN }).success).toBe(true);
    const bad = telegramAdapter.credentialsSchema.safeParse({ token: 'not a token' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).not.toContain('not a token');
  });

  it('is registered in the adapter index', () => {
    expect(getAdapter('telegram')).toBe(telegramAdapter);
    expect(adapters.telegram).toBe(telegramAdapter);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
