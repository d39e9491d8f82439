import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, unprocessable } from '../errors';
import { scanStream, ScannerUnavailableError } from './clamd';
import { isProvisional, MAX_UPLOAD_BYTES, type MediaFormat, SIZE_LIMITS, sniffFile, sniffHead, SNIFF_BYTES } from './formats';
import { imageTooLarge, isTooLarge, readImageHeader } from './pixels';
import { QuotaExceededError, type MediaRepository, type MediaRow, type MediaSource } from './repository';
import { contentKey, type MediaStorage } from './storage';

const MB = 1024 * 1024;

export const ACCEPTED_TEXT = 'JPEG, PNG, GIF, WebP, MP4, MOV, MP3, OGG, WAV, PDF, DOC or DOCX';

export const unsupportedMedia = (what: string) =>
  new AppError(415, 'unsupported_media_type', `${what} is not an accepted media type; send ${ACCEPTED_TEXT}.`, {
    accepted: ACCEPTED_TEXT.replace(' or ', ', ').split(', '),
  });

export const tooLarge = (type: string, limit: number) =>
  new AppError(413, 'payload_too_large', `The ${type} is larger than the ${limit / MB} MB limit for ${type} files.`, { type, limit_bytes: limit });

export const quotaExceeded = (used: number, limit: number) =>
  new AppError(
    413,
    'media_quota_exceeded',
    `The bot's media would exceed its quota of ${limit} bytes (${used} in use); remove media or ask for a larger quota.`,
    { used, limit },
  );

export interface IngestDeps {
  repo: MediaRepository;
  storage: MediaStorage;
  /** Where uploads are held while they are checked; never served. */
  workDir: string;
  clamdAddress?: string;
  /** The most bytes of media files one bot may keep (`MEDIA_QUOTA_BYTES`). */
  quotaBytes: number;
}

export interface IngestInput {
  botId: string;
  body: Readable;
  source: MediaSource;
  caption?: string | null;
  originalName?: string | null;
}

export interface IngestResult {
  media: MediaRow;
  /** False when the bot already had these exact bytes: the earlier record is returned. */
  created: boolean;
}

/**
 * Hashes, counts and sniffs the bytes as they pass. The type found in the first 4100 bytes picks
 * the size limit, so an oversized or foreign upload stops early instead of filling the disk.
 */
class Inspector extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  format: MediaFormat | { container: 'zip' | 'cfb' } | undefined;
  private head: Buffer[] = [];
  private headLength = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.format === undefined) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength < SNIFF_BYTES) return done(this.checkSize(), chunk);
      this.identify(chunk, done);
      return;
    }
    done(this.checkSize(), chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.format !== undefined) return done();
    if (this.headLength === 0) return done(new AppError(400, 'empty_file', 'The file is empty.'));
    this.identify(undefined, (error) => done(error));
  }

  private identify(chunk: Buffer | undefined, done: TransformCallback): void {
    sniffHead(Buffer.concat(this.head))
      .then((format) => {
        this.head = [];
        if (!format) return done(unsupportedMedia('The file'));
        this.format = format;
        done(this.checkSize(), chunk);
      })
      .catch((error: Error) => done(error));
  }

  get limit(): { type: string; bytes: number } {
    if (this.format === undefined) return { type: 'file', bytes: MAX_UPLOAD_BYTES };
    return isProvisional(this.format) ? { type: 'document', bytes: SIZE_LIMITS.document } : { type: this.format.type, bytes: SIZE_LIMITS[this.format.type] };
  }

  private checkSize(): Error | null {
    const { type, bytes } = this.limit;
    return this.size > bytes ? tooLarge(type, bytes) : null;
  }
}

/** The virus scan when a scanner is configured: infected → 422, scanner away → 503, never skipped. */
async function scan(address: string, file: string): Promise<void> {
  let verdict;
  try {
    verdict = await scanStream(address, createReadStream(file));
  } catch (error) {
    if (error instanceof ScannerUnavailableError) {
      throw new AppError(503, 'scanner_unavailable', 'The virus scanner is unavailable, so the file was not accepted; try again later.', null, {
        'Retry-After': '30',
      });
    }
    throw error;
  }
  if (!verdict.clean) {
    throw unprocessable('media_infected', 'The virus scanner found malware in the file; it was refused and not kept.', { signature: verdict.signature });
  }
}

/**
 * One way in for every media file (operator uploads and files users send): streamed to a work
 * file while checked, sniffed for its real type, scanned, counted against the bot's quota, then
 * stored under its SHA-256 and recorded as `pending` for processing. The work file is gone
 * afterwards whatever happened, and so is the stored file when the quota refuses it at the last step.
 * An upload of an image over the pixel limit is refused from its header; a user's such image is
 * kept (processing will not decode it).
 */
export async function ingestMedia(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  await mkdir(deps.workDir, { recursive: true });
  const work = path.join(deps.workDir, `${randomUUID()}.upload`);
  try {
    const inspector = new Inspector();
    await pipeline(input.body, inspector, createWriteStream(work));

    const format = await sniffFile(work);
    if (!format) throw unsupportedMedia('The file');
    const limit = SIZE_LIMITS[format.type];
    if (inspector.size > limit) throw tooLarge(format.type, limit);
    if (format.type === 'image' && input.source === 'upload') {
      const header = await readImageHeader(work);
      if (header && isTooLarge(header)) throw imageTooLarge(header);
    }
    if (deps.clamdAddress) await scan(deps.clamdAddress, work);

    const sha256 = inspector.hash.digest('hex');
    const existing = await deps.repo.findBySha(input.botId, sha256);
    if (existing) return { media: existing, created: false };
    // Checked before storing, so a refusal leaves nothing behind; checked again under a lock below.
    const used = await deps.repo.usedBytes(input.botId);
    if (used + inspector.size > deps.quotaBytes) throw quotaExceeded(used, deps.quotaBytes);

    const key = contentKey(sha256, format.ext, input.source === 'incoming' ? 'private' : 'public');
    await deps.storage.put(key, createReadStream(work), format.mime);
    let result: IngestResult;
    try {
      result = await deps.repo.createWithinQuota(
        {
          bot_id: input.botId,
          type: format.type,
          mime: format.mime,
          size: inspector.size,
          sha256,
          storage_key: key,
          caption: input.caption ?? null,
          original_name: input.originalName ? input.originalName.slice(0, 300) : null,
          source: input.source,
        },
        deps.quotaBytes,
      );
    } catch (error) {
      if (!(error instanceof QuotaExceededError)) throw error;
      // Another upload of the bot took the room meanwhile. Other bots may hold the same bytes.
      if (!(await deps.repo.isKeyUsed(key))) await deps.storage.delete(key);
      throw quotaExceeded(error.used, error.limit);
    }
    // The same bytes arrived meanwhile by the other way in (upload or user), under the other key.
    if (result.media.storage_key !== key && !(await deps.repo.isKeyUsed(key))) await deps.storage.delete(key);
    return result;
  } finally {
    await rm(work, { force: true });
  }
}
