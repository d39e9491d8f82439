import type { UserInput } from '../../engine/types';
import { metaHandshake, parseJsonObject, verifyMetaSignature } from '../shared/meta';
import { parseCommand } from '../shared/text';
import { userField } from '../shared/user';
import type { IncomingMessage, WebhookRequest, WebhookResult } from '../types';
import type { MsAttachment, MsMessagingEvent, MsWebhookBody } from './wire';

export interface MessengerWebhookCredentials {
  page_id: string;
  app_secret: string;
  verify_token: string;
}

const MEDIA_TYPES: Partial<Record<string, 'image' | 'video' | 'audio' | 'document'>> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  file: 'document',
};

/**
 * Handshake on GET, signature on POST, then the page's `messaging` events: messages (text, quick
 * replies, attachments) and postbacks. Echoes of our own sends, deliveries, reads, reactions, edits
 * and other pages' events are acknowledged only.
 */
export function handleMessengerWebhook(req: WebhookRequest, credentials: MessengerWebhookCredentials): WebhookResult {
  if (req.method === 'GET') return metaHandshake('messenger', req, credentials.verify_token);
  verifyMetaSignature('messenger', req, credentials.app_secret);
  const body = parseJsonObject(req.rawBody) as MsWebhookBody | null;
  if (!body) return { status: 400, body: { error: 'body is not a JSON object' }, messages: [] };
  if (body.object !== 'page') return { status: 200, messages: [] };

  const messages: IncomingMessage[] = [];
  for (const entry of body.entry ?? []) {
    if (entry.id !== credentials.page_id) continue;
    for (const event of entry.messaging ?? []) {
      const incoming = normalize(event);
      if (incoming) messages.push(incoming);
    }
  }
  return { status: 200, messages };
}

function normalize(event: MsMessagingEvent): IncomingMessage | null {
  const found = inputOf(event);
  if (!found) return null;
  return {
    platform: 'messenger',
    chatId: event.sender.id,
    messageId: found.messageId,
    // The webhook names no one: a name needs a Graph API call per user, which we do not make.
    ...userField({ id: event.sender.id }),
    input: found.input,
    sentAt: new Date(event.timestamp).toISOString(),
  };
}

function inputOf(event: MsMessagingEvent): { messageId: string; input: UserInput } | null {
  if (event.postback) {
    const messageId = event.postback.mid ?? `postback:${event.sender.id}:${event.timestamp}`;
    const title = event.postback.title;
    return { messageId, input: { kind: 'button', value: event.postback.payload, ...(title ? { text: title } : {}) } };
  }
  const message = event.message;
  if (!message || message.is_echo) return null;
  if (message.quick_reply) {
    return { messageId: message.mid, input: { kind: 'button', value: message.quick_reply.payload, ...(message.text ? { text: message.text } : {}) } };
  }
  if (message.text !== undefined) {
    const command = parseCommand(message.text);
    return { messageId: message.mid, input: command ? { kind: 'command', ...command } : { kind: 'text', text: message.text } };
  }
  const attachment = message.attachments?.[0];
  const input = attachment ? attachmentInput(attachment) : null;
  return input ? { messageId: message.mid, input } : null;
}

function attachmentInput(attachment: MsAttachment): UserInput | null {
  const coordinates = attachment.payload?.coordinates;
  if (attachment.type === 'location' && coordinates) return { kind: 'location', latitude: coordinates.lat, longitude: coordinates.long };
  const type = MEDIA_TYPES[attachment.type];
  // Stickers arrive as images with a sticker_id: a reaction, not an answer.
  if (!type || !attachment.payload?.url || attachment.payload.sticker_id !== undefined) return null;
  return { kind: 'media', media: { type, url: attachment.payload.url } };
}
