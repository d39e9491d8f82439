import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FakeTelegram, startFakeTelegram, telegramRequest, telegramUpdate } from '../fakes';
import { eventually, type Stack, startStack } from '../support/stack';
import { jpeg, receiptScenario } from './files';

describe('a photo a user sends', () => {
  let tg: FakeTelegram;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: 'sqlite', apiBases: { telegram: tg.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-incoming-'));
    stack.config.mediaDir = mediaDir;
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  it('is stored through the media pipeline before the step takes it, and kept in the history', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000003:AAH-incoming' }, scenario: receiptScenario });
    const secret = bot.webhookSecret as string;
    const chat = 3001;
    const post = (req: ReturnType<typeof telegramRequest>) => stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);

    await post(telegramUpdate({ updateId: 1, chatId: chat, text: '/start', secret }));
    await tg.waitForCalls(1, { method: 'sendMessage' }, 20_000);

    const bytes = await jpeg(120, 80);
    const fileId = tg.putFile(bytes, 'receipt.jpg');
    const photo = { file_id: fileId, file_unique_id: 'u1', width: 120, height: 80, file_size: bytes.length };
    const update = {
      update_id: 2,
      message: { message_id: 2, date: 1764000000, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'Anna' }, photo: [photo] },
    };
    expect((await post(telegramRequest(update, secret))).status).toBe(200);

    const replies = await tg.waitForCalls(2, { method: 'sendMessage' }, 20_000);
    expect(replies[1].body.text).toBe('Got it (image).');
    expect(tg.callsTo('getFile')).toHaveLength(1);

    const dialog = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    const receipt = dialog.body.collected_data.receipt;
    expect(receipt).toMatchObject({ type: 'image', mime: 'image/jpeg', platform_file_id: fileId });
    expect(receipt.media_id).not.toBe(fileId);

    const media = await stack.http.get(`/v1/media/${receipt.media_id}`).set(bot.headers);
    expect(media.status).toBe(200);
    expect(media.body).toMatchObject({ id: receipt.media_id, type: 'image', width: 120, height: 80, size: bytes.length });

    const history = await eventually(async () => {
      const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}/history?message_type=user`).set(bot.headers);
      return res.body.total >= 2 ? res.body.items : undefined;
    });
    expect(history[1].payload.media.media_id).toBe(receipt.media_id);
    // Stored once: the transcript reuses what the workflow stored.
    expect(tg.callsTo('downloadFile')).toHaveLength(1);
  });
});
