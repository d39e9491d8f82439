import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { mediaStorage } from '../../src/media';
import { s3Storage, type S3Settings } from '../../src/media/s3';
import { contentKey } from '../../src/media/storage';
import { type FakeS3, startFakeS3 } from '../fakes/s3';
import type { Stack } from '../support/stack';
import { S3_CREDENTIALS as credentials, type S3MediaStack, startS3MediaStack } from './s3-stack';
import { pdf, webp } from './files';

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('S3 storage', () => {
  let s3: FakeS3;
  let settings: S3Settings;

  beforeAll(async () => {
    s3 = await startFakeS3({ bucket: 'media', ...credentials });
    settings = { bucket: 'media', endpoint: s3.url, region: 'us-east-1', ...credentials };
  });
  afterAll(() => s3.close());

  it('writes a large file in parts from a stream, reads it back as a stream, and deletes it', async () => {
    // 12 MiB produced in 64 KiB pieces: more than two 5 MiB parts.
    const piece = Buffer.alloc(64 * 1024);
    const pieces = 192;
    const whole = Buffer.concat(Array.from({ length: pieces }, (_, i) => piece.fill(i % 251)));
    const key = contentKey(sha256(whole), 'mp4');
    const storage = s3Storage(settings, 'https://bots.example.com');

    await storage.put(
      key,
      Readable.from(
        (function* () {
          for (let i = 0; i < pieces; i += 1) yield whole.subarray(i * piece.length, (i + 1) * piece.length);
        })(),
      ),
      'video/mp4',
    );

    expect(s3.callsTo('UploadPart')).toHaveLength(3);
    expect(s3.callsTo('CompleteMultipartUpload')).toEqual([expect.objectContaining({ status: 200, key })]);
    expect(s3.objects.get(key)).toMatchObject({ contentType: 'video/mp4', cacheControl: 'public, max-age=31536000, immutable' });
    for (const call of s3.calls)
      expect(call.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/\\d{8}/us-east-1/s3/aws4_request,`));

    const read = await storage.get(key);
    expect(read?.size).toBe(whole.length);
    expect(read?.body).toBeInstanceOf(Readable);
    expect(Buffer.compare(await readAll(read?.body as Readable), whole)).toBe(0);

    await storage.delete(key);
    expect(s3.objects.has(key)).toBe(false);
    expect(await storage.get(key)).toBeNull();
    expect(s3.calls.at(-1)).toMatchObject({ operation: 'GetObject', status: 404 });
  });

  it('puts a small file in one request and names public URLs from S3_PUBLIC_URL or the API', async () => {
    const bytes = pdf('Wine list');
    const key = contentKey(sha256(bytes), 'pdf');
    const storage = s3Storage({ ...settings, publicUrl: 'https://cdn.example.com/menus/' }, 'https://bots.example.com');
    await storage.put(key, Readable.from([bytes]), 'application/pdf');
    expect(s3.callsTo('PutObject').at(-1)).toMatchObject({ key, status: 200 });
    expect(s3.objects.get(key)?.body.equals(bytes)).toBe(true);
    expect(storage.url(key)).toBe(`https://cdn.example.com/menus/${key}`);
    expect(s3Storage(settings, 'https://bots.example.com').url(key)).toBe(`https://bots.example.com/media/${key}`);
    expect(() => storage.url('../secrets.txt')).toThrow('not a media storage key');
  });

  it('fails loudly on a wrong secret or a missing bucket', async () => {
    const key = contentKey('ab'.repeat(32), 'jpg');
    await expect(s3Storage({ ...settings, secretAccessKey: 'not-the-secret' }, 'http://x').get(key)).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    const elsewhere = s3Storage({ ...settings, bucket: 'elsewhere' }, 'http://x');
    await expect(elsewhere.put(key, Readable.from([Buffer.from('x')]), 'image/jpeg')).rejects.toMatchObject({ name: 'NoSuchBucket' });
    // Not "no such file": a missing bucket is a configuration error.
    await expect(elsewhere.get(key)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});

describe('media in an S3 bucket through the API', () => {
  let media: S3MediaStack;
  let s3: FakeS3;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    media = await startS3MediaStack();
    ({ s3, stack, mediaDir } = media);
  });
  afterAll(() => media.close());

  it('stores the upload, its thumbnail and platform variants in the bucket and serves them from it', async () => {
    const bot = await stack.createBot({
      platform: 'telegram',
      credentials: { token: '7000005:AAH-s3' },
      scenario: { version: '1.0', start_step: 'hi', steps: { hi: { id: 'hi', type: 'message', message: { text: 'Hi' } } } },
    });
    const bytes = await webp(1200, 900);
    const uploaded = await stack.http.post(`/v1/bots/${bot.id}/media`).set(bot.headers).attach('file', bytes, 'terrace.webp');
    expect(uploaded.status).toBe(201);
    await stack.temporal.workflow.getHandle(`media:${uploaded.body.id}`).result();

    const record = (await stack.http.get(`/v1/media/${uploaded.body.id}`).set(bot.headers)).body;
    expect(record).toMatchObject({ status: 'ready', type: 'image', mime: 'image/webp', width: 1200, height: 900 });
    const originalKey = contentKey(sha256(bytes), 'webp');
    expect(record.url).toBe(`${stack.config.publicBaseUrl}/media/${originalKey}`);
    const telegram = (await stack.http.get(`/v1/media/${uploaded.body.id}?platform=telegram`).set(bot.headers)).body;
    expect(telegram).toMatchObject({ mime: 'image/jpeg', variant: { kind: 'converted' } });

    const keyOf = (url: string) => new URL(url).pathname.replace(/^\/media\//, '');
    const stored = [originalKey, keyOf(record.thumbnail_url), keyOf(telegram.url)];
    expect(new Set(stored).size).toBe(3);
    for (const key of stored) expect(s3.objects.has(key)).toBe(true);
    expect(s3.objects.get(originalKey)).toMatchObject({ contentType: 'image/webp' });
    expect(s3.objects.get(originalKey)?.body.equals(bytes)).toBe(true);
    expect(s3.objects.get(keyOf(telegram.url))).toMatchObject({ contentType: 'image/jpeg' });

    // Nothing but the work folder of uploads in progress is kept on local disk.
    const local = existsSync(mediaDir) ? readdirSync(mediaDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()) : [];
    expect(local).toEqual([]);

    const served = await stack.http
      .get(`/media/${originalKey}`)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/webp');
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Buffer.compare(served.body as Buffer, bytes)).toBe(0);
    expect(s3.callsTo('GetObject').at(-1)).toMatchObject({ key: originalKey, status: 200 });

    // With a public bucket URL the API hands that out instead of its own /media path.
    stack.config.s3 = { ...(stack.config.s3 as S3Settings), publicUrl: 'https://cdn.example.com/bot-media' };
    const viaCdn = (await stack.http.get(`/v1/media/${uploaded.body.id}`).set(bot.headers)).body;
    expect(viaCdn.url).toBe(`https://cdn.example.com/bot-media/${originalKey}`);

    await mediaStorage(stack.config).delete(originalKey);
    expect(s3.objects.has(originalKey)).toBe(false);
    expect((await stack.http.get(`/media/${originalKey}`)).status).toBe(404);
  });
});

describe('S3 configuration', () => {
  const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };

  it('selects the bucket when S3_BUCKET is set, with us-east-1 by default', () => {
    expect(loadConfig(base).s3).toBeUndefined();
    expect(
      loadConfig({ ...base, S3_BUCKET: 'bot-media', S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_ACCESS_KEY_ID: 'minio', S3_SECRET_ACCESS_KEY: 'minio-secret' })
        .s3,
    ).toEqual({
      bucket: 'bot-media',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accessKeyId: 'minio',
      secretAccessKey: 'minio-secret',
    });
  });

  it('names each wrong value on its own line', () => {
    expect(() => loadConfig({ ...base, S3_BUCKET: 'Bot_Media', S3_ENDPOINT: 'minio:9000', S3_PUBLIC_URL: 'cdn' })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^S3_BUCKET: expected a bucket name/),
          expect.stringMatching(/^S3_ENDPOINT: expected an http\(s\) URL/),
          expect.stringMatching(/^S3_PUBLIC_URL: expected an http\(s\) URL/),
        ],
      }),
    );
    expect(() => loadConfig({ ...base, S3_BUCKET: 'bot-media', S3_ACCESS_KEY_ID: 'minio' })).toThrow(
      expect.objectContaining({ problems: ["S3_SECRET_ACCESS_KEY: required with S3_ACCESS_KEY_ID (or unset both for the SDK's default credentials)"] }),
    );
    expect(() => loadConfig({ ...base, S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(
      expect.objectContaining({ problems: ['S3_ENDPOINT: set S3_BUCKET too (without it media stay in MEDIA_DIR)'] }),
    );
  });
});
