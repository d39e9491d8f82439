import type { UserInput } from '../../engine/types';
import { declaredMedia } from '../shared/files';
import { isRecord } from '../shared/http';

/**
 * A file a user attached on Discord (a message's `attachments[]`, or the attachment option of
 * `/answer` resolved in `data.resolved.attachments`; a `DiscordAttachment` as the payload has it,
 * checked here) as a media input: its CDN `url`, declared type and size. The URL is signed, so it
 * is downloaded without credentials, and only from `DISCORD_CDN_BASE` (src/media/incoming.ts).
 * Null when the attachment carries no URL.
 */
export function attachmentInput(attachment: unknown, caption?: string): UserInput | null {
  if (!isRecord(attachment)) return null;
  const media = declaredMedia({ url: attachment.url, mime: attachment.content_type, size: attachment.size, ...(caption ? { caption } : {}) });
  return media && { kind: 'media', media };
}
