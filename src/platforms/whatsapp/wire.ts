/**
 * WhatsApp Cloud API payloads (https://developers.facebook.com/docs/whatsapp/cloud-api): the
 * `messages` webhook and the `/{phone_number_id}/messages` send endpoint.
 */

export interface WaMediaObject {
  id: string;
  mime_type?: string;
  sha256?: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
  animated?: boolean;
}

export interface WaInboundMessage {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  text?: { body: string };
  interactive?:
    | { type: 'button_reply'; button_reply: { id: string; title: string } }
    | { type: 'list_reply'; list_reply: { id: string; title: string; description?: string } }
    | { type: string };
  button?: { payload: string; text: string };
  image?: WaMediaObject;
  video?: WaMediaObject;
  audio?: WaMediaObject;
  document?: WaMediaObject;
  sticker?: WaMediaObject;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contacts?: { name?: { formatted_name?: string; first_name?: string }; phones?: { phone?: string; wa_id?: string; type?: string }[] }[];
  context?: { from?: string; id?: string };
}

export interface WaChangeValue {
  messaging_product: 'whatsapp';
  metadata: { display_phone_number: string; phone_number_id: string };
  contacts?: { profile?: { name?: string }; wa_id: string }[];
  messages?: WaInboundMessage[];
  statuses?: { id: string; status: string; timestamp: string; recipient_id: string }[];
  errors?: unknown[];
}

export interface WaWebhookBody {
  object: string;
  entry?: { id: string; changes?: { field: string; value: WaChangeValue }[] }[];
}

export interface WaReplyButton {
  type: 'reply';
  reply: { id: string; title: string };
}

export interface WaListRow {
  id: string;
  title: string;
  description?: string;
}

export type WaInteractive =
  | { type: 'button'; body: { text: string }; action: { buttons: WaReplyButton[] } }
  | { type: 'list'; body: { text: string }; action: { button: string; sections: { title?: string; rows: WaListRow[] }[] } };

interface WaOutboundBase {
  messaging_product: 'whatsapp';
  recipient_type: 'individual';
  to: string;
}

export type WaMediaContent =
  | { type: 'image'; image: { link: string; caption?: string } }
  | { type: 'video'; video: { link: string; caption?: string } }
  | { type: 'audio'; audio: { link: string } }
  | { type: 'document'; document: { link: string; caption?: string; filename?: string } };

/** An approved template message; body parameters fill its `{{1}}`, `{{2}}`, … in order. */
export interface WaTemplate {
  name: string;
  language: { code: string };
  components?: { type: 'body'; parameters: { type: 'text'; text: string }[] }[];
}

export type WaOutboundContent =
  | { type: 'text'; text: { body: string; preview_url: boolean } }
  | { type: 'interactive'; interactive: WaInteractive }
  | { type: 'template'; template: WaTemplate }
  | WaMediaContent;

export type WaOutboundMessage = WaOutboundBase & WaOutboundContent;

export interface WaSendResponse {
  messaging_product: 'whatsapp';
  contacts?: { input: string; wa_id: string }[];
  messages: { id: string; message_status?: string }[];
}

/** Marks the user's message read and shows "typing…" for up to 25 seconds or until we answer. */
export interface WaTypingIndicator {
  messaging_product: 'whatsapp';
  status: 'read';
  message_id: string;
  typing_indicator: { type: 'text' };
}

export interface WaPhoneNumber {
  id: string;
  display_phone_number?: string;
  verified_name?: string;
  quality_rating?: string;
}
