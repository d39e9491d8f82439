import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FakeServer, type FakeTelegram, startFakeTelegram, startFakeWhatsApp, telegramUpdate, whatsappWebhook } from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import { gif, pdf, png, wav, webp } from './files';

const waCredentials = { phone_number_id: '106540352242922', access_token: 'EAAJB-media-token', app_secret: 'media-app-secret', verify_token: 'media-verify' };
const placeholder = { version: '1.0', name: 'Menu', start_step: 'hi', steps: { hi: { id: 'hi', type: 'message', message: { text: 'Hi' } } } };

/** A scenario that shows three pictures as an album, then a PDF and a sound. */
const menuScenario = (ids: Record<string, string>) => ({
  version: '1.0',
  name: 'Menu',
  start_step: 'menu',
  steps: {
    menu: {
      id: 'menu',
      type: 'message',
      message: {
        text: 'Our dishes',
        media: [
          { type: 'image', media_id: ids.png, caption: 'Borscht' },
          { type: 'image', media_id: ids.webp },
          { type: 'image', media_id: ids.gif },
        ],
      },
      next_step: 'more',
    },
    more: {
      id: 'more',
      type: 'message',
      message: {
        text: 'The full menu',
        media: [
          { type: 'document', media_id: ids.pdf },
          { type: 'audio', media_id: ids.wav },
        ],
      },
    },
  },
});

describe('sending uploaded media to the platforms', () => {
  let tg: FakeTelegram;
  let wa: FakeServer;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    wa = await startFakeWhatsApp({ phoneNumberId: waCredentials.phone_number_id, accessToken: waCredentials.access_token });
    stack = await startStack({ db: 'sqlite', apiBases: { telegram: tg.url, whatsapp: wa.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-send-'));
    stack.config.mediaDir = mediaDir;
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
    await wa.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  /** A bot on the platform whose active scenario shows freshly uploaded files; returns the media records. */
  const botWithMenu = async (platform: 'telegram' | 'whatsapp', credentials: Record<string, string>) => {
    const bot = await stack.createBot({ platform, credentials, scenario: placeholder });
    const files = {
      png: [await png(640, 480), 'borscht.png'],
      webp: [await webp(300, 200), 'pelmeni.webp'],
      gif: [await gif(), 'logo.gif'],
      pdf: [pdf(), 'menu.pdf'],
      wav: [wav(0.25), 'bell.wav'],
    } as const;
    const ids: Record<string, string> = {};
    const records: Record<string, { id: string; url: string }> = {};
    for (const [name, [bytes, filename]] of Object.entries(files)) {
      const res = await stack.http.post(`/v1/bots/${bot.id}/media`).set(bot.headers).attach('file', bytes, filename);
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
      records[name] = res.body;
      await stack.temporal.workflow.getHandle(`media:${res.body.id}`).result();
    }
    const scenario = await stack.http
      .post(`/v1/bots/${bot.id}/scenarios`)
      .set(bot.headers)
      .send({ name: 'main', scenario_data: menuScenario(ids) });
    expect(scenario.status).toBe(201);
    expect((await stack.http.post(`/v1/scenarios/${scenario.body.id}/activate`).set(bot.headers).send({ active: true })).status).toBe(200);
    const variant = async (name: string) => (await stack.http.get(`/v1/media/${ids[name]}?platform=${platform}`).set(bot.headers)).body;
    return { bot, ids, records, variant };
  };

  it('sends the pictures to Telegram as one album in order, then re-uses the file ids', async () => {
    const { bot, records, variant } = await botWithMenu('telegram', { token: '7000001:AAH-media-token' });
    const chat = 5001;
    const post = (updateId: number) => {
      const update = telegramUpdate({ updateId, chatId: chat, text: '/start', secret: bot.webhookSecret });
      return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    };
    expect((await post(1)).status).toBe(200);

    const [album] = await tg.waitForCalls(1, { method: 'sendMediaGroup' });
    const media = album.body.media as { type: string; media: string; caption?: string }[];
    expect(media.map((m) => m.type)).toEqual(['photo', 'photo', 'photo']);
    // PNG goes as it is; WebP and GIF go as the JPEG copies made for Telegram photos.
    expect(media[0]).toEqual({ type: 'photo', media: records.png.url, caption: 'Borscht' });
    expect(media[1].media).toBe((await variant('webp')).url);
    expect(media[1].media).toMatch(/\.jpg$/);
    expect(media[2].media).toBe((await variant('gif')).url);
    expect(media[2].media).toMatch(/\.jpg$/);

    // Documents by URL: Telegram takes PDF; the WAV goes as audio.
    const [document] = await tg.waitForCalls(1, { method: 'sendDocument' });
    expect(document.body.document).toBe(records.pdf.url);
    const [audio] = await tg.waitForCalls(1, { method: 'sendAudio' });
    expect(audio.body.audio).toBe(records.wav.url);

    // The second time, Telegram is given the file ids it returned instead of the URLs.
    const fileIds = await eventually(
      async () => {
        const rows = await stack.db('media_platform_files').whereIn(
          'media_id',
          Object.values(records).map((r) => r.id),
        );
        return rows.length === 5 ? rows : undefined;
      },
      15_000,
      'the remembered file ids',
    );
    expect(fileIds.every((row: { file_id: string }) => /^(photo|document|audio)-/.test(row.file_id))).toBe(true);
    expect((await post(2)).status).toBe(200);
    const albums = await tg.waitForCalls(2, { method: 'sendMediaGroup' });
    const again = albums[1].body.media as { media: string }[];
    expect(again.map((m) => m.media.split('-')[0])).toEqual(['photo', 'photo', 'photo']);
    const byId = new Map(fileIds.map((row: { media_id: string; file_id: string }) => [row.media_id, row.file_id]));
    expect(again[0].media).toBe(byId.get(records.png.id));
  });

  it('sends the same menu to WhatsApp one by one, and a WAV it refuses as a link', async () => {
    const { bot, records, variant } = await botWithMenu('whatsapp', waCredentials);
    const from = '16505551234';
    const hello = whatsappWebhook({ phoneNumberId: waCredentials.phone_number_id, from, id: 'wamid.media-1', text: 'hi', appSecret: waCredentials.app_secret });
    expect((await stack.http.post(`/v1/webhooks/whatsapp/${bot.id}`).set(hello.headers).send(hello.body)).status).toBe(200);

    const calls = await wa.waitForCalls(6, { method: 'messages' });
    const sent = calls
      .filter((c) => c.body.to === from)
      .map((c) => c.body as { type: string; image?: { link: string; caption?: string }; document?: { link: string }; text?: { body: string } });
    expect(sent.slice(0, 3).map((m) => m.type)).toEqual(['image', 'image', 'image']);
    expect(sent[0].image).toEqual({ link: records.png.url, caption: 'Borscht' });
    expect(sent[1].image?.link).toBe((await variant('webp')).url);
    expect(sent[1].image?.link).toMatch(/\.jpg$/);
    expect(sent[2].image?.link).toBe((await variant('gif')).url);
    expect(sent[3].text?.body).toBe('Our dishes');
    expect(sent[4]).toMatchObject({ type: 'document', document: { link: records.pdf.url } });
    // WhatsApp plays no WAV: the file goes as a link under the text.
    expect(sent[5].text?.body).toBe(`The full menu\n\n${records.wav.url}`);
    expect((await variant('wav')).variant).toEqual({ platform: 'whatsapp', kind: 'link' });
  });

  it('refuses a scenario naming a media id the bot does not have', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-media-token' }, scenario: placeholder });
    const res = await stack.http
      .post(`/v1/bots/${bot.id}/scenarios`)
      .set(bot.headers)
      .send({ name: 'main', scenario_data: menuScenario({ png: 'no-such-media', webp: 'x', gif: 'y', pdf: 'z', wav: 'w' }) });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/steps/menu/message/media/0/media_id' })]));
  });
});
