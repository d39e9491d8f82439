import type { UserInput } from '../../engine/types';
import { metaHandshake, parseJsonObject, verifyMetaSignature } from '../shared/meta';
import { parseCommand } from '../shared/text';
import { userField } from '../shared/user';
import type { IncomingMessage, WebhookRequest, WebhookResult } from '../types';
import type { WaChangeValue, WaInboundMessage, WaWebhookBody } from './wire';

export interface WhatsAppWebhookCredentials {
  phone_number_id: string;
  app_secret: string;
  verify_token: string;
}

/**
 * Handshake on GET, signature on POST, then every user message of the `messages` field addressed to
 * this bot's phone number. Delivery/read statuses and other numbers' events are acknowledged only.
 */
export function handleWhatsAppWebhook(req: WebhookRequest, credentials: WhatsAppWebhookCredentials): WebhookResult {
  if (req.method === 'GET') return metaHandshake('whatsapp', req, credentials.verify_token);
  verifyMetaSignature('whatsapp', req, credentials.app_secret);
  const body = parseJsonObject(req.rawBody) as WaWebhookBody | null;
  if (!body) return { status: 400, body: { error: 'body is not a JSON object' }, messages: [] };
  if (body.object !== 'whatsapp_business_account') return { status: 200, messages: [] };

  const messages: IncomingMessage[] = [];
  for (const entry of body.entry ?? []) {
    for (const change of entry.changes ?? []) {
      if (change.field !== 'messages' || change.value?.metadata?.phone_number_id !== credentials.phone_number_id) continue;
      for (const message of change.value.messages ?? []) {
        const incoming = normalize(message, change.value);
        if (incoming) messages.push(incoming);
      }
    }
  }
  return { status: 200, messages };
}

function normalize(message: WaInboundMessage, value: WaChangeValue): IncomingMessage | null {
  const input = inputOf(message);
  if (!input) return null;
  const contact = Array.isArray(value.contacts) ? value.contacts.find((candidate) => candidate?.wa_id === message.from) : undefined;
  return {
    platform: 'whatsapp',
    chatId: message.from,
    messageId: message.id,
    ...userField({ id: message.from, name: contact?.profile?.name }),
    input,
    sentAt: new Date(Number(message.timestamp) * 1000).toISOString(),
    // The typing indicator is keyed to the message being answered.
    replyContext: { message_id: message.id },
  };
}

function inputOf(message: WaInboundMessage): UserInput | null {
  switch (message.type) {
    case 'text': {
      const text = message.text?.body ?? '';
      const command = parseCommand(text);
      return command ? { kind: 'command', ...command } : { kind: 'text', text };
    }
    case 'interactive': {
      const interactive = message.interactive;
      if (interactive && 'button_reply' in interactive) return { kind: 'button', value: interactive.button_reply.id, text: interactive.button_reply.title };
      if (interactive && 'list_reply' in interactive) return { kind: 'button', value: interactive.list_reply.id, text: interactive.list_reply.title };
      return null;
    }
    case 'button':
      // Quick-reply buttons of template messages.
      return message.button ? { kind: 'button', value: message.button.payload, text: message.button.text } : null;
    case 'image':
    case 'video':
    case 'audio':
    case 'document': {
      const media = message[message.type];
      if (!media) return null;
      const type = message.type === 'image' ? 'image' : message.type;
      return {
        kind: 'media',
        media: {
          type,
          media_id: media.id,
          ...(media.mime_type ? { mime: media.mime_type } : {}),
          ...(media.caption ? { caption: media.caption } : {}),
        },
      };
    }
    case 'location':
      return message.location ? { kind: 'location', latitude: message.location.latitude, longitude: message.location.longitude } : null;
    case 'contacts': {
      const contact = message.contacts?.[0];
      const phone = contact?.phones?.[0]?.phone ?? contact?.phones?.[0]?.wa_id;
      if (!phone) return null;
      const name = contact?.name?.formatted_name;
      return { kind: 'contact', phone, ...(name ? { name } : {}) };
    }
    default:
      // Reactions, stickers, orders, system notices, "unsupported".
      return null;
  }
}
