import { ApplicationFailure } from '@temporalio/activity';
import { platformsRepository } from '../src/db/platforms';
import type { IncomingMedia, StoredIncomingMedia } from '../src/dialog/contract';
import type { MediaItem, OutgoingMessage } from '../src/engine/types';
import { escapeMarkdown } from '../src/engine/templates';
import { AppError } from '../src/errors';
import { mediaService, SIZE_LIMITS } from '../src/media';
import { downloadIncoming } from '../src/media/incoming';
import { quotaExceeded, tooLarge } from '../src/media/ingest';
import { processMedia, UnprocessableMediaError } from '../src/media/processing';
import type { PlatformName, SendResult } from '../src/platforms/types';
import { platformFailure } from './failures';
import type { ActivityDeps } from './index';

/** Platforms whose file ids, returned by a send, can be sent again instead of the file. */
const REUSABLE_FILE_IDS: ReadonlySet<PlatformName> = new Set(['telegram']);

export interface ResolvedMessage {
  message: OutgoingMessage;
  /** Our media id of each item of `message.media` (null for items given by URL). */
  mediaIds: (string | null)[];
  /** Whether each item was sent by a platform file id rather than by URL. */
  byFileId: boolean[];
}

/**
 * Scenario media items by `media_id` become what the platform can take: its variant's URL (signed
 * when it is a file a user sent; the platform fetches it at once) or the file id it gave us for an
 * earlier send, with the upload's caption when the scenario has none. A file no variant fits (too
 * large for the platform, a format it refuses) goes as a link in the text. A file still being
 * processed makes the send retry shortly.
 */
export async function resolveOutgoingMedia(deps: ActivityDeps, botId: string, platform: PlatformName, message: OutgoingMessage): Promise<ResolvedMessage> {
  if (!message.media?.length) return { message, mediaIds: [], byFileId: [] };
  const media = mediaService(deps);
  const items: MediaItem[] = [];
  const mediaIds: (string | null)[] = [];
  const byFileId: boolean[] = [];
  const links: string[] = [];

  for (const item of message.media) {
    if (!item.media_id) {
      items.push(item);
      mediaIds.push(null);
      byFileId.push(false);
      continue;
    }
    const record = await media.repo.get(item.media_id);
    if (!record || record.bot_id !== botId) {
      deps.log.warn({ event: 'MEDIA_PROCESSING', bot_id: botId, media_id: item.media_id }, 'scenario names a media id the bot does not have; item skipped');
      continue;
    }
    if (record.status === 'pending') {
      throw ApplicationFailure.create({ message: `media ${record.id} is still being processed`, type: 'MediaNotReady', nextRetryDelay: '2 seconds' });
    }
    const caption = item.caption ?? record.caption ?? undefined;
    const variant = record.status === 'ready' ? await media.repo.variant(record.id, platform) : undefined;
    if (!variant || variant.kind === 'link' || !variant.storage_key) {
      const url = media.fileUrl(record.storage_key);
      const link = caption ? `${caption}\n${url}` : url;
      // Joined to a markdown text below, a caption must not be read as markup.
      links.push(message.format === 'markdown' ? escapeMarkdown(link) : link);
      continue;
    }
    const fileId = REUSABLE_FILE_IDS.has(platform) ? await media.repo.platformFileId(record.id, platform) : undefined;
    items.push({ type: record.type, url: fileId ?? media.fileUrl(variant.storage_key), ...(caption ? { caption } : {}) });
    mediaIds.push(record.id);
    byFileId.push(fileId !== undefined);
  }

  const text = [message.text, ...links].filter((part): part is string => Boolean(part)).join('\n\n');
  const resolved: OutgoingMessage = { ...message, media: items };
  if (text) resolved.text = text;
  if (items.length === 0) delete resolved.media;
  return { message: resolved, mediaIds, byFileId };
}

/** Keeps the file ids a platform returned, so the next send of the same media skips the upload. */
export async function rememberSentMedia(deps: ActivityDeps, platform: PlatformName, resolved: ResolvedMessage, result: SendResult): Promise<void> {
  if (!REUSABLE_FILE_IDS.has(platform) || !result.mediaFileIds) return;
  const repo = mediaService(deps).repo;
  for (const [index, mediaId] of resolved.mediaIds.entries()) {
    if (!mediaId) continue;
    const fileId = result.mediaFileIds[index];
    if (fileId) await repo.rememberPlatformFileId(mediaId, platform, fileId);
    // Sent as a link after all: the stored id no longer works, so the next send uploads again.
    else if (resolved.byFileId[index]) await repo.forgetPlatformFileId(mediaId, platform);
  }
}

function failureOf(error: unknown): unknown {
  if (error instanceof UnprocessableMediaError) return ApplicationFailure.nonRetryable(error.message, 'UnprocessableMedia');
  if (error instanceof AppError && error.status < 500) return ApplicationFailure.nonRetryable(error.message, error.code, error.details);
  // A download the platform refuses for good (expired URL, unknown media id, bad token) is not retried.
  return platformFailure(error);
}

/**
 * A size the platform declares (Slack, Discord) over the limit of the declared type, or past the
 * bot's quota, refuses the file before any byte is downloaded. The download is still capped as it
 * streams, by the limits of the type its bytes show.
 */
async function refuseDeclaredSize(deps: ActivityDeps, botId: string, file: IncomingMedia): Promise<void> {
  if (file.size === undefined) return;
  const limit = SIZE_LIMITS[file.type];
  if (file.size > limit) throw tooLarge(file.type, limit);
  const used = await mediaService(deps).repo.usedBytes(botId);
  if (used + file.size > deps.config.mediaQuotaBytes) throw quotaExceeded(used, deps.config.mediaQuotaBytes);
}

/**
 * A file a user sent, fetched from the platform and stored through the upload pipeline (type
 * sniffing, limits, virus scan, quota, dedupe) and processed at once (an image over the pixel
 * limit is kept but not decoded). The result carries our media id and URL, the platform's id kept
 * as `platform_file_id` (Telegram, WhatsApp, Slack) or its URL as `platform_url` (Messenger,
 * Discord); null when the input names no file. The URL is unsigned: it is kept in the dialog's
 * state and transcript, and the API signs it whenever it answers with it.
 */
async function ingestIncomingMedia(
  deps: ActivityDeps,
  input: { botId: string; platform: PlatformName; media: IncomingMedia },
): Promise<StoredIncomingMedia | null> {
  const { media_id: fileId, url: fileUrl } = input.media;
  if (!fileId && !fileUrl) return null;
  const media = mediaService(deps);
  await refuseDeclaredSize(deps, input.botId, input.media);
  const secrets = await platformsRepository(deps.db, { current: deps.config.encryptionKey }).secrets(input.botId, input.platform);
  if (!secrets) throw ApplicationFailure.nonRetryable(`The bot has no ${input.platform} connection.`, 'PlatformNotConnected');
  const download = await downloadIncoming(
    { apiBase: deps.config.apiBases[input.platform], fetch: deps.fetch, timeoutMs: 60_000, fileSources: deps.config.fileSources },
    input.platform,
    secrets.credentials,
    {
      ...(fileId ? { mediaId: fileId } : {}),
      ...(fileUrl ? { url: fileUrl } : {}),
    },
  );
  if (!download) return null;
  const { media: stored } = await media.ingest({
    botId: input.botId,
    body: download.body,
    source: 'incoming',
    caption: input.media.caption ?? null,
    originalName: download.fileName ?? null,
  });
  const ready = await processMedia(media.repo, media.storage(), stored.id);
  return {
    ...input.media,
    type: ready.type,
    media_id: ready.id,
    mime: ready.mime,
    url: media.storage().url(ready.storage_key),
    ...(fileId ? { platform_file_id: fileId } : { platform_url: fileUrl as string }),
  };
}

export function createMediaActivities(deps: ActivityDeps) {
  const media = mediaService(deps);

  return {
    /** Thumbnail, metadata and platform variants; retried by `mediaProcessingWorkflow`. */
    async processMedia(input: { mediaId: string }): Promise<void> {
      try {
        const done = await processMedia(media.repo, media.storage(), input.mediaId);
        deps.log.info({ event: 'MEDIA_PROCESSING', media_id: done.id, bot_id: done.bot_id, status: done.status, type: done.type }, 'media processed');
      } catch (error) {
        throw failureOf(error);
      }
    },

    async markMediaFailed(input: { mediaId: string; reason: string }): Promise<void> {
      await media.repo.markFailed(input.mediaId, input.reason);
      deps.log.warn({ event: 'MEDIA_PROCESSING', media_id: input.mediaId, reason: input.reason }, 'media processing failed');
    },

    /** A file a user sent, stored before the step takes it (a retried activity). */
    async storeIncomingMedia(input: { botId: string; platform: PlatformName; media: IncomingMedia }): Promise<StoredIncomingMedia | null> {
      try {
        return await ingestIncomingMedia(deps, input);
      } catch (error) {
        throw failureOf(error);
      }
    },
  };
}
