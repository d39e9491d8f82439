import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EICAR, type FakeClamd, startFakeClamd } from '../fakes/clamd';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { elf, gif, jpeg, mp4, pdf, png, wav, webp } from './files';

const scenario = {
  version: '1.0',
  name: 'Hello',
  start_step: 'hi',
  steps: { hi: { id: 'hi', type: 'message', message: { text: 'Hi' } } },
};

/** Every file under the media folder but the work folder of uploads in progress. */
function storedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.parentPath.includes('.incoming'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe.each(DB_KINDS)('media upload and processing (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let clamd: FakeClamd;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let mediaDir: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    clamd = await startFakeClamd();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'media-'));
    stack.config.mediaDir = mediaDir;
    stack.config.clamdAddress = clamd.address;
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario });
  });
  afterAll(async () => {
    await stack.close();
    await clamd.close();
    await tg.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  const upload = (bytes: Buffer, filename: string, caption?: string, headers = bot.headers, botId = bot.id) => {
    const req = stack.http.post(`/v1/bots/${botId}/media`).set(headers).attach('file', bytes, filename);
    return caption ? req.field('caption', caption) : req;
  };
  const processed = async (id: string) => {
    await stack.temporal.workflow.getHandle(`media:${id}`).result();
    return (await stack.http.get(`/v1/media/${id}`).set(bot.headers)).body;
  };

  it('takes images, audio, video and a PDF, processes them and serves the files', async () => {
    const cases = [
      { bytes: await png(640, 480), name: 'dish.png', type: 'image', mime: 'image/png', width: 640, height: 480 },
      { bytes: await jpeg(320, 200), name: 'hall.jpg', type: 'image', mime: 'image/jpeg', width: 320, height: 200 },
      { bytes: await gif(), name: 'logo.gif', type: 'image', mime: 'image/gif', width: 40, height: 30 },
      { bytes: await webp(), name: 'dessert.webp', type: 'image', mime: 'image/webp', width: 80, height: 60 },
      { bytes: wav(0.5), name: 'jingle.wav', type: 'audio', mime: 'audio/wav', duration: 0.5 },
      // A bare ftyp + mvhd, no tracks: accepted and served; its duration is not read (music-metadata needs tracks).
      { bytes: mp4(), name: 'tour.mp4', type: 'video', mime: 'video/mp4' },
      { bytes: pdf(), name: 'menu.pdf', type: 'document', mime: 'application/pdf' },
    ];
    for (const c of cases) {
      const res = await upload(c.bytes, c.name, `the ${c.name}`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        type: c.type,
        mime: c.mime,
        size: c.bytes.length,
        caption: `the ${c.name}`,
        status: expect.stringMatching(/pending|ready/),
      });
      expect(res.body.sha256).toMatch(/^[0-9a-f]{64}$/);
      const done = await processed(res.body.id);
      expect(done.status).toBe('ready');
      if ('width' in c) {
        expect(done).toMatchObject({ width: c.width, height: c.height, thumbnail_url: expect.stringMatching(/\/media\/[0-9a-f]{2}\/[0-9a-f]{64}\.jpg$/) });
      }
      if ('duration' in c) expect(done.duration).toBeCloseTo(c.duration as number, 2);

      const file = await stack.http
        .get(new URL(done.url).pathname)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe(c.mime);
      expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(Buffer.compare(file.body as Buffer, c.bytes)).toBe(0);
    }
    // Every upload went past the scanner.
    expect(clamd.scans).toEqual(expect.arrayContaining(cases.map((c) => c.bytes.length)));

    const list = await stack.http.get(`/v1/bots/${bot.id}/media?type=image`).set(bot.headers);
    expect(list.body.total).toBe(4);
  });

  it('gives each platform a variant within its limits', async () => {
    const res = await upload(await webp(1200, 900), 'terrace.webp');
    await processed(res.body.id);
    const telegram = (await stack.http.get(`/v1/media/${res.body.id}?platform=telegram`).set(bot.headers)).body;
    expect(telegram).toMatchObject({ mime: 'image/jpeg', width: 1200, height: 900, variant: { platform: 'telegram', kind: 'converted' } });
    expect(telegram.url).toMatch(/\.jpg$/);
    const discord = (await stack.http.get(`/v1/media/${res.body.id}?platform=discord`).set(bot.headers)).body;
    expect(discord).toMatchObject({ mime: 'image/webp', variant: { kind: 'original' } });

    // Telegram photos: width + height at most 10000.
    const wide = await upload(await png(9000, 2000), 'panorama.png');
    expect(wide.status).toBe(201);
    await processed(wide.body.id);
    const fitted = (await stack.http.get(`/v1/media/${wide.body.id}?platform=telegram`).set(bot.headers)).body;
    expect(fitted.width + fitted.height).toBeLessThanOrEqual(10_000);
    expect(fitted.size).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(fitted.width / fitted.height).toBeCloseTo(4.5, 1);

    expect((await stack.http.get(`/v1/media/${res.body.id}?platform=icq`).set(bot.headers)).status).toBe(400);
  });

  it('returns the same record for the same bytes', async () => {
    const bytes = await png(33, 33);
    const first = await upload(bytes, 'a.png');
    const second = await upload(bytes, 'b.png');
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    await processed(first.body.id);
  });

  it('refuses a renamed executable and unknown bytes with 415', async () => {
    const res = await upload(elf(), 'photo.jpg');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect((await upload(Buffer.from('hello, just text'), 'menu.pdf')).status).toBe(415);
  });

  it('refuses an image over 10 MB with 413 and keeps nothing of it', async () => {
    const before = storedFiles(mediaDir).length;
    const big = Buffer.concat([await png(8, 8), Buffer.alloc(10 * 1024 * 1024 + 1)]);
    const res = await upload(big, 'huge.png');
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', details: { type: 'image', limit_bytes: 10 * 1024 * 1024 } });
    expect(storedFiles(mediaDir)).toHaveLength(before);
    expect(readdirSync(path.join(mediaDir, '.incoming'))).toEqual([]);
  });

  it('refuses an infected file with 422 and does not keep it', async () => {
    const before = storedFiles(mediaDir).length;
    const infected = Buffer.concat([pdf(), Buffer.from(`\n% ${EICAR}\n`)]);
    const res = await upload(infected, 'menu.pdf');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'media_infected', details: { signature: 'Win.Test.EICAR_HDB-1' } });
    expect(storedFiles(mediaDir)).toHaveLength(before);
  });

  it('answers 503 and keeps nothing while the scanner is unreachable', async () => {
    const before = storedFiles(mediaDir).length;
    const address = stack.config.clamdAddress;
    stack.config.clamdAddress = '127.0.0.1:1';
    try {
      const res = await upload(pdf('Closed today'), 'notice.pdf');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('scanner_unavailable');
    } finally {
      stack.config.clamdAddress = address;
    }
    expect(storedFiles(mediaDir)).toHaveLength(before);
  });

  it('hides media of other accounts (404) and lets viewers read but not upload', async () => {
    const res = await upload(await png(20, 20), 'x.png');
    await processed(res.body.id);
    const stranger = stack.auth('operator', ['other-account']);
    expect((await stack.http.get(`/v1/media/${res.body.id}`).set(stranger)).status).toBe(404);
    expect((await upload(await png(21, 21), 'y.png', undefined, stranger)).status).toBe(404);
    expect((await upload(await png(22, 22), 'y.png', undefined, stack.auth('viewer'))).status).toBe(403);
    expect((await stack.http.get(`/v1/media/${res.body.id}`).set(stack.auth('viewer'))).status).toBe(200);
  });

  it('serves nothing but content-addressed names', async () => {
    for (const bad of ['/media/../package.json', '/media/..%2F..%2Fpackage.json', '/media/ab/..%2F..%2F..%2Fetc%2Fpasswd', `/media/ab/${'c'.repeat(64)}.png`]) {
      expect((await stack.http.get(bad)).status).toBe(404);
    }
  });
});
