import { WebhookAuthError } from '../../src/platforms';
import { whatsappAdapter } from '../../src/platforms/whatsapp';
import { metaHandshakeQuery, metaRequest, signMeta, startFakeWhatsApp, toWebhookRequest, whatsappPayload, whatsappWebhook, type FakeServer } from '../fakes';
import { failure } from './failure';

const credentials = {
  phone_number_id: '106540352242922',
  access_token: 'EAAJB-whatsapp-access-token-secret',
  app_secret: 'whatsapp-app-secret-value',
  verify_token: 'verify-me-please',
};
const USER = '16505551234';

let wa: FakeServer;
beforeAll(async () => {
  wa = await startFakeWhatsApp({ phoneNumberId: credentials.phone_number_id, accessToken: credentials.access_token });
});
afterAll(() => wa.close());
beforeEach(() => wa.reset());

const ctx = () => ({ apiBase: wa.url });
const handle = (payload: object, secret: string | undefined = credentials.app_secret) =>
  whatsappAdapter.handleWebhook(toWebhookRequest(metaRequest(payload, secret)), credentials);
const messageOf = (message: object) =>
  handle(
    whatsappPayload(credentials.phone_number_id, {
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: USER }],
      messages: [{ from: USER, id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', timestamp: '1749416383', ...message }],
    }),
  ).messages[0];

describe('whatsapp webhook verification', () => {
  it('answers the subscription handshake with the challenge as plain text', () => {
    const result = whatsappAdapter.handleWebhook(
      toWebhookRequest({ body: '', rawBody: Buffer.alloc(0), headers: {} }, { method: 'GET', query: metaHandshakeQuery('verify-me-please', '1158201444') }),
      credentials,
    );
    expect(result).toEqual({ status: 200, body: '1158201444', headers: { 'content-type': 'text/plain; charset=utf-8' }, messages: [] });
  });

  it('refuses a handshake with the wrong verify token', () => {
    const request = toWebhookRequest({ body: '', rawBody: Buffer.alloc(0), headers: {} }, { method: 'GET', query: metaHandshakeQuery('guess') });
    expect(() => whatsappAdapter.handleWebhook(request, credentials)).toThrow(WebhookAuthError);
    const noMode = toWebhookRequest({ body: '', rawBody: Buffer.alloc(0), headers: {} }, { method: 'GET', query: {} });
    expect(() => whatsappAdapter.handleWebhook(noMode, credentials)).toThrow(WebhookAuthError);
  });

  it('accepts a correct X-Hub-Signature-256 and refuses a forged, a missing, or a tampered one', () => {
    const signed = whatsappWebhook({ phoneNumberId: credentials.phone_number_id, from: USER, text: 'hi', appSecret: credentials.app_secret });
    expect(whatsappAdapter.handleWebhook(toWebhookRequest(signed), credentials).messages).toHaveLength(1);

    const forged = whatsappWebhook({ phoneNumberId: credentials.phone_number_id, from: USER, text: 'hi', appSecret: 'other-secret' });
    expect(() => whatsappAdapter.handleWebhook(toWebhookRequest(forged), credentials)).toThrow(WebhookAuthError);
    const unsigned = whatsappWebhook({ phoneNumberId: credentials.phone_number_id, from: USER, text: 'hi' });
    expect(() => whatsappAdapter.handleWebhook(toWebhookRequest(unsigned), credentials)).toThrow(WebhookAuthError);
    const tampered = { ...signed, rawBody: Buffer.from(signed.body.replace('hi', 'ho')) };
    expect(() => whatsappAdapter.handleWebhook(toWebhookRequest(tampered), credentials)).toThrow(WebhookAuthError);
  });
});

describe('whatsapp normalization', () => {
  it('text → text input keyed by the wamid, chat = the wa_id', () => {
    expect(messageOf({ type: 'text', text: { body: 'Does it come in another color?' } })).toEqual({
      platform: 'whatsapp',
      chatId: USER,
      messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      user: { id: USER, name: 'Sheena Nelson' },
      input: { kind: 'text', text: 'Does it come in another color?' },
      sentAt: '2025-06-08T20:59:43.000Z',
      replyContext: { message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=' },
    });
    expect(messageOf({ type: 'text', text: { body: '/start' } })?.input).toEqual({ kind: 'command', command: 'start' });
  });

  it('reply buttons, list rows and template quick replies → button input', () => {
    expect(messageOf({ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: '18', title: '18:00' } } })?.input).toEqual({
      kind: 'button',
      value: '18',
      text: '18:00',
    });
    expect(
      messageOf({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'row-4', title: 'Four', description: 'd' } } })?.input,
    ).toEqual({ kind: 'button', value: 'row-4', text: 'Four' });
    expect(messageOf({ type: 'button', button: { payload: 'CONFIRM', text: 'Yes' } })?.input).toEqual({ kind: 'button', value: 'CONFIRM', text: 'Yes' });
  });

  it('media with id, mime and caption; location; contacts', () => {
    expect(messageOf({ type: 'image', image: { caption: 'Our table', mime_type: 'image/jpeg', sha256: 'abc', id: '1003383421387256' } })?.input).toEqual({
      kind: 'media',
      media: { type: 'image', media_id: '1003383421387256', mime: 'image/jpeg', caption: 'Our table' },
    });
    expect(messageOf({ type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'x', id: '42', voice: true } })?.input).toEqual({
      kind: 'media',
      media: { type: 'audio', media_id: '42', mime: 'audio/ogg; codecs=opus' },
    });
    expect(messageOf({ type: 'document', document: { filename: 'menu.pdf', mime_type: 'application/pdf', sha256: 'x', id: '43' } })?.input).toEqual({
      kind: 'media',
      media: { type: 'document', media_id: '43', mime: 'application/pdf' },
    });
    expect(messageOf({ type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'Philz', address: '3101 Middlefield' } })?.input).toEqual({
      kind: 'location',
      latitude: 37.48,
      longitude: -122.14,
    });
    expect(
      messageOf({
        type: 'contacts',
        contacts: [
          { name: { formatted_name: 'Anna Petrova', first_name: 'Anna' }, phones: [{ phone: '+1 650 555 1234', wa_id: '16505551234', type: 'CELL' }] },
        ],
      })?.input,
    ).toEqual({ kind: 'contact', phone: '+1 650 555 1234', name: 'Anna Petrova' });
  });

  it('statuses, reactions, stickers, unsupported messages and other numbers are acknowledged and ignored', () => {
    const statuses = whatsappPayload(credentials.phone_number_id, {
      statuses: [{ id: 'wamid.X', status: 'delivered', timestamp: '1750263773', recipient_id: USER, pricing: { billable: true } }],
    });
    expect(handle(statuses)).toEqual({ status: 200, messages: [] });
    expect(messageOf({ type: 'reaction', reaction: { message_id: 'wamid.Y', emoji: '👍' } })).toBeUndefined();
    expect(messageOf({ type: 'sticker', sticker: { mime_type: 'image/webp', id: '1', animated: false } })).toBeUndefined();
    expect(messageOf({ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] })).toBeUndefined();
    const otherNumber = whatsappPayload('999', { messages: [{ from: USER, id: 'wamid.Z', timestamp: '1', type: 'text', text: { body: 'x' } }] });
    expect(handle(otherNumber).messages).toEqual([]);
    expect(handle({ object: 'page', entry: [] })).toEqual({ status: 200, messages: [] });
  });

  it('a verified body that is not JSON is a 400', () => {
    const request = toWebhookRequest({ body: 'x', rawBody: Buffer.from('x'), headers: { 'x-hub-signature-256': signMeta('x', credentials.app_secret) } });
    expect(whatsappAdapter.handleWebhook(request, credentials)).toMatchObject({ status: 400, messages: [] });
  });
});

describe('whatsapp send', () => {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: USER };

  it('sends text with the token in the Authorization header only', async () => {
    const result = await whatsappAdapter.send(ctx(), credentials, USER, { text: 'Welcome!' });
    expect(wa.calls).toHaveLength(1);
    expect(wa.calls[0]?.path).toBe(`/${credentials.phone_number_id}/messages`);
    expect(wa.calls[0]?.headers.authorization).toBe(`Bearer ${credentials.access_token}`);
    expect(wa.calls[0]?.query).toEqual({});
    expect(wa.calls[0]?.body).toEqual({ ...base, type: 'text', text: { body: 'Welcome!', preview_url: false } });
    expect(result.messageIds[0]).toMatch(/^wamid\./);
  });

  it('shows typing on the message being answered, best effort', async () => {
    wa.failNext({ method: 'markRead', status: 500 });
    await whatsappAdapter.send(ctx(), credentials, USER, { text: 'Welcome!' }, { message_id: 'wamid.IN' });
    expect(wa.calls.map((call) => `${call.method}:${call.status}`)).toEqual(['markRead:500', 'messages:200']);
    expect(wa.calls[0]?.body).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.IN', typing_indicator: { type: 'text' } });
    expect(wa.calls[1]?.status).toBe(200);
  });

  it('up to three buttons → interactive reply buttons, titles cut to 20', async () => {
    await whatsappAdapter.send(ctx(), credentials, USER, {
      text: 'When?',
      buttons: [
        { text: '18:00', value: '18' },
        { text: '20:00 on the terrace by the river', value: '20' },
      ],
    });
    expect(wa.calls[0]?.body).toEqual({
      ...base,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'When?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: '18', title: '18:00' } },
            { type: 'reply', reply: { id: '20', title: '20:00 on the terrac…' } },
          ],
        },
      },
    });
    expect(wa.calls[0]?.status).toBe(200);
  });

  it('four to ten buttons → a list', async () => {
    const buttons = Array.from({ length: 12 }, (_, index) => ({ text: `Guests: ${index + 1}`, value: String(index + 1) }));
    await whatsappAdapter.send(ctx(), credentials, USER, { text: 'How many?', buttons });
    const interactive = (wa.calls[0]?.body as { interactive: { type: string; action: { button: string; sections: { rows: unknown[] }[] } } }).interactive;
    expect(interactive.type).toBe('list');
    expect(interactive.action.button).toBe('☰');
    expect(interactive.action.sections[0]?.rows).toHaveLength(10);
    expect(interactive.action.sections[0]?.rows[3]).toEqual({ id: '4', title: 'Guests: 4' });
    expect(wa.calls[0]?.status).toBe(200);
  });

  it('long text is split at 4096, and the part carrying buttons fits the 1024 body limit', async () => {
    const text = Array.from({ length: 900 }, (_, index) => `word${index}`).join(' ');
    await whatsappAdapter.send(ctx(), credentials, USER, { text, buttons: [{ text: 'OK', value: 'ok' }] });
    const bodies = wa.calls.map((call) => call.body as { type: string; text?: { body: string }; interactive?: { body: { text: string } } });
    expect(wa.calls.every((call) => call.status === 200)).toBe(true);
    expect(bodies.slice(0, -1).every((body) => body.type === 'text' && (body.text?.body.length ?? 0) <= 4096)).toBe(true);
    const last = bodies[bodies.length - 1];
    expect(last?.type).toBe('interactive');
    expect(last?.interactive?.body.text.length).toBeLessThanOrEqual(1024);
    expect([...bodies.slice(0, -1).map((body) => body.text?.body), last?.interactive?.body.text].join(' ')).toBe(text);
  });

  it('media one by one by link, then the text', async () => {
    await whatsappAdapter.send(ctx(), credentials, USER, {
      text: 'See you!',
      media: [
        { type: 'image', url: 'https://cdn.example/hall.jpg', caption: 'Hall' },
        { type: 'document', url: 'https://cdn.example/files/menu%20autumn.pdf' },
        { type: 'audio', url: 'https://cdn.example/hello.mp3', caption: 'Hello' },
      ],
    });
    expect(wa.calls.map((call) => call.body)).toEqual([
      { ...base, type: 'image', image: { link: 'https://cdn.example/hall.jpg', caption: 'Hall' } },
      { ...base, type: 'document', document: { link: 'https://cdn.example/files/menu%20autumn.pdf', filename: 'menu autumn.pdf' } },
      { ...base, type: 'audio', audio: { link: 'https://cdn.example/hello.mp3' } },
      { ...base, type: 'text', text: { body: 'Hello', preview_url: false } },
      { ...base, type: 'text', text: { body: 'See you!', preview_url: false } },
    ]);
  });

  it('media Meta cannot fetch falls back to a link', async () => {
    wa.failNext({ status: 400, code: 131053, description: '(#131053) Media upload error' });
    await whatsappAdapter.send(ctx(), credentials, USER, { media: [{ type: 'video', url: 'https://cdn.example/v.mp4', caption: 'Tour' }] });
    expect(wa.calls[1]?.body).toEqual({ ...base, type: 'text', text: { body: 'Tour\nhttps://cdn.example/v.mp4', preview_url: true } });
  });
});

describe('whatsapp errors', () => {
  const send = () => whatsappAdapter.send(ctx(), credentials, USER, { text: 'hi' });

  it('rate limits are retryable, with Retry-After when Meta gives one', async () => {
    wa.failNext({ status: 429, retryAfter: 4 });
    expect(await failure(send())).toMatchObject({ platform: 'whatsapp', status: 429, retryable: true, retryAfterSeconds: 4 });
    wa.failNext({ status: 400, code: 130429, description: '(#130429) Rate limit hit' });
    expect(await failure(send())).toMatchObject({ status: 400, retryable: true, description: '(#130429) Rate limit hit (code 130429)' });
  });

  it('5xx is retryable', async () => {
    wa.failNext({ status: 503 });
    expect(await failure(send())).toMatchObject({ status: 503, retryable: true });
  });

  it('outside the 24-hour window and undeliverable are permanent, with the description', async () => {
    wa.failNext({ status: 400, code: 131047, description: 'Re-engagement message' });
    const error = await failure(send());
    expect(error).toMatchObject({ retryable: false, description: 'Re-engagement message (code 131047)' });
    expect(error.message).toBe('whatsapp messages failed (400): Re-engagement message (code 131047)');
  });

  it('a bad token is permanent and never shown', async () => {
    const error = await failure(whatsappAdapter.send(ctx(), { ...credentials, access_token: 'EAAJB-wrong-token' }, USER, { text: 'hi' }));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.description).toMatch(/Invalid OAuth access token/);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('EAAJB-wrong-token');
  });
});

describe('whatsapp setup', () => {
  it('testConnection looks up the phone number', async () => {
    const result = await whatsappAdapter.testConnection(ctx(), credentials);
    expect(result).toEqual({
      ok: true,
      info: { id: credentials.phone_number_id, display_phone_number: '+1 555-078-3881', verified_name: 'GET INN Test', quality_rating: 'GREEN' },
    });
    expect(wa.calls[0]?.query).toEqual({ fields: 'display_phone_number,verified_name,quality_rating' });
    expect(JSON.stringify(result)).not.toContain(credentials.access_token);
  });
});
