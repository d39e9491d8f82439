import { WebhookAuthError } from '../../src/platforms';
import { messengerAdapter } from '../../src/platforms/messenger';
import { metaHandshakeQuery, metaRequest, messengerPayload, messengerWebhook, startFakeMessenger, toWebhookRequest, type FakeServer } from '../fakes';
import { failure } from './failure';

const credentials = {
  page_id: '104560000000001',
  page_access_token: 'EAAG-page-access-token-secret',
  app_secret: 'messenger-app-secret-value',
  verify_token: 'verify-messenger',
};
const PSID = '6543210987654321';

let fb: FakeServer;
beforeAll(async () => {
  fb = await startFakeMessenger({ pageId: credentials.page_id, pageAccessToken: credentials.page_access_token });
});
afterAll(() => fb.close());
beforeEach(() => fb.reset());

const ctx = () => ({ apiBase: fb.url });
const eventOf = (event: object) =>
  messengerAdapter.handleWebhook(
    toWebhookRequest(
      metaRequest(
        messengerPayload(credentials.page_id, [{ sender: { id: PSID }, recipient: { id: credentials.page_id }, timestamp: 1762902671000, ...event }]),
        credentials.app_secret,
      ),
    ),
    credentials,
  ).messages[0];

describe('messenger webhook verification', () => {
  it('handshake echoes the challenge; a wrong token is refused', () => {
    const get = (query: Record<string, string>) => toWebhookRequest({ body: '', rawBody: Buffer.alloc(0), headers: {} }, { method: 'GET', query });
    expect(messengerAdapter.handleWebhook(get(metaHandshakeQuery('verify-messenger', 'CHALLENGE_ACCEPTED')), credentials)).toMatchObject({
      status: 200,
      body: 'CHALLENGE_ACCEPTED',
    });
    expect(() => messengerAdapter.handleWebhook(get(metaHandshakeQuery('nope')), credentials)).toThrow(WebhookAuthError);
  });

  it('signature accepted, forged and missing', () => {
    const options = { pageId: credentials.page_id, psid: PSID, text: 'hello' };
    expect(
      messengerAdapter.handleWebhook(toWebhookRequest(messengerWebhook({ ...options, appSecret: credentials.app_secret })), credentials).messages,
    ).toHaveLength(1);
    expect(() => messengerAdapter.handleWebhook(toWebhookRequest(messengerWebhook({ ...options, appSecret: 'forged' })), credentials)).toThrow(
      WebhookAuthError,
    );
    expect(() => messengerAdapter.handleWebhook(toWebhookRequest(messengerWebhook(options)), credentials)).toThrow(WebhookAuthError);
  });
});

describe('messenger normalization', () => {
  it('text → text input keyed by mid, chat = PSID', () => {
    expect(eventOf({ message: { mid: 'mid.1457764197618:41d102a3e1ae206a38', text: 'hello, world!' } })).toEqual({
      platform: 'messenger',
      chatId: PSID,
      messageId: 'mid.1457764197618:41d102a3e1ae206a38',
      user: { id: PSID },
      input: { kind: 'text', text: 'hello, world!' },
      sentAt: '2025-11-11T23:11:11.000Z',
    });
    expect(eventOf({ message: { mid: 'm_1', text: '/help' } })?.input).toEqual({ kind: 'command', command: 'help' });
  });

  it('quick reply and postback → button input', () => {
    expect(eventOf({ message: { mid: 'm_2', text: '20:00', quick_reply: { payload: '20' } } })?.input).toEqual({ kind: 'button', value: '20', text: '20:00' });
    const postback = eventOf({ postback: { mid: 'm_3', title: 'Book a table', payload: 'BOOK' } });
    expect(postback).toMatchObject({ messageId: 'm_3', input: { kind: 'button', value: 'BOOK', text: 'Book a table' } });
  });

  it('attachments: media by URL, legacy location; stickers ignored', () => {
    expect(
      eventOf({ message: { mid: 'm_4', attachments: [{ type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/photo.jpg' } }] } })?.input,
    ).toEqual({
      kind: 'media',
      media: { type: 'image', url: 'https://scontent.xx.fbcdn.net/v/photo.jpg' },
    });
    expect(eventOf({ message: { mid: 'm_5', attachments: [{ type: 'file', payload: { url: 'https://cdn.fb/menu.pdf' } }] } })?.input).toMatchObject({
      media: { type: 'document' },
    });
    expect(eventOf({ message: { mid: 'm_6', attachments: [{ type: 'location', payload: { coordinates: { lat: 55.75, long: 37.62 } } }] } })?.input).toEqual({
      kind: 'location',
      latitude: 55.75,
      longitude: 37.62,
    });
    expect(
      eventOf({ message: { mid: 'm_7', attachments: [{ type: 'image', payload: { url: 'https://cdn.fb/like.png', sticker_id: 369239263222822 } }] } }),
    ).toBeUndefined();
  });

  it('echoes, deliveries, reads, reactions and other pages are acknowledged and ignored', () => {
    expect(eventOf({ message: { mid: 'm_8', is_echo: true, app_id: 1517776481860111, text: 'our own' } })).toBeUndefined();
    expect(eventOf({ delivery: { mids: ['m_1'], watermark: 1458668856253 } })).toBeUndefined();
    expect(eventOf({ read: { watermark: 1458668856253 } })).toBeUndefined();
    expect(eventOf({ reaction: { mid: 'm_1', action: 'react', emoji: '❤', reaction: 'love' } })).toBeUndefined();
    const other = messengerWebhook({ pageId: '999', psid: PSID, text: 'x', appSecret: credentials.app_secret });
    expect(messengerAdapter.handleWebhook(toWebhookRequest(other), credentials)).toEqual({ status: 200, messages: [] });
  });
});

describe('messenger send', () => {
  it('text with quick replies (13 at most, titles cut to 20), without a typing indicator', async () => {
    const buttons = Array.from({ length: 15 }, (_, index) => ({ text: `Option number ${index + 1} longer`, value: `opt${index + 1}` }));
    const result = await messengerAdapter.send(ctx(), credentials, PSID, { text: 'Pick one', buttons });
    expect(fb.calls).toHaveLength(1);
    expect(fb.calls[0]?.path).toBe(`/${credentials.page_id}/messages`);
    expect(fb.calls[0]?.headers.authorization).toBe(`Bearer ${credentials.page_access_token}`);
    const message = fb.calls[0]?.body as {
      messaging_type: string;
      message: { text: string; quick_replies: { content_type: string; title: string; payload: string }[] };
    };
    expect(message.messaging_type).toBe('RESPONSE');
    expect(message.message.text).toBe('Pick one');
    expect(message.message.quick_replies).toHaveLength(13);
    expect(message.message.quick_replies[0]).toEqual({ content_type: 'text', title: 'Option number 1 lon…', payload: 'opt1' });
    expect(fb.calls[0]?.status).toBe(200);
    expect(result.messageIds).toEqual([expect.stringMatching(/^m_/)]);
  });

  it('splits long text at 2000 on word boundaries', async () => {
    const text = Array.from({ length: 500 }, (_, index) => `word${index}`).join(' ');
    await messengerAdapter.send(ctx(), credentials, PSID, { text });
    const texts = fb.callsTo('messages').map((call) => (call.body as { message: { text: string } }).message.text);
    expect(texts.length).toBe(2);
    expect(texts.every((part) => part.length <= 2000)).toBe(true);
    expect(texts.join(' ')).toBe(text);
  });

  it('media: typing, then URL attachments one by one, captions as text', async () => {
    await messengerAdapter.send(ctx(), credentials, PSID, {
      media: [
        { type: 'image', url: 'https://cdn.example/a.jpg', caption: 'Hall' },
        { type: 'document', url: 'https://cdn.example/menu.pdf' },
      ],
    });
    expect(fb.calls[0]?.body).toEqual({ recipient: { id: PSID }, sender_action: 'typing_on' });
    expect(fb.calls.slice(1).map((call) => call.body)).toEqual([
      {
        recipient: { id: PSID },
        messaging_type: 'RESPONSE',
        message: { attachment: { type: 'image', payload: { url: 'https://cdn.example/a.jpg', is_reusable: true } } },
      },
      { recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'Hall' } },
      {
        recipient: { id: PSID },
        messaging_type: 'RESPONSE',
        message: { attachment: { type: 'file', payload: { url: 'https://cdn.example/menu.pdf', is_reusable: true } } },
      },
    ]);
  });

  it('an attachment Messenger cannot fetch falls back to a link', async () => {
    fb.failNext({ method: 'messages', status: 400, code: 100, subcode: 2018047, description: '(#100) Upload attachment failure.' });
    await messengerAdapter.send(ctx(), credentials, PSID, { media: [{ type: 'video', url: 'https://cdn.example/v.mp4' }] });
    expect(fb.calls.map((call) => `${call.method}:${call.status}`)).toEqual(['senderAction:200', 'messages:400', 'messages:200']);
    expect(fb.calls[2]?.body).toEqual({ recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'https://cdn.example/v.mp4' } });
  });

  it('a failing typing indicator does not fail the send', async () => {
    fb.failNext({ method: 'senderAction', status: 500 });
    await expect(messengerAdapter.send(ctx(), credentials, PSID, { media: [{ type: 'image', url: 'https://cdn.example/a.jpg' }] })).resolves.toEqual({
      messageIds: [expect.any(String)],
    });
  });
});

describe('messenger errors', () => {
  const send = () => messengerAdapter.send(ctx(), credentials, PSID, { text: 'hi' });

  it('rate limit (613) is retryable', async () => {
    fb.failNext({ method: 'messages', status: 400, code: 613, description: '(#613) Calls to this api have exceeded the rate limit.' });
    expect(await failure(send())).toMatchObject({ platform: 'messenger', status: 400, retryable: true });
  });

  it('429 and 5xx are retryable', async () => {
    fb.failNext({ method: 'messages', status: 429, retryAfter: 2 });
    expect(await failure(send())).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 2 });
    fb.failNext({ method: 'messages', status: 500 });
    expect(await failure(send())).toMatchObject({ status: 500, retryable: true });
  });

  it('a person who is unavailable (551) is permanent, with the description', async () => {
    fb.failNext({ method: 'messages', status: 400, code: 551, description: "This person isn't available right now." });
    expect(await failure(send())).toMatchObject({ retryable: false, description: "This person isn't available right now. (code 551)" });
  });

  it('outside the messaging window (10/2018278) is permanent', async () => {
    fb.failNext({ method: 'messages', status: 400, code: 10, subcode: 2018278, description: '(#10) This message is sent outside of allowed window.' });
    expect(await failure(send())).toMatchObject({
      retryable: false,
      description: '(#10) This message is sent outside of allowed window. (code 10, subcode 2018278)',
    });
  });

  it('a bad token is permanent and never shown', async () => {
    const error = await failure(messengerAdapter.testConnection(ctx(), { ...credentials, page_access_token: 'EAAG-bad-token' }));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('EAAG-bad-token');
  });
});

describe('messenger setup', () => {
  it('testConnection calls /me', async () => {
    expect(await messengerAdapter.testConnection(ctx(), credentials)).toEqual({ ok: true, info: { id: credentials.page_id, name: 'GET INN Test Page' } });
    expect(fb.calls[0]?.path).toBe('/me');
  });
});
