/**
 * Messenger Platform payloads (https://developers.facebook.com/docs/messenger-platform): the `page`
 * webhook's `messaging` events and the Send API.
 */
import type { MessengerTag } from '../window';

export interface MsAttachment {
  /** `image`, `video`, `audio`, `file`, `location`, `fallback`, `template`, `reel`, `ig_reel`, or a kind added later. */
  type: string;
  payload?: { url?: string; sticker_id?: number; title?: string; coordinates?: { lat: number; long: number } };
}

export interface MsMessagingEvent {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
  message?: {
    mid: string;
    text?: string;
    is_echo?: boolean;
    app_id?: number;
    quick_reply?: { payload: string };
    attachments?: MsAttachment[];
    reply_to?: { mid: string };
  };
  postback?: { mid?: string; title?: string; payload: string };
  delivery?: unknown;
  read?: unknown;
  reaction?: unknown;
  message_edit?: unknown;
  optin?: unknown;
  referral?: unknown;
}

export interface MsWebhookBody {
  object: string;
  entry?: { id: string; time: number; messaging?: MsMessagingEvent[]; standby?: unknown[] }[];
}

export interface MsQuickReply {
  content_type: 'text';
  title: string;
  payload: string;
}

export type MsOutboundMessage =
  | { text: string; quick_replies?: MsQuickReply[] }
  | { attachment: { type: 'image' | 'video' | 'audio' | 'file'; payload: { url: string; is_reusable: boolean } } };

export type MsSendRequest =
  | { recipient: { id: string }; messaging_type: 'RESPONSE'; message: MsOutboundMessage }
  /** Outside the 24-hour window: a message tag says why it may still go. */
  | { recipient: { id: string }; messaging_type: 'MESSAGE_TAG'; tag: MessengerTag; message: MsOutboundMessage }
  | { recipient: { id: string }; sender_action: 'typing_on' | 'typing_off' | 'mark_seen' };

export interface MsSendResponse {
  recipient_id: string;
  message_id?: string;
}
