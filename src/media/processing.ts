import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseStream } from 'music-metadata';
import sharp from 'sharp';
import { PLATFORMS, type PlatformName } from '../platforms/types';
import { MIME_BY_EXT } from './formats';
import { fitsAsIs, imageFits, type ImageRule, PLATFORM_MEDIA_RULES } from './limits';
import { DECODE_OPTIONS, isTooLarge, readImageHeader } from './pixels';
import type { MediaRepository, MediaRow, VariantRow } from './repository';
import { contentKey, isPrivateKey, type MediaStorage, type Visibility } from './storage';

export const THUMBNAIL_SIDE = 320;

/** Processing cannot succeed on another attempt (the bytes are not what they claimed to be). */
export class UnprocessableMediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnprocessableMediaError';
  }
}

interface Stored {
  key: string;
  size: number;
}

async function readAll(storage: MediaStorage, key: string): Promise<Buffer> {
  const file = await storage.get(key);
  if (!file) throw new Error(`media file ${key} is missing from storage`);
  const chunks: Buffer[] = [];
  for await (const chunk of file.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Copies made of a file a user sent are as private as the file. */
const visibilityOf = (media: MediaRow): Visibility => (isPrivateKey(media.storage_key) ? 'private' : 'public');

async function putBuffer(storage: MediaStorage, data: Buffer, ext: string, visibility: Visibility): Promise<Stored> {
  const key = contentKey(createHash('sha256').update(data).digest('hex'), ext, visibility);
  await storage.put(key, Readable.from([data]), MIME_BY_EXT[ext] ?? 'application/octet-stream');
  return { key, size: data.length };
}

/**
 * A JPEG within the rule: scaled down to its side and sum limits, then re-encoded at falling
 * quality and, if still too large, smaller, until it fits the byte limit.
 */
export async function fitImage(data: Buffer, rule: ImageRule, width: number, height: number): Promise<{ data: Buffer; width: number; height: number } | null> {
  if (rule.maxRatio !== undefined && Math.max(width, height) / Math.max(1, Math.min(width, height)) > rule.maxRatio) return null;
  let scale = 1;
  if (rule.maxSide !== undefined) scale = Math.min(scale, rule.maxSide / Math.max(width, height));
  if (rule.maxSum !== undefined) scale = Math.min(scale, rule.maxSum / (width + height));
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const w = Math.max(1, Math.floor(width * scale));
    const h = Math.max(1, Math.floor(height * scale));
    for (const quality of [85, 70, 55]) {
      const out = await sharp(data, DECODE_OPTIONS)
        .rotate()
        .resize(w, h, { fit: 'fill' })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality, mozjpeg: true })
        .toBuffer();
      if (out.length <= rule.maxBytes) return { data: out, width: w, height: h };
    }
    scale *= 0.75;
  }
  return null;
}

async function imageVariants(storage: MediaStorage, media: MediaRow, data: Buffer, width: number, height: number) {
  const variants: Omit<VariantRow, 'media_id'>[] = [];
  const made = new Map<string, { stored: Stored; width: number; height: number } | null>();
  for (const platform of PLATFORMS) {
    const rule = PLATFORM_MEDIA_RULES[platform].image;
    if (imageFits(rule, media.mime, media.size, width, height)) {
      variants.push({ platform, kind: 'original', storage_key: media.storage_key, mime: media.mime, size: media.size, width, height });
      continue;
    }
    // Platforms with the same limits share one converted copy.
    const signature = JSON.stringify([rule.maxBytes, rule.maxSide, rule.maxSum, rule.maxRatio]);
    if (!made.has(signature)) {
      const fitted = await fitImage(data, rule, width, height);
      made.set(
        signature,
        fitted ? { stored: await putBuffer(storage, fitted.data, 'jpg', visibilityOf(media)), width: fitted.width, height: fitted.height } : null,
      );
    }
    const copy = made.get(signature);
    variants.push(
      copy
        ? { platform, kind: 'converted', storage_key: copy.stored.key, mime: 'image/jpeg', size: copy.stored.size, width: copy.width, height: copy.height }
        : { platform, kind: 'link', storage_key: null, mime: null, size: null, width: null, height: null },
    );
  }
  return variants;
}

/** Every platform gets a link: what an image too large to decode is sent as. */
const linkVariants = (): Omit<VariantRow, 'media_id'>[] =>
  PLATFORMS.map((platform) => ({ platform, kind: 'link', storage_key: null, mime: null, size: null, width: null, height: null }));

function fileVariants(media: MediaRow): Omit<VariantRow, 'media_id'>[] {
  return PLATFORMS.map((platform: PlatformName) => {
    const rule = PLATFORM_MEDIA_RULES[platform][media.type as 'video' | 'audio' | 'document'];
    return fitsAsIs(rule, media.mime, media.size)
      ? { platform, kind: 'original' as const, storage_key: media.storage_key, mime: media.mime, size: media.size, width: media.width, height: media.height }
      : { platform, kind: 'link' as const, storage_key: null, mime: null, size: null, width: null, height: null };
  });
}

/**
 * How long the container parser may read. Files are within the upload limits (50 MB at most), but
 * a crafted container must not hold a worker's activity slot for minutes.
 */
const METADATA_TIMEOUT_MS = 10_000;

/** Duration in seconds of audio or video, where the container says it. */
async function playbackDuration(storage: MediaStorage, media: MediaRow): Promise<number | null> {
  const file = await storage.get(media.storage_key);
  if (!file) throw new Error(`media file ${media.storage_key} is missing from storage`);
  const timer = setTimeout(() => file.body.destroy(new Error('metadata took too long')), METADATA_TIMEOUT_MS);
  try {
    const meta = await parseStream(file.body, { mimeType: media.mime, size: file.size }, { duration: true, skipCovers: true });
    const seconds = meta.format.duration;
    return seconds !== undefined && Number.isFinite(seconds) ? Math.round(seconds * 1000) / 1000 : null;
  } catch {
    // Metadata is a courtesy: a file that plays but whose container the parser does not know stays usable.
    return null;
  } finally {
    clearTimeout(timer);
    file.body.destroy();
  }
}

/**
 * Metadata, thumbnail and one variant per platform, then the record is `ready`. Safe to run again:
 * files are content-addressed and the variants are replaced as a whole.
 */
export async function processMedia(repo: MediaRepository, storage: MediaStorage, mediaId: string): Promise<MediaRow> {
  const media = await repo.get(mediaId);
  if (!media) throw new UnprocessableMediaError(`media ${mediaId} does not exist`);
  if (media.status === 'ready') return media;

  if (media.type === 'image') {
    const data = await readAll(storage, media.storage_key);
    const header = await readImageHeader(data);
    if (!header) throw new UnprocessableMediaError('the image cannot be decoded: its header is unreadable');
    const { width, height } = header;
    if (isTooLarge(header)) {
      // Kept (a file a user sent), never decoded: no thumbnail, and platforms get a link.
      await repo.markReady(media.id, { width, height, duration: null, thumbnail_key: null, variants: linkVariants() });
      return (await repo.get(media.id)) as MediaRow;
    }
    const thumbnail = await sharp(data, DECODE_OPTIONS)
      .rotate()
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80 })
      .toBuffer();
    const thumb = await putBuffer(storage, thumbnail, 'jpg', visibilityOf(media));
    const variants = await imageVariants(storage, media, data, width, height);
    await repo.markReady(media.id, { width, height, duration: null, thumbnail_key: thumb.key, variants });
  } else {
    const duration = media.type === 'audio' || media.type === 'video' ? await playbackDuration(storage, media) : null;
    await repo.markReady(media.id, { width: null, height: null, duration, thumbnail_key: null, variants: fileVariants(media) });
  }
  return (await repo.get(media.id)) as MediaRow;
}
