import type { Button, MediaItem, OutgoingMessage } from '../../engine/types';
import { GraphApiError, callGraph } from '../shared/meta';
import { BUTTONS_ONLY_TEXT, mediaLinkText, requireUrl } from '../shared/outgoing';
import { splitText, truncate } from '../shared/text';
import { markdownChunks } from '../shared/markdown';
import { MessageParts, type PartOutcome } from '../shared/parts';
import type { PlatformContext, SendProgress, SendResult } from '../types';
import type { OutsideWindow } from '../window';
import type { WaInteractive, WaMediaContent, WaOutboundMessage, WaSendResponse, WaTemplate, WaTypingIndicator } from './wire';

export const TEXT_LIMIT = 4096;
export const INTERACTIVE_BODY_LIMIT = 1024;
export const REPLY_BUTTONS_MAX = 3;
export const LIST_ROWS_MAX = 10;
const BUTTON_TITLE_LIMIT = 20;
const ROW_TITLE_LIMIT = 24;
const ROW_DESCRIPTION_LIMIT = 72;
const BUTTON_ID_LIMIT = 256;
const ROW_ID_LIMIT = 200;
/** A template's body holds 1024 characters with its parameters filled in. */
const TEMPLATE_PARAMETER_LIMIT = 1024;
/** The label of the button that opens a list; a symbol, since the scenario gives none in any language. */
export const LIST_BUTTON_LABEL = '☰';
/** Media Meta could not fetch or take (download/upload error): send a link instead. */
const MEDIA_REJECTION_CODES = new Set([131052, 131053]);

export interface WhatsAppSendCredentials {
  phone_number_id: string;
  access_token: string;
}

/**
 * Media one by one (WhatsApp has no albums), then the text split at 4096 characters; buttons go on
 * the last part as reply buttons (up to 3) or a list (up to 10 rows), whose body holds 1024 at most.
 *
 * Parts (see `SendProgress`): one per media item, plus one for the caption of an audio (sent as its
 * own text; a link sent instead of the audio carries the caption and covers both), then one per
 * chunk of the text.
 */
export async function sendWhatsApp(
  ctx: PlatformContext,
  credentials: WhatsAppSendCredentials,
  to: string,
  message: OutgoingMessage,
  replyContext: Record<string, string> | undefined,
  progress?: SendProgress,
  outside?: OutsideWindow,
): Promise<SendResult> {
  const post = async (payload: WaOutboundMessage): Promise<string> => {
    const response = await callGraph<WaSendResponse>(ctx, {
      platform: 'whatsapp',
      method: 'messages',
      path: `${encodeURIComponent(credentials.phone_number_id)}/messages`,
      httpMethod: 'POST',
      accessToken: credentials.access_token,
      json: payload,
    });
    return response.messages?.[0]?.id ?? '';
  };
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to } as const;
  const parts = new MessageParts(progress);
  const one = async (payload: WaOutboundMessage): Promise<PartOutcome> => ({ messageIds: [await post(payload)] });

  // Outside the 24-hour window the template is the whole message, one part.
  const template = outside?.whatsappTemplate;
  if (template) {
    await parts.part(() => one({ ...base, type: 'template', template: templatePayload(template) }));
    return parts.result(false);
  }

  if (replyContext?.message_id) await showTyping(ctx, credentials, replyContext.message_id);

  for (const item of message.media ?? []) {
    const url = requireUrl('whatsapp', 'messages', item);
    const caption = item.type === 'audio' && item.caption ? item.caption : undefined;
    let linked = false;
    await parts.part(async () => {
      try {
        return await one({ ...base, ...mediaPayload(item, url) });
      } catch (error) {
        if (!(error instanceof GraphApiError && error.code !== undefined && MEDIA_REJECTION_CODES.has(error.code))) throw error;
        linked = true;
        return { ...(await one({ ...base, type: 'text', text: { body: mediaLinkText(item, url), preview_url: true } })), parts: caption ? 2 : 1 };
      }
    });
    if (caption && !linked) await parts.part(() => one({ ...base, type: 'text', text: { body: caption, preview_url: false } }));
  }

  const buttons = message.buttons ?? [];
  const text = message.text && message.text.length > 0 ? message.text : buttons.length > 0 ? BUTTONS_ONLY_TEXT : undefined;
  if (text === undefined) return parts.result(false);
  const lastLimit = buttons.length > 0 ? INTERACTIVE_BODY_LIMIT : TEXT_LIMIT;
  const markdown = message.format === 'markdown' && text === message.text;
  const chunks = markdown ? markdownChunks(text, 'whatsapp', TEXT_LIMIT, lastLimit) : splitText(text, TEXT_LIMIT);
  const last = chunks.pop() as string;
  const tail = buttons.length > 0 ? splitText(last, INTERACTIVE_BODY_LIMIT) : [last];
  const body = tail.pop() as string;
  for (const chunk of [...chunks, ...tail]) await parts.part(() => one({ ...base, type: 'text', text: { body: chunk, preview_url: false } }));
  if (buttons.length > 0) await parts.part(() => one({ ...base, type: 'interactive', interactive: interactive(body, buttons) }));
  else await parts.part(() => one({ ...base, type: 'text', text: { body, preview_url: false } }));
  return parts.result(false);
}

export function interactive(body: string, buttons: Button[]): WaInteractive {
  if (buttons.length <= REPLY_BUTTONS_MAX) {
    return {
      type: 'button',
      body: { text: body },
      action: {
        buttons: buttons.map((button) => ({
          type: 'reply',
          reply: { id: button.value.slice(0, BUTTON_ID_LIMIT), title: truncate(button.text, BUTTON_TITLE_LIMIT) },
        })),
      },
    };
  }
  // Beyond ten, the rest cannot be shown; scenario validation warns about it.
  const rows = buttons.slice(0, LIST_ROWS_MAX).map((button) => ({
    id: button.value.slice(0, ROW_ID_LIMIT),
    title: truncate(button.text, ROW_TITLE_LIMIT),
    ...(button.text.length > ROW_TITLE_LIMIT ? { description: truncate(button.text, ROW_DESCRIPTION_LIMIT) } : {}),
  }));
  return { type: 'list', body: { text: body }, action: { button: LIST_BUTTON_LABEL, sections: [{ rows }] } };
}

/**
 * WhatsApp refuses a parameter that is empty, holds a line break or tab, or more than four spaces in
 * a row (132018), so whitespace runs become one space; an empty one becomes "-".
 */
export function templatePayload(template: NonNullable<OutsideWindow['whatsappTemplate']>): WaTemplate {
  const parameters = template.parameters.map((text) => ({
    type: 'text' as const,
    text: truncate(text.replace(/\s+/g, ' ').trim(), TEMPLATE_PARAMETER_LIMIT) || '-',
  }));
  const payload: WaTemplate = { name: template.name, language: { code: template.language } };
  if (parameters.length > 0) payload.components = [{ type: 'body', parameters }];
  return payload;
}

function mediaPayload(item: MediaItem, link: string): WaMediaContent {
  const caption = item.caption ? { caption: item.caption.slice(0, 1024) } : {};
  switch (item.type) {
    case 'image':
      return { type: 'image', image: { link, ...caption } };
    case 'video':
      return { type: 'video', video: { link, ...caption } };
    case 'audio':
      return { type: 'audio', audio: { link } };
    case 'document':
      return { type: 'document', document: { link, ...caption, filename: fileNameOf(link) } };
  }
}

function fileNameOf(link: string): string {
  try {
    const name = decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');
    return name || 'document';
  } catch {
    return 'document';
  }
}

/** Best effort: marks the user's message read and shows "typing…"; its failure never fails a send. */
async function showTyping(ctx: PlatformContext, credentials: WhatsAppSendCredentials, messageId: string): Promise<void> {
  const payload: WaTypingIndicator = { messaging_product: 'whatsapp', status: 'read', message_id: messageId, typing_indicator: { type: 'text' } };
  try {
    await callGraph(ctx, {
      platform: 'whatsapp',
      method: 'messages',
      path: `${encodeURIComponent(credentials.phone_number_id)}/messages`,
      httpMethod: 'POST',
      accessToken: credentials.access_token,
      json: payload,
    });
  } catch {
    // Ignored on purpose: the message itself reports any real problem.
  }
}
