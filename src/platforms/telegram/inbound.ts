import type { UserInput } from '../../engine/types';
import { WebhookAuthError } from '../errors';
import { safeEqual } from '../shared/crypto';
import { isRecord } from '../shared/http';
import { parseCommand } from '../shared/text';
import { chatUser } from '../shared/user';
import type { IncomingMessage, WebhookRequest, WebhookResult } from '../types';
import type { TgCallbackQuery, TgMessage, TgUpdate, TgUser } from './wire';

export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * Verify `X-Telegram-Bot-Api-Secret-Token` against the secret given to `setWebhook`, then normalize
 * the update. A button press is answered in the webhook reply itself (`answerCallbackQuery` as the
 * response body, which the Bot API executes), so the user's spinner stops without an extra call.
 */
export function handleTelegramWebhook(req: WebhookRequest, webhookSecret: string | undefined): WebhookResult {
  const given = req.headers[SECRET_HEADER];
  if (!webhookSecret) throw new WebhookAuthError('telegram', 'no webhook secret is registered for this bot');
  if (given === undefined) throw new WebhookAuthError('telegram', 'missing X-Telegram-Bot-Api-Secret-Token');
  if (!safeEqual(given, webhookSecret)) throw new WebhookAuthError('telegram', 'wrong X-Telegram-Bot-Api-Secret-Token');
  if (req.method !== 'POST') return { status: 405, messages: [] };

  let update: unknown;
  try {
    update = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { status: 400, body: { error: 'body is not JSON' }, messages: [] };
  }
  if (!isRecord(update) || typeof update.update_id !== 'number') {
    return { status: 400, body: { error: 'not a Telegram update' }, messages: [] };
  }
  return normalizeUpdate(update as unknown as TgUpdate);
}

function normalizeUpdate(update: TgUpdate): WebhookResult {
  const messageId = String(update.update_id);
  if (update.message) {
    const input = messageInput(update.message);
    if (!input) return { status: 200, messages: [] };
    return { status: 200, messages: [incoming(messageId, update.message, update.message.from, input)] };
  }
  if (update.callback_query) {
    const query = update.callback_query;
    const answer = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { method: 'answerCallbackQuery', callback_query_id: query.id },
    };
    // Presses on inline-mode messages carry no chat to answer in.
    if (!query.message || query.data === undefined) return { ...answer, messages: [] };
    return { ...answer, messages: [incoming(messageId, query.message, query.from, buttonInput(query))] };
  }
  // Edits, channel posts, membership changes: not something a user said to the bot.
  return { status: 200, messages: [] };
}

function incoming(messageId: string, message: TgMessage, from: TgUser | undefined, input: UserInput): IncomingMessage {
  const result: IncomingMessage = {
    platform: 'telegram',
    chatId: String(message.chat.id),
    messageId,
    input,
    sentAt: new Date(message.date * 1000).toISOString(),
  };
  const user = from && chatUser({ id: from.id, name: fullName(from), username: from.username, language: from.language_code });
  if (user) result.user = user;
  return result;
}

/** "First Last" from the parts Telegram gives; hostile input, so only strings count. */
function fullName(from: TgUser): string {
  return [from.first_name, from.last_name].filter((part): part is string => typeof part === 'string' && part !== '').join(' ');
}

function buttonInput(query: TgCallbackQuery): UserInput {
  const value = query.data ?? '';
  const pressed = query.message?.reply_markup?.inline_keyboard.flat().find((button) => button.callback_data === value);
  return pressed ? { kind: 'button', value, text: pressed.text } : { kind: 'button', value };
}

function messageInput(message: TgMessage): UserInput | null {
  if (message.text !== undefined) {
    const startsWithCommand = message.entities?.some((entity) => entity.type === 'bot_command' && entity.offset === 0);
    const command = startsWithCommand ? parseCommand(message.text) : null;
    return command ? { kind: 'command', ...command } : { kind: 'text', text: message.text };
  }
  const caption = message.caption !== undefined ? { caption: message.caption } : {};
  const largestPhoto = message.photo?.[message.photo.length - 1];
  if (largestPhoto) return { kind: 'media', media: { type: 'image', media_id: largestPhoto.file_id, mime: 'image/jpeg', ...caption } };
  const files: [TgMessage['document'], 'image' | 'video' | 'audio' | 'document'][] = [
    [message.video, 'video'],
    [message.video_note, 'video'],
    [message.voice, 'audio'],
    [message.audio, 'audio'],
    [message.document, 'document'],
  ];
  for (const [file, type] of files) {
    if (file) {
      const mime = file.mime_type ?? (file === message.video_note ? 'video/mp4' : undefined);
      return { kind: 'media', media: { type, media_id: file.file_id, ...(mime ? { mime } : {}), ...caption } };
    }
  }
  const location = message.location ?? message.venue?.location;
  if (location) return { kind: 'location', latitude: location.latitude, longitude: location.longitude };
  if (message.contact) {
    const name = [message.contact.first_name, message.contact.last_name].filter(Boolean).join(' ');
    return { kind: 'contact', phone: message.contact.phone_number, ...(name ? { name } : {}) };
  }
  // Stickers, polls, dice, service messages (members joined, pinned, ...).
  return null;
}
