import type { Button, MediaItem, OutgoingMessage } from '../../engine/types';
import { PlatformApiError } from '../errors';
import { BUTTONS_ONLY_TEXT, mediaLinkText, requireUrl } from '../shared/outgoing';
import { splitText } from '../shared/text';
import { markdownChunks } from '../shared/markdown';
import { MessageParts, type PartOutcome } from '../shared/parts';
import type { PlatformContext, SendProgress, SendResult } from '../types';
import { callTelegram } from './api';
import type { TgInlineKeyboardMarkup, TgInputMedia, TgInputMediaType, TgMessage } from './wire';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const CALLBACK_DATA_LIMIT = 64;
const ALBUM_MAX = 10;

const MEDIA_TYPES: Record<MediaItem['type'], TgInputMediaType> = {
  image: 'photo',
  video: 'video',
  audio: 'audio',
  document: 'document',
};

/**
 * Media first (albums where Telegram allows them), then the text, split at 4096 characters, with
 * the buttons as an inline keyboard under its last part, so the buttons are what the user sees last.
 *
 * Parts (see `SendProgress`): one per media item (an album delivers all of its items' parts at
 * once), then one per chunk of the text. A retry after an album was refused and its items went
 * out one by one continues with the next item, and does not try the album again.
 */
export async function sendTelegram(
  ctx: PlatformContext,
  token: string,
  chatId: string,
  message: OutgoingMessage,
  progress?: SendProgress,
): Promise<SendResult> {
  const media = message.media ?? [];
  const buttons = message.buttons ?? [];
  const keyboard = buttons.length > 0 ? inlineKeyboard(buttons) : undefined;
  const parts = new MessageParts(progress);

  // An upload takes a while, so the user sees what is coming; a text arrives at once, and a chat
  // action before it would be an extra call that counts against the bot's rate limit.
  if (media[0]) await showActivity(ctx, token, chatId, media[0].type);

  for (const group of albumGroups(media)) {
    if (group.length > 1 && parts.untouched()) {
      const album = await sendAlbum(ctx, token, chatId, group);
      if (album) {
        parts.record(album, group.length);
        continue;
      }
    }
    for (const item of group) await parts.part(() => sendSingleWithFallback(ctx, token, chatId, item));
  }

  const text = message.text && message.text.length > 0 ? message.text : keyboard ? BUTTONS_ONLY_TEXT : undefined;
  if (text !== undefined) {
    // Markdown goes as Telegram HTML, measured as written (Telegram counts the text after parsing: never more).
    const markdown = message.format === 'markdown' && text === message.text;
    const chunks = markdown ? markdownChunks(text, 'telegram', TEXT_LIMIT) : splitText(text, TEXT_LIMIT);
    for (const [index, chunk] of chunks.entries()) {
      const last = index === chunks.length - 1;
      await parts.part(async () => {
        const sent = await callTelegram(ctx, token, 'sendMessage', {
          chat_id: chatId,
          text: chunk,
          ...(markdown ? { parse_mode: 'HTML' } : {}),
          ...(last && keyboard ? { reply_markup: keyboard } : {}),
        });
        return { messageIds: [String(sent.message_id)] };
      });
    }
  }
  return parts.result(media.length > 0);
}

/** The file a sent media message holds (the largest size of a photo). */
export function fileIdOf(message: TgMessage): string | null {
  return message.photo?.[message.photo.length - 1]?.file_id ?? message.video?.file_id ?? message.audio?.file_id ?? message.document?.file_id ?? null;
}

/** One button per row: labels stay whole on a phone screen, and the order reads top to bottom. */
export function inlineKeyboard(buttons: Button[]): TgInlineKeyboardMarkup {
  return {
    inline_keyboard: buttons.map((button) => {
      if (Buffer.byteLength(button.value, 'utf8') > CALLBACK_DATA_LIMIT) {
        throw new PlatformApiError(
          'telegram',
          'sendMessage',
          400,
          `button value "${button.value}" is longer than Telegram's ${CALLBACK_DATA_LIMIT}-byte callback data`,
          false,
        );
      }
      return [{ text: button.text, callback_data: button.value }];
    }),
  };
}

/** Best effort: the chat action is a courtesy, its failure must not fail the message. */
async function showActivity(ctx: PlatformContext, token: string, chatId: string, firstMedia: MediaItem['type']): Promise<void> {
  const action = firstMedia === 'image' ? 'upload_photo' : firstMedia === 'video' ? 'upload_video' : 'upload_document';
  try {
    await callTelegram(ctx, token, 'sendChatAction', { chat_id: chatId, action });
  } catch {
    // Ignored on purpose; the send that follows reports any real problem with the chat.
  }
}

/**
 * Consecutive items that may share an album, at most 10 each: photos and videos mix, audio only
 * with audio, documents only with documents (Bot API `sendMediaGroup`).
 */
export function albumGroups(media: MediaItem[]): MediaItem[][] {
  const groups: MediaItem[][] = [];
  const family = (item: MediaItem): string => (item.type === 'image' || item.type === 'video' ? 'visual' : item.type);
  for (const item of media) {
    const current = groups[groups.length - 1];
    const head = current?.[0];
    if (current && head && family(head) === family(item) && current.length < ALBUM_MAX) current.push(item);
    else groups.push([item]);
  }
  return groups;
}

/** The items as one album; null when Telegram refused the media (then they go one by one). */
async function sendAlbum(ctx: PlatformContext, token: string, chatId: string, items: MediaItem[]): Promise<PartOutcome | null> {
  try {
    const sent = await callTelegram(ctx, token, 'sendMediaGroup', {
      chat_id: chatId,
      media: items.map((item): TgInputMedia => ({
        type: MEDIA_TYPES[item.type],
        media: requireUrl('telegram', 'sendMediaGroup', item),
        ...captionOf(item),
      })),
    });
    return { messageIds: sent.map((message: TgMessage) => String(message.message_id)), mediaFileIds: sent.map(fileIdOf) };
  } catch (error) {
    if (!isMediaRejection(error)) throw error;
    return null;
  }
}

async function sendSingleWithFallback(ctx: PlatformContext, token: string, chatId: string, item: MediaItem): Promise<PartOutcome> {
  const url = requireUrl('telegram', 'sendMediaGroup', item);
  try {
    const sent = await sendSingle(ctx, token, chatId, item, url);
    return { messageIds: [String(sent.message_id)], mediaFileIds: [fileIdOf(sent)] };
  } catch (error) {
    if (!isMediaRejection(error)) throw error;
  }
  const link = await callTelegram(ctx, token, 'sendMessage', { chat_id: chatId, text: mediaLinkText(item, url) });
  return { messageIds: [String(link.message_id)], mediaFileIds: [null] };
}

function sendSingle(ctx: PlatformContext, token: string, chatId: string, item: MediaItem, url: string): Promise<TgMessage> {
  const caption = captionOf(item);
  switch (item.type) {
    case 'image':
      return callTelegram(ctx, token, 'sendPhoto', { chat_id: chatId, photo: url, ...caption });
    case 'video':
      return callTelegram(ctx, token, 'sendVideo', { chat_id: chatId, video: url, ...caption });
    case 'audio':
      return callTelegram(ctx, token, 'sendAudio', { chat_id: chatId, audio: url, ...caption });
    case 'document':
      return callTelegram(ctx, token, 'sendDocument', { chat_id: chatId, document: url, ...caption });
  }
}

function captionOf(item: MediaItem): { caption?: string } {
  return item.caption ? { caption: item.caption.slice(0, CAPTION_LIMIT) } : {};
}

/**
 * Telegram refused the media itself (could not fetch the URL, wrong type, too big): worth trying a
 * simpler form. Problems with the chat, the token or the rate are not, and surface at once.
 */
function isMediaRejection(error: unknown): boolean {
  return (
    error instanceof PlatformApiError &&
    error.status === 400 &&
    !/chat not found|chat_id|not enough rights|have no rights|bot was blocked|user is deactivated/i.test(error.description)
  );
}
