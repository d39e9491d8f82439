import path from 'node:path';
import type { Config } from '../config';
import type { Db } from '../db';
import type { PlatformName } from '../platforms/types';
import { ingestMedia, type IngestInput, type IngestResult } from './ingest';
import { mediaRepository, type MediaRow, type VariantRow } from './repository';
import { s3Storage } from './s3';
import { signPrivateUrls, urlSigner } from './signed-urls';
import { isPrivateKey, localStorage, type MediaStorage } from './storage';

export * from './formats';
export type { MediaRow, VariantRow, MediaStatus } from './repository';
export { mediaRepository } from './repository';
export type { MediaStorage } from './storage';

/** The media record as the API shows it (CONTRACT.md §2 Media). */
export interface MediaJson {
  id: string;
  bot_id: string;
  type: MediaRow['type'];
  mime: string;
  size: number;
  width?: number;
  height?: number;
  duration?: number;
  url: string;
  thumbnail_url?: string;
  sha256: string;
  status: MediaRow['status'];
  caption: string | null;
  source: MediaRow['source'];
  error?: string;
  created_at: string;
  updated_at: string;
  /** With `?platform=`: what that platform is sent (the original, a copy within its limits, or a link). */
  variant?: { platform: PlatformName; kind: VariantRow['kind'] | 'pending' };
}

const storages = new Map<string, MediaStorage>();

/**
 * The configured storage: the `S3_BUCKET` bucket when set, else the `MEDIA_DIR` folder. Built per
 * call from the configuration (cached), so a test that points `config.mediaDir` or `config.s3`
 * elsewhere gets its own storage.
 */
export function mediaStorage(config: Config): MediaStorage {
  const id = JSON.stringify([config.s3 ?? config.mediaDir, config.publicBaseUrl]);
  let storage = storages.get(id);
  if (!storage) {
    storage = config.s3 ? s3Storage(config.s3, config.publicBaseUrl) : localStorage(config.mediaDir, config.publicBaseUrl);
    storages.set(id, storage);
  }
  return storage;
}

export function mediaService(deps: { db: Db; config: Config }) {
  const repo = mediaRepository(deps.db);
  const storage = () => mediaStorage(deps.config);
  const signer = urlSigner(deps.config.encryptionKey);

  /** Where a stored file can be fetched now: its public URL, or for a file a user sent a signed one. */
  const fileUrl = (key: string, nowMs = Date.now()): string => {
    const url = storage().url(key);
    return isPrivateKey(key) ? `${url}?${signer.query(key, nowMs)}` : url;
  };

  const toJson = (media: MediaRow, variant?: { platform: PlatformName; row?: VariantRow }, nowMs = Date.now()): MediaJson => {
    const source = variant?.row && variant.row.kind !== 'link' ? variant.row : undefined;
    const width = source ? source.width : media.width;
    const height = source ? source.height : media.height;
    return {
      id: media.id,
      bot_id: media.bot_id,
      type: media.type,
      mime: source?.mime ?? media.mime,
      size: source?.size ?? media.size,
      ...(width !== null ? { width } : {}),
      ...(height !== null ? { height } : {}),
      ...(media.duration !== null ? { duration: media.duration } : {}),
      url: fileUrl(source?.storage_key ?? media.storage_key, nowMs),
      ...(media.thumbnail_key ? { thumbnail_url: fileUrl(media.thumbnail_key, nowMs) } : {}),
      sha256: media.sha256,
      status: media.status,
      caption: media.caption,
      source: media.source,
      ...(media.error ? { error: media.error } : {}),
      created_at: media.created_at,
      updated_at: media.updated_at,
      ...(variant ? { variant: { platform: variant.platform, kind: variant.row?.kind ?? 'pending' } } : {}),
    };
  };

  return {
    repo,
    storage,
    signer,
    fileUrl,
    toJson,
    ingest(input: IngestInput): Promise<IngestResult> {
      return ingestMedia(
        {
          repo,
          storage: storage(),
          workDir: path.join(deps.config.mediaDir, '.incoming'),
          clamdAddress: deps.config.clamdAddress,
          quotaBytes: deps.config.mediaQuotaBytes,
        },
        input,
      );
    },

    /** A dialog's data or transcript with the URLs of files its users sent signed (see `signPrivateUrls`). */
    signUserFiles<T>(botId: string, value: T, nowMs = Date.now()): Promise<T> {
      return signPrivateUrls(value, { publicBaseUrl: deps.config.publicBaseUrl, signer, nowMs, ownedKeys: (keys) => repo.ownedKeys(botId, keys) });
    },

    /** `signUserFiles` over pages of a transcript as they are read (exports stream them). */
    async *signUserFilesInPages<T>(botId: string, pages: AsyncIterable<T[]>, nowMs = Date.now()): AsyncIterable<T[]> {
      for await (const items of pages) yield await this.signUserFiles(botId, items, nowMs);
    },

    /**
     * Removes the bot's media: records first, then each stored file no other bot's record refers to
     * (the same bytes are one file for every bot). Returns how many records went.
     */
    async removeBotMedia(botId: string): Promise<number> {
      const keys = await repo.keysOfBot(botId);
      const removed = await repo.deleteOfBot(botId);
      for (const key of keys) if (!(await repo.isKeyUsed(key))) await storage().delete(key);
      return removed;
    },

    /**
     * Removes files a dialog's user sent: of `mediaIds`, the bot's records of incoming files, then each
     * stored file no record of any bot refers to any more. The caller leaves out the ids another
     * dialog still refers to. Returns the ids whose records went.
     */
    async removeUserFiles(botId: string, mediaIds: readonly string[]): Promise<string[]> {
      const ids = await repo.incomingOfBot(botId, mediaIds);
      const keys = await repo.keysOf(ids);
      await repo.deleteIds(ids);
      for (const key of keys) if (!(await repo.isKeyUsed(key))) await storage().delete(key);
      return ids;
    },
  };
}

export type MediaService = ReturnType<typeof mediaService>;
