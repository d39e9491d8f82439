import type { MediaItem } from '../../engine/types';
import { PlatformApiError } from '../errors';
import type { PlatformName } from '../types';

/**
 * Text shown when a message has buttons but no text, on platforms that cannot show buttons alone.
 * A pointing hand reads the same in every language the restaurants' guests speak.
 */
export const BUTTONS_ONLY_TEXT = '👇';

/** The caller resolves stored media ids to URLs before `send`; an item without one is a caller bug. */
export function requireUrl(platform: PlatformName, method: string, item: MediaItem): string {
  if (item.url) return item.url;
  throw new PlatformApiError(platform, method, 400, `media item ${item.media_id ?? ''} has no url; resolve media ids before sending`, false);
}

/** The last resort for media a platform would not take: its caption and a link. */
export function mediaLinkText(item: MediaItem, url: string): string {
  return item.caption ? `${item.caption}\n${url}` : url;
}
