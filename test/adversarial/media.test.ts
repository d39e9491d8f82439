/**
 * Media bombs and files users sent (CONTRACT.md §2 Tenancy and safety), played on the real stack:
 * images too large to decode, uploads past the bot's quota (one by one and racing), a deleted bot's
 * files, and the signed URLs of files users sent.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { urlSigner } from '../../src/media/signed-urls';
import { type FakeTelegram, startFakeTelegram, telegramRequest, telegramUpdate } from '../fakes';
import type { FakeS3 } from '../fakes/s3';
import { type S3MediaStack, startS3MediaStack } from '../media/s3-stack';
import { jpeg, pdf, png, receiptScenario } from '../media/files';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

/**
 * A valid PNG of 1-bit grey pixels: 16000×16000 (256 megapixels, a gigabyte as RGBA once decoded)
 * is some 30 KB, and is built here without decoding anything.
 */
function hugePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0 and black pixels, row after row
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 45 frames of 1000×1000: each frame is small, all of them together 45 megapixels. */
async function longAnimation(): Promise<Buffer> {
  const frame = (color: string) =>
    sharp({ create: { width: 1000, height: 1000, channels: 3, background: color } })
      .png()
      .toBuffer();
  const [dark, light] = await Promise.all([frame('#102030'), frame('#808080')]);
  // Alternating frames, so the encoder cannot fold them into one.
  return sharp(
    Array.from({ length: 45 }, (_, i) => (i % 2 ? light : dark)),
    { join: { animated: true } },
  )
    .webp({ effort: 0 })
    .toBuffer();
}

/** Every stored file under the media folder (the work folder of uploads in progress included). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const keyOfUrl = (url: string) => new URL(url).pathname.replace(/^\/media\//, '');
const pathAndQuery = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

describe.each(DB_KINDS)('media bombs, quotas and files users sent (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let mediaDir: string;
  let bomb: Buffer;
  let chat = 7100;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-adversarial-'));
    stack.config.mediaDir = mediaDir;
    bomb = hugePng(16_000, 16_000);
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });
  afterEach(() => {
    stack.config.mediaQuotaBytes = 1024 ** 3;
  });

  const newBot = (token: string, account = 'acme') => stack.createBot({ platform: 'telegram', credentials: { token }, scenario: receiptScenario, account });
  const upload = (bot: { id: string; headers: Record<string, string> }, bytes: Buffer, name: string) =>
    stack.http.post(`/v1/bots/${bot.id}/media`).set(bot.headers).attach('file', bytes, name);
  const mediaOf = async (bot: { headers: Record<string, string> }, id: string) => (await stack.http.get(`/v1/media/${id}`).set(bot.headers)).body;
  /** An upload once its processing workflow is done (files users send are processed as they are stored). */
  const processed = async (bot: { headers: Record<string, string> }, id: string) => {
    await stack.temporal.workflow.getHandle(`media:${id}`).result();
    return mediaOf(bot, id);
  };
  const mediaRows = (botId: string) => stack.db('media').where({ bot_id: botId });

  /** A user of the bot sends a photo (the receipt scenario asks for one); resolves once the bot answered. */
  const userSendsPhoto = async (bot: Awaited<ReturnType<typeof newBot>>, bytes: Buffer, name: string) => {
    chat += 1;
    const secret = bot.webhookSecret as string;
    const post = (req: ReturnType<typeof telegramRequest>) => stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);
    const before = tg.callsTo('sendMessage').length;
    await post(telegramUpdate({ updateId: chat * 10, chatId: chat, text: '/start', secret }));
    await tg.waitForCalls(before + 1, { method: 'sendMessage' }, 20_000);
    const photo = { file_id: tg.putFile(bytes, name), file_unique_id: `u${chat}`, width: 100, height: 100, file_size: bytes.length };
    const update = {
      update_id: chat * 10 + 1,
      message: { message_id: 2, date: 1764000000, chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'Eve' }, photo: [photo] },
    };
    const startedAt = Date.now();
    expect((await post(telegramRequest(update, secret))).status).toBe(200);
    const replies = await tg.waitForCalls(before + 2, { method: 'sendMessage' }, 30_000);
    const dialog = (await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers)).body;
    return { chat, reply: replies[before + 1].body.text as string, dialog, took: Date.now() - startedAt };
  };

  it('an upload of a 16000×16000 PNG (30 KB) is refused with 422 image_too_large from its header, and nothing is stored', async () => {
    const bot = await newBot('7100001:AAH-bomb');
    const startedAt = Date.now();
    const res = await upload(bot, bomb, 'tiny.png');
    expect(Date.now() - startedAt).toBeLessThan(5_000); // a header read, not a decode
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'image_too_large',
      details: { width: 16_000, height: 16_000, frames: 1, pixels: 256_000_000, limit: 40_000_000 },
    });
    expect(await mediaRows(bot.id)).toHaveLength(0);
    expect(filesUnder(mediaDir).filter((file) => file.includes(sha256(bomb)) || file.startsWith('.incoming/'))).toEqual([]);
  });

  it('an animated WebP whose 45 frames hold 45 megapixels together is refused, though each frame is 1', async () => {
    const bot = await newBot('7100002:AAH-anim');
    const res = await upload(bot, await longAnimation(), 'loop.webp');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'image_too_large', details: { width: 1000, height: 1000, frames: 45, pixels: 45_000_000 } });
    expect(await mediaRows(bot.id)).toHaveLength(0);
  });

  it('a 16000×16000 photo a user sends is kept but never decoded: no thumbnail, no copies, links only, and the dialog goes on', async () => {
    const bot = await newBot('7100003:AAH-incoming-bomb');
    const sent = await userSendsPhoto(bot, bomb, 'bomb.png');
    expect(sent.reply).toBe('Got it (image).');
    expect(sent.took).toBeLessThan(15_000); // did not stall the dialog; the proof is below
    const receipt = sent.dialog.collected_data.receipt;
    const record = await mediaOf(bot, receipt.media_id);
    expect(record).toMatchObject({ source: 'incoming', status: 'ready', width: 16_000, height: 16_000 });
    expect(record.thumbnail_url).toBeUndefined();
    const variants = await stack.db('media_variants').where({ media_id: receipt.media_id });
    expect(variants.length).toBeGreaterThan(0);
    expect(variants.every((v: { kind: string; storage_key: string | null }) => v.kind === 'link' && v.storage_key === null)).toBe(true);
    // Only the file itself is stored: no JPEG was made from it.
    expect(filesUnder(mediaDir).filter((file) => file.startsWith('private/') && file.endsWith('.jpg'))).toEqual([]);
  });

  it('uploads past MEDIA_QUOTA_BYTES are refused with 413 media_quota_exceeded {used, limit}, and the refused file is not kept', async () => {
    const bot = await newBot('7100004:AAH-quota');
    const files = ['menu-01', 'menu-02', 'menu-03'].map((text) => pdf(text));
    stack.config.mediaQuotaBytes = files[0].length * 2 + 10;
    expect((await upload(bot, files[0], 'a.pdf')).status).toBe(201);
    expect((await upload(bot, files[1], 'b.pdf')).status).toBe(201);
    // The same bytes again are the same record: they take no more room.
    expect((await upload(bot, files[1], 'b-again.pdf')).status).toBe(201);

    const refused = await upload(bot, files[2], 'c.pdf');
    expect(refused.status).toBe(413);
    expect(refused.body.error).toEqual({
      code: 'media_quota_exceeded',
      message: expect.any(String),
      details: { used: files[0].length * 2, limit: stack.config.mediaQuotaBytes },
    });
    expect(await mediaRows(bot.id)).toHaveLength(2);
    expect(filesUnder(mediaDir).filter((file) => file.includes(sha256(files[2])) || file.startsWith('.incoming/'))).toEqual([]);
  });

  it('eight uploads racing for room for three do not overshoot the quota, and the losers leave no file', async () => {
    const bot = await newBot('7100005:AAH-race');
    const files = Array.from({ length: 8 }, (_, i) => pdf(`race-${i}`));
    const size = files[0].length;
    expect(files.every((file) => file.length === size)).toBe(true);
    stack.config.mediaQuotaBytes = size * 3 + size / 2;

    const answers = await Promise.all(files.map((file, i) => upload(bot, file, `race-${i}.pdf`)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 413, 413, 413, 413, 413]);
    const rows = await mediaRows(bot.id);
    expect(rows.reduce((sum: number, row: { size: number | string }) => sum + Number(row.size), 0)).toBeLessThanOrEqual(stack.config.mediaQuotaBytes);
    const stored = filesUnder(mediaDir);
    files.forEach((file, i) => {
      const kept = stored.some((name) => name.includes(sha256(file)));
      expect(kept).toBe(answers[i].status === 201);
    });
  });

  it('a photo a user sends past the quota is not stored; an error event says so and the dialog goes on', async () => {
    const bot = await newBot('7100006:AAH-quota-incoming');
    stack.config.mediaQuotaBytes = 100;
    const photo = await jpeg(200, 150);
    const sent = await userSendsPhoto(bot, photo, 'receipt.jpg');
    expect(sent.reply).toBe('Got it (image).');
    expect(await mediaRows(bot.id)).toHaveLength(0);
    expect(filesUnder(mediaDir).some((file) => file.includes(sha256(photo)))).toBe(false);
    const event = await eventually(async () => {
      const rows = await stack.db('dialog_events').where({ bot_id: bot.id, kind: 'error' });
      return rows.find((row: { data: unknown }) => JSON.stringify(row.data).includes('quota'));
    });
    expect(JSON.stringify(event.data)).toContain('media_store_failed');
  });

  it('deleting a bot removes its media records and files, and keeps a file another bot holds the same bytes of', async () => {
    const doomed = await newBot('7100007:AAH-doomed');
    const survivor = await newBot('7100008:AAH-survivor');
    const shared = await png(300, 200);
    const own = await jpeg(310, 210);
    const sharedId = (await upload(doomed, shared, 'shared.png')).body.id;
    const ownId = (await upload(doomed, own, 'own.jpg')).body.id;
    const survivorId = (await upload(survivor, shared, 'shared.png')).body.id;
    await Promise.all([processed(doomed, sharedId), processed(doomed, ownId), processed(survivor, survivorId)]);
    const sent = await userSendsPhoto(doomed, await jpeg(90, 60), 'user.jpg');
    const userFile = await mediaOf(doomed, sent.dialog.collected_data.receipt.media_id);
    /** Originals, thumbnails and platform copies the bot's records refer to. */
    const keysOf = async (botId: string): Promise<string[]> => {
      const records = await stack.db('media').where({ bot_id: botId }).select('id', 'storage_key', 'thumbnail_key');
      const copies = await stack
        .db('media_variants')
        .whereIn(
          'media_id',
          records.map((r: { id: string }) => r.id),
        )
        .whereNotNull('storage_key')
        .pluck('storage_key');
      return [
        ...new Set([...records.flatMap((r: { storage_key: string; thumbnail_key: string }) => [r.storage_key, r.thumbnail_key]), ...copies].filter(Boolean)),
      ];
    };
    const doomedKeys = await keysOf(doomed.id);
    const survivorKeys = new Set(await keysOf(survivor.id));
    expect(doomedKeys.some((key) => key.startsWith('private/'))).toBe(true);
    for (const key of doomedKeys) expect(existsSync(path.join(mediaDir, key))).toBe(true);

    expect((await stack.http.delete(`/v1/bots/${doomed.id}?confirm=true`).set(doomed.headers)).status).toBe(200);

    expect(await mediaRows(doomed.id)).toHaveLength(0);
    expect(await stack.db('media_variants').whereIn('media_id', [sharedId, ownId, userFile.id])).toHaveLength(0);
    for (const key of doomedKeys) expect({ key, exists: existsSync(path.join(mediaDir, key)) }).toEqual({ key, exists: survivorKeys.has(key) });
    expect(doomedKeys.filter((key) => survivorKeys.has(key)).length).toBeGreaterThan(0);
    expect(doomedKeys.filter((key) => !survivorKeys.has(key)).length).toBeGreaterThan(0);
    for (const key of survivorKeys) expect((await stack.http.get(`/media/${key}`)).status).toBe(200);
  });

  describe('the URL of a file a user sent', () => {
    let bot: Awaited<ReturnType<typeof newBot>>;
    let sent: Awaited<ReturnType<typeof userSendsPhoto>>;
    let record: { url: string; thumbnail_url: string };
    let key: string;

    beforeAll(async () => {
      bot = await newBot('7100009:AAH-signed');
      // Larger than a thumbnail, so the thumbnail is a file of its own.
      sent = await userSendsPhoto(bot, await jpeg(800, 600), 'private.jpg');
      record = await mediaOf(bot, sent.dialog.collected_data.receipt.media_id);
      key = keyOfUrl(record.url);
    });

    it('is signed and expiring wherever the API gives it out, and served with it', async () => {
      expect(key).toMatch(/^private\//);
      for (const url of [record.url, record.thumbnail_url, sent.dialog.collected_data.receipt.url]) {
        expect(url).toMatch(/\?expires=\d+&signature=[\w-]+$/);
        const expires = Number(new URL(url).searchParams.get('expires'));
        expect(expires * 1000).toBeGreaterThan(Date.now() + 3_500_000);
        expect(expires * 1000).toBeLessThan(Date.now() + 3_900_000);
        const served = await stack.http.get(pathAndQuery(url));
        expect(served.status).toBe(200);
        expect(served.headers['content-type']).toBe('image/jpeg');
        expect(served.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
      }
      const history = await eventually(async () => {
        const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${sent.chat}/history?message_type=user`).set(bot.headers);
        return res.body.items?.find((item: { payload: { media?: unknown } }) => item.payload?.media);
      });
      expect((await stack.http.get(pathAndQuery(history.payload.media.url))).status).toBe(200);
      const exported = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${sent.chat}/export?format=json`).set(bot.headers).buffer(true);
      const exportedUrl = JSON.parse(exported.text).dialog.collected_data.receipt.url as string;
      expect((await stack.http.get(pathAndQuery(exportedUrl))).status).toBe(200);
    });

    it('without a signature, with a wrong one, or with one of another file is refused with 403 in the envelope', async () => {
      const valid = new URL(record.url);
      const attempts = [
        `/media/${key}`,
        `/media/${key}?expires=${valid.searchParams.get('expires')}`,
        `/media/${key}?expires=${valid.searchParams.get('expires')}&signature=${'A'.repeat(43)}`,
        `/media/${key}?expires=${Number(valid.searchParams.get('expires')) + 300}&signature=${valid.searchParams.get('signature')}`,
        `/media/${keyOfUrl(record.thumbnail_url)}?${valid.searchParams.toString()}`,
      ];
      for (const attempt of attempts) {
        const res = await stack.http.get(attempt);
        expect({ attempt, status: res.status }).toEqual({ attempt, status: 403 });
        expect(res.body.error).toMatchObject({ code: 'forbidden' });
      }
      // Nor is the file reachable under the public name shape.
      expect((await stack.http.get(`/media/${key.replace(/^private\//, '')}`)).status).toBe(404);
    });

    it('an expired signature is refused with 403', async () => {
      const signer = urlSigner(stack.config.encryptionKey);
      const expired = signer.query(key, Date.now() - 2 * 3600 * 1000);
      const res = await stack.http.get(`/media/${key}?${expired}`);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect((await stack.http.get(`/media/${key}?${signer.query(key, Date.now())}`)).status).toBe(200);
    });

    it('an operator of another bot who writes the URL into a dialog of theirs gets it back unsigned', async () => {
      const other = await newBot('7100010:AAH-other', 'rival');
      const otherChat = 7999;
      await stack.http.get(`/v1/bots/${other.id}/dialogs/telegram/${otherChat}`).set(other.headers);
      const state = (await stack.http.get(`/v1/bots/${other.id}/dialogs/telegram/${otherChat}`).set(other.headers)).body;
      const unsigned = record.url.split('?')[0];
      const put = await stack.http
        .put(`/v1/bots/${other.id}/dialogs/telegram/${otherChat}`)
        .set(other.headers)
        .send({ collected_data: { stolen: unsigned }, expected_version: state.version });
      expect(put.status).toBe(200);
      expect(put.body.collected_data.stolen).toBe(unsigned);
      expect((await stack.http.get(new URL(unsigned).pathname)).status).toBe(403);
    });

    it('operator uploads stay public, as platforms fetch them by URL', async () => {
      const uploaded = await upload(bot, await png(50, 50), 'menu.png');
      expect(uploaded.body.url).not.toContain('?');
      expect(keyOfUrl(uploaded.body.url)).not.toMatch(/^private\//);
      expect((await stack.http.get(new URL(uploaded.body.url).pathname)).status).toBe(200);
    });
  });
});

describe('deleting a bot whose media are in an S3 bucket', () => {
  let media: S3MediaStack;
  let s3: FakeS3;
  let stack: Stack;

  beforeAll(async () => {
    media = await startS3MediaStack();
    ({ s3, stack } = media);
  });
  afterAll(() => media.close());

  it('removes its objects from the bucket', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7100011:AAH-s3-doomed' }, scenario: receiptScenario });
    const uploaded = await stack.http
      .post(`/v1/bots/${bot.id}/media`)
      .set(bot.headers)
      .attach('file', await png(900, 700), 'terrace.png');
    expect(uploaded.status).toBe(201);
    await stack.temporal.workflow.getHandle(`media:${uploaded.body.id}`).result();
    expect(s3.objects.size).toBeGreaterThanOrEqual(2); // the original and its thumbnail at least

    expect((await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(bot.headers)).status).toBe(200);
    expect([...s3.objects.keys()]).toEqual([]);
  });
});
