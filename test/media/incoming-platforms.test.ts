import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type FakeMessenger,
  type FakeWhatsApp,
  messengerPayload,
  messengerWebhook,
  metaRequest,
  type SignedRequest,
  startFakeMessenger,
  startFakeWhatsApp,
  whatsappPayload,
  whatsappWebhook,
} from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import { jpeg, pdf, receiptScenario } from './files';

const wa = { phone_number_id: '106540352242922', access_token: 'EAAJB-incoming-token', app_secret: 'wa-app-secret', verify_token: 'wa-verify' };
const ms = { page_id: '104560000000001', page_access_token: 'EAAG-incoming-token', app_secret: 'ms-app-secret', verify_token: 'ms-verify' };

describe('files users send on WhatsApp and Messenger', () => {
  let whatsapp: FakeWhatsApp;
  let messenger: FakeMessenger;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    whatsapp = await startFakeWhatsApp({ phoneNumberId: wa.phone_number_id, accessToken: wa.access_token });
    messenger = await startFakeMessenger({ pageId: ms.page_id, pageAccessToken: ms.page_access_token });
    stack = await startStack({ db: 'sqlite', apiBases: { whatsapp: whatsapp.url, messenger: messenger.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-incoming-platforms-'));
    stack.config.mediaDir = mediaDir;
    stack.config.fileSources = { ...stack.config.fileSources, messenger: [new URL(messenger.url).hostname] };
  });
  afterAll(async () => {
    await stack.close();
    await whatsapp.close();
    await messenger.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  async function dialogOf(bot: Awaited<ReturnType<Stack['createBot']>>, platform: string, chat: string) {
    return (await stack.http.get(`/v1/bots/${bot.id}/dialogs/${platform}/${chat}`).set(bot.headers)).body;
  }
  async function userHistory(bot: Awaited<ReturnType<Stack['createBot']>>, platform: string, chat: string) {
    return eventually(async () => {
      const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/${platform}/${chat}/history?message_type=user`).set(bot.headers);
      return res.body.total >= 2 ? res.body.items : undefined;
    });
  }

  it('WhatsApp: the image is fetched by its media id with the bearer token and stored before the step takes it', async () => {
    const bot = await stack.createBot({ platform: 'whatsapp', credentials: wa, scenario: receiptScenario });
    const chat = '16505551234';
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/whatsapp/${bot.id}`).set(req.headers).send(req.body);

    await post(whatsappWebhook({ phoneNumberId: wa.phone_number_id, from: chat, text: '/start', appSecret: wa.app_secret }));
    await whatsapp.waitForCalls(1, { method: 'messages' }, 20_000);

    const bytes = await jpeg(90, 60);
    const mediaId = whatsapp.putMedia(bytes, 'image/jpeg');
    const image = { id: mediaId, mime_type: 'image/jpeg', sha256: 'c2hhMjU2', caption: 'lunch' };
    const message = { from: chat, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTk', timestamp: String(Math.floor(Date.now() / 1000)), type: 'image', image };
    const payload = whatsappPayload(wa.phone_number_id, { contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: chat }], messages: [message] });
    expect((await post(metaRequest(payload, wa.app_secret))).status).toBe(200);

    const replies = await whatsapp.waitForCalls(2, { method: 'messages' }, 20_000);
    expect((replies[1].body.text as { body: string }).body).toBe('Got it (image).');
    const [lookup] = whatsapp.callsTo('getMedia');
    expect(lookup).toMatchObject({ path: `/${mediaId}`, status: 200, headers: expect.objectContaining({ authorization: `Bearer ${wa.access_token}` }) });
    const downloads = whatsapp.callsTo('downloadMedia');
    expect(downloads).toEqual([expect.objectContaining({ status: 200, headers: expect.objectContaining({ authorization: `Bearer ${wa.access_token}` }) })]);

    const receipt = (await dialogOf(bot, 'whatsapp', chat)).collected_data.receipt;
    expect(receipt).toMatchObject({ type: 'image', mime: 'image/jpeg', caption: 'lunch', platform_file_id: mediaId });
    expect(receipt.media_id).not.toBe(mediaId);
    const media = await stack.http.get(`/v1/media/${receipt.media_id}`).set(bot.headers);
    expect(media.body).toMatchObject({ id: receipt.media_id, source: 'incoming', type: 'image', width: 90, height: 60, size: bytes.length, caption: 'lunch' });
    expect(receipt.url).toBe(media.body.url);

    const history = await userHistory(bot, 'whatsapp', chat);
    expect(history[1].payload.media.media_id).toBe(receipt.media_id);
    // Stored once: the transcript reuses what the workflow stored.
    expect(whatsapp.callsTo('getMedia')).toHaveLength(1);
  });

  it('Messenger: the attachment is downloaded from its payload URL, without the page token, and stored', async () => {
    const bot = await stack.createBot({ platform: 'messenger', credentials: ms, scenario: receiptScenario });
    const psid = '6543210987654321';
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/messenger/${bot.id}`).set(req.headers).send(req.body);

    await post(messengerWebhook({ pageId: ms.page_id, psid, text: '/start', appSecret: ms.app_secret }));
    await messenger.waitForCalls(1, { method: 'messages' }, 20_000);

    const bytes = pdf('Receipt 42');
    const url = messenger.putAttachment(bytes, 'receipt 42.pdf');
    const event = {
      sender: { id: psid },
      recipient: { id: ms.page_id },
      timestamp: Date.now(),
      message: { mid: 'm_file1', attachments: [{ type: 'file', payload: { url } }] },
    };
    expect((await post(metaRequest(messengerPayload(ms.page_id, [event]), ms.app_secret))).status).toBe(200);

    const replies = await messenger.waitForCalls(2, { method: 'messages' }, 20_000);
    expect((replies[1].body.message as { text: string }).text).toBe('Got it (document).');
    const downloads = messenger.callsTo('downloadAttachment');
    expect(downloads).toHaveLength(1);
    expect(downloads[0]?.status).toBe(200);
    expect(downloads[0]?.headers.authorization).toBeUndefined();

    const receipt = (await dialogOf(bot, 'messenger', psid)).collected_data.receipt;
    expect(receipt).toMatchObject({ type: 'document', mime: 'application/pdf', platform_url: url });
    expect(receipt.media_id).toEqual(expect.any(String));
    expect(receipt.url).not.toBe(url);
    const media = await stack.http.get(`/v1/media/${receipt.media_id}`).set(bot.headers);
    expect(media.body).toMatchObject({ id: receipt.media_id, source: 'incoming', type: 'document', size: bytes.length, status: 'ready' });
    // A file a user sent is served only at its signed URL (docs/media.md).
    const signed = new URL(media.body.url);
    const served = await stack.http.get(`${signed.pathname}${signed.search}`);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('application/pdf');

    const history = await userHistory(bot, 'messenger', psid);
    expect(history[1].payload.media).toMatchObject({ media_id: receipt.media_id, platform_url: url });
    expect(messenger.callsTo('downloadAttachment')).toHaveLength(1);
  });

  it("Messenger: a URL off Meta's CDN hosts is not fetched", async () => {
    const bot = await stack.createBot({ platform: 'messenger', credentials: ms, scenario: receiptScenario });
    const psid = '6543210987654323';
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/messenger/${bot.id}`).set(req.headers).send(req.body);
    messenger.reset();

    await post(messengerWebhook({ pageId: ms.page_id, psid, text: '/start', appSecret: ms.app_secret }));
    await messenger.waitForCalls(1, { method: 'messages' }, 20_000);

    // The same server under a host name that is not on the list.
    const url = messenger.putAttachment(await jpeg(30, 30), 'photo.jpg').replace('//127.0.0.1:', '//localhost:');
    const event = {
      sender: { id: psid },
      recipient: { id: ms.page_id },
      timestamp: Date.now(),
      message: { mid: 'm_file3', attachments: [{ type: 'image', payload: { url } }] },
    };
    expect((await post(metaRequest(messengerPayload(ms.page_id, [event]), ms.app_secret))).status).toBe(200);

    await messenger.waitForCalls(2, { method: 'messages' }, 20_000);
    expect((await dialogOf(bot, 'messenger', psid)).collected_data.receipt).toEqual({ type: 'image', url });
    const history = await userHistory(bot, 'messenger', psid);
    expect(history[1].payload.store_error).toBe("The file is not on messenger's file host (127.0.0.1), so it was not downloaded.");
    expect(messenger.callsTo('downloadAttachment')).toEqual([]);
  });

  it('Messenger: a URL the CDN refuses leaves the platform URL in the step and the store error in the history', async () => {
    const bot = await stack.createBot({ platform: 'messenger', credentials: ms, scenario: receiptScenario });
    const psid = '6543210987654322';
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/messenger/${bot.id}`).set(req.headers).send(req.body);
    messenger.reset();

    await post(messengerWebhook({ pageId: ms.page_id, psid, text: '/start', appSecret: ms.app_secret }));
    await messenger.waitForCalls(1, { method: 'messages' }, 20_000);

    // The signature (`oh`) stripped: the CDN answers 403.
    const url = messenger.putAttachment(await jpeg(30, 30), 'photo.jpg').replace(/&oh=[0-9a-f]+/, '');
    const event = {
      sender: { id: psid },
      recipient: { id: ms.page_id },
      timestamp: Date.now(),
      message: { mid: 'm_file2', attachments: [{ type: 'image', payload: { url } }] },
    };
    expect((await post(metaRequest(messengerPayload(ms.page_id, [event]), ms.app_secret))).status).toBe(200);

    const replies = await messenger.waitForCalls(2, { method: 'messages' }, 20_000);
    expect((replies[1].body.message as { text: string }).text).toBe('Got it (image).');
    const receipt = (await dialogOf(bot, 'messenger', psid)).collected_data.receipt;
    expect(receipt).toEqual({ type: 'image', url });

    const history = await userHistory(bot, 'messenger', psid);
    expect(history[1].payload.store_error).toMatch(/messenger downloadAttachment failed \(403\)/);
    // A refusal is final: one try before the step, no retries; the record keeps that try's error.
    expect(messenger.callsTo('downloadAttachment').map((call) => call.status)).toEqual([403]);
  });
});
