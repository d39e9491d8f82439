import { randomUUID } from 'node:crypto';
import { type Db, isPostgres, toIso } from '../db';
import type { MediaType } from './formats';

export type MediaStatus = 'pending' | 'ready' | 'failed';
export type MediaSource = 'upload' | 'incoming';

export interface MediaRow {
  id: string;
  bot_id: string;
  type: MediaType;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
  sha256: string;
  storage_key: string;
  thumbnail_key: string | null;
  caption: string | null;
  original_name: string | null;
  source: MediaSource;
  status: MediaStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/** How a platform gets a media file: as it is, as a copy made to fit, or only as a link. */
export type VariantKind = 'original' | 'converted' | 'link';

export interface VariantRow {
  media_id: string;
  platform: string;
  kind: VariantKind;
  storage_key: string | null;
  mime: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
}

/** A `media` row as either driver returns it (PostgreSQL's bigints come back as text). */
interface StoredMedia extends Omit<MediaRow, 'size' | 'created_at' | 'updated_at'> {
  size: number | string;
  created_at: Date | string;
  updated_at: Date | string;
}

/** A `media_variants` row as either driver returns it. */
interface StoredVariant extends Omit<VariantRow, 'size'> {
  size: number | string | null;
}

interface PlatformFileRow {
  media_id: string;
  platform: string;
  file_id: string;
  created_at: Date | string;
}

const toMedia = (row: StoredMedia): MediaRow => ({
  ...row,
  size: Number(row.size),
  duration: row.duration === null || row.duration === undefined ? null : Number(row.duration),
  created_at: toIso(row.created_at) as string,
  updated_at: toIso(row.updated_at) as string,
});

const toVariant = (row: StoredVariant): VariantRow => ({
  ...row,
  size: row.size === null || row.size === undefined ? null : Number(row.size),
});

/** Storing the file would take the bot over its quota. */
export class QuotaExceededError extends Error {
  constructor(
    readonly used: number,
    readonly limit: number,
  ) {
    super(`media quota exceeded: ${used} of ${limit} bytes in use`);
    this.name = 'QuotaExceededError';
  }
}

export type NewMedia = Pick<MediaRow, 'bot_id' | 'type' | 'mime' | 'size' | 'sha256' | 'storage_key' | 'caption' | 'original_name' | 'source'>;

export function mediaRepository(db: Db) {
  return {
    async get(id: string): Promise<MediaRow | undefined> {
      const row = await db<StoredMedia>('media').where({ id }).first();
      return row ? toMedia(row) : undefined;
    },

    async findBySha(botId: string, sha256: string): Promise<MediaRow | undefined> {
      const row = await db<StoredMedia>('media').where({ bot_id: botId, sha256 }).first();
      return row ? toMedia(row) : undefined;
    },

    /** Bytes of the bot's media files as received (uploads and files users sent; not the copies made of them). */
    async usedBytes(botId: string): Promise<number> {
      const [{ used }] = await db('media').where({ bot_id: botId }).sum<{ used: string | number | null }[]>({ used: 'size' });
      return Number(used ?? 0);
    },

    /**
     * Inserts a pending record, or returns the bot's record of the same bytes (`created: false`),
     * within the bot's quota. The bot's row is locked while its media are summed and the record
     * inserted, so uploads racing each other cannot both take the last room (SQLite runs one write
     * transaction at a time anyway).
     */
    async createWithinQuota(input: NewMedia, quotaBytes: number): Promise<{ media: MediaRow; created: boolean }> {
      return db.transaction(async (trx) => {
        const locking = trx('bots').where({ id: input.bot_id }).select('id');
        if (isPostgres(db)) locking.forUpdate();
        await locking;
        const existing = await trx<StoredMedia>('media').where({ bot_id: input.bot_id, sha256: input.sha256 }).first();
        if (existing) return { media: toMedia(existing), created: false };
        const [{ used }] = await trx('media').where({ bot_id: input.bot_id }).sum<{ used: string | number | null }[]>({ used: 'size' });
        if (Number(used ?? 0) + input.size > quotaBytes) throw new QuotaExceededError(Number(used ?? 0), quotaBytes);
        const now = new Date().toISOString();
        const row: StoredMedia = {
          id: randomUUID(),
          ...input,
          width: null,
          height: null,
          duration: null,
          thumbnail_key: null,
          status: 'pending',
          error: null,
          created_at: now,
          updated_at: now,
        };
        await trx<StoredMedia>('media').insert(row);
        return { media: toMedia(row), created: true };
      });
    },

    /** Whether any record of any bot still refers to the stored file (keys are shared by content). */
    async isKeyUsed(key: string): Promise<boolean> {
      const [media, variant] = await Promise.all([
        db<StoredMedia>('media').where({ storage_key: key }).orWhere({ thumbnail_key: key }).first('id'),
        db<StoredVariant>('media_variants').where({ storage_key: key }).first('media_id'),
      ]);
      return Boolean(media ?? variant);
    },

    /** Every stored file the bot's records refer to: originals, thumbnails and platform copies. */
    async keysOfBot(botId: string): Promise<string[]> {
      const rows = await db('media').where({ bot_id: botId }).select('storage_key', 'thumbnail_key');
      const variants = await db('media_variants')
        .join('media', 'media.id', 'media_variants.media_id')
        .where('media.bot_id', botId)
        .whereNotNull('media_variants.storage_key')
        .select('media_variants.storage_key');
      const keys = [
        ...rows.flatMap((r: { storage_key: string; thumbnail_key: string | null }) => [r.storage_key, r.thumbnail_key]),
        ...variants.map((v: { storage_key: string }) => v.storage_key),
      ];
      return [...new Set(keys.filter((key): key is string => Boolean(key)))];
    },

    /** The bot's records with their variants and platform file ids; returns how many media records went. */
    async deleteOfBot(botId: string): Promise<number> {
      return db.transaction(async (trx) => {
        const ids = trx('media').where({ bot_id: botId }).select('id');
        await trx('media_variants').whereIn('media_id', ids.clone()).delete();
        await trx('media_platform_files').whereIn('media_id', ids.clone()).delete();
        return Number(await trx('media').where({ bot_id: botId }).delete());
      });
    },

    /** Which of these ids are files the bot's users sent (records of the bot with source `incoming`). */
    async incomingOfBot(botId: string, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db('media')
        .where({ bot_id: botId, source: 'incoming' })
        .whereIn('id', [...ids])
        .select('id');
      return rows.map((r: { id: string }) => r.id);
    },

    /** Every stored file these records refer to: originals, thumbnails and platform copies. */
    async keysOf(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db('media')
        .whereIn('id', [...ids])
        .select('storage_key', 'thumbnail_key');
      const variants = await db('media_variants')
        .whereIn('media_id', [...ids])
        .whereNotNull('storage_key')
        .select('storage_key');
      const keys = [
        ...rows.flatMap((r: { storage_key: string; thumbnail_key: string | null }) => [r.storage_key, r.thumbnail_key]),
        ...variants.map((v: { storage_key: string }) => v.storage_key),
      ];
      return [...new Set(keys.filter((key): key is string => Boolean(key)))];
    },

    /** These records with their variants and platform file ids; returns how many media records went. */
    async deleteIds(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      return db.transaction(async (trx) => {
        await trx('media_variants')
          .whereIn('media_id', [...ids])
          .delete();
        await trx('media_platform_files')
          .whereIn('media_id', [...ids])
          .delete();
        return Number(
          await trx('media')
            .whereIn('id', [...ids])
            .delete(),
        );
      });
    },

    /** Which of these keys are the stored originals of the bot's records (what a dialog may point to). */
    async ownedKeys(botId: string, keys: readonly string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db('media')
        .where({ bot_id: botId })
        .whereIn('storage_key', [...keys])
        .select('storage_key');
      return new Set(rows.map((r: { storage_key: string }) => r.storage_key));
    },

    async list(botId: string, page: { limit: number; offset: number; type?: MediaType }): Promise<{ items: MediaRow[]; total: number }> {
      const query = db<StoredMedia>('media')
        .where({ bot_id: botId })
        .modify<StoredMedia, StoredMedia[]>((q) => {
          if (page.type) q.where('type', page.type);
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = await query.orderBy('created_at', 'asc').orderBy('id').limit(page.limit).offset(page.offset);
      return { items: rows.map(toMedia), total: Number(total) };
    },

    async idsOfBot(botId: string): Promise<string[]> {
      return (await db<StoredMedia>('media').where({ bot_id: botId }).select('id')).map((r) => r.id);
    },

    /** The outcome of processing: metadata and variants together, in one transaction. */
    async markReady(
      id: string,
      result: { width: number | null; height: number | null; duration: number | null; thumbnail_key: string | null; variants: Omit<VariantRow, 'media_id'>[] },
    ): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('media_variants').where({ media_id: id }).delete();
        if (result.variants.length > 0) await trx('media_variants').insert(result.variants.map((v) => ({ ...v, media_id: id })));
        await trx('media').where({ id }).update({
          width: result.width,
          height: result.height,
          duration: result.duration,
          thumbnail_key: result.thumbnail_key,
          status: 'ready',
          error: null,
          updated_at: new Date().toISOString(),
        });
      });
    },

    async setCaption(id: string, caption: string): Promise<MediaRow> {
      await db('media').where({ id }).update({ caption, updated_at: new Date().toISOString() });
      return (await this.get(id)) as MediaRow;
    },

    async markFailed(id: string, reason: string): Promise<void> {
      await db('media')
        .where({ id })
        .whereNot({ status: 'ready' })
        .update({ status: 'failed', error: reason.slice(0, 2000), updated_at: new Date().toISOString() });
    },

    async markPending(id: string): Promise<void> {
      await db('media').where({ id, status: 'failed' }).update({ status: 'pending', error: null, updated_at: new Date().toISOString() });
    },

    async variant(mediaId: string, platform: string): Promise<VariantRow | undefined> {
      const row = await db<StoredVariant>('media_variants').where({ media_id: mediaId, platform }).first();
      return row ? toVariant(row) : undefined;
    },

    async variants(mediaId: string): Promise<VariantRow[]> {
      return (await db<StoredVariant>('media_variants').where({ media_id: mediaId }).orderBy('platform')).map(toVariant);
    },

    async platformFileId(mediaId: string, platform: string): Promise<string | undefined> {
      const row = await db<PlatformFileRow>('media_platform_files').where({ media_id: mediaId, platform }).first();
      return row?.file_id;
    },

    async rememberPlatformFileId(mediaId: string, platform: string, fileId: string): Promise<void> {
      await db('media_platform_files')
        .insert({ media_id: mediaId, platform, file_id: fileId, created_at: new Date().toISOString() })
        .onConflict(['media_id', 'platform'])
        .merge({ file_id: fileId });
    },

    async forgetPlatformFileId(mediaId: string, platform: string): Promise<void> {
      await db('media_platform_files').where({ media_id: mediaId, platform }).delete();
    },
  };
}

export type MediaRepository = ReturnType<typeof mediaRepository>;
