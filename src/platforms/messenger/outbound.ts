import type { Button, OutgoingMessage } from '../../engine/types';
import { GraphApiError, callGraph } from '../shared/meta';
import { BUTTONS_ONLY_TEXT, mediaLinkText, requireUrl } from '../shared/outgoing';
import { splitText, truncate } from '../shared/text';
import { markdownChunks } from '../shared/markdown';
import { MessageParts, type PartOutcome } from '../shared/parts';
import type { PlatformContext, SendProgress, SendResult } from '../types';
import type { OutsideWindow } from '../window';
import type { MsQuickReply, MsSendRequest, MsSendResponse } from './wire';

export const TEXT_LIMIT = 2000;
export const QUICK_REPLIES_MAX = 13;
const QUICK_REPLY_TITLE_LIMIT = 20;
const QUICK_REPLY_PAYLOAD_LIMIT = 1000;
const ATTACHMENT_TYPES = { image: 'image', video: 'video', audio: 'audio', document: 'file' } as const;
/** "Upload attachment failure": Messenger could not fetch the URL. */
const ATTACHMENT_REJECTION_SUBCODES = new Set([2018047, 2018074]);

export interface MessengerSendCredentials {
  page_id: string;
  page_access_token: string;
}

/**
 * Typing indicator, media one by one (as URL attachments; a caption follows as text), then the text
 * split at 2000 characters with the buttons as quick replies (up to 13) on the last part.
 *
 * Parts (see `SendProgress`): one per media item and one per caption (a link sent instead of the
 * attachment carries the caption and covers both), then one per chunk of the text.
 */
export async function sendMessenger(
  ctx: PlatformContext,
  credentials: MessengerSendCredentials,
  psid: string,
  message: OutgoingMessage,
  progress?: SendProgress,
  outside?: OutsideWindow,
): Promise<SendResult> {
  const post = (request: MsSendRequest) =>
    callGraph<MsSendResponse>(ctx, {
      platform: 'messenger',
      method: 'messages',
      path: `${encodeURIComponent(credentials.page_id)}/messages`,
      httpMethod: 'POST',
      accessToken: credentials.page_access_token,
      json: request,
    });
  const recipient = { id: psid };
  const tag = outside?.messengerTag;
  const kind = tag ? ({ messaging_type: 'MESSAGE_TAG', tag } as const) : ({ messaging_type: 'RESPONSE' } as const);
  const sendText = async (text: string, quickReplies?: MsQuickReply[]): Promise<PartOutcome> => {
    const response = await post({ recipient, ...kind, message: { text, ...(quickReplies ? { quick_replies: quickReplies } : {}) } });
    return { messageIds: [response.message_id ?? ''] };
  };
  const parts = new MessageParts(progress);

  // Only before media, which takes a while to upload; a text arrives at once.
  if (message.media?.length) {
    try {
      await post({ recipient, sender_action: 'typing_on' });
    } catch {
      // Best effort: the message itself reports any real problem with the recipient.
    }
  }

  for (const item of message.media ?? []) {
    const url = requireUrl('messenger', 'messages', item);
    let linked = false;
    await parts.part(async () => {
      try {
        const response = await post({
          recipient,
          ...kind,
          message: { attachment: { type: ATTACHMENT_TYPES[item.type], payload: { url, is_reusable: true } } },
        });
        return { messageIds: [response.message_id ?? ''] };
      } catch (error) {
        if (!(error instanceof GraphApiError && error.subcode !== undefined && ATTACHMENT_REJECTION_SUBCODES.has(error.subcode))) throw error;
        linked = true;
        return { ...(await sendText(mediaLinkText(item, url))), parts: item.caption ? 2 : 1 };
      }
    });
    const caption = item.caption;
    if (caption && !linked) await parts.part(() => sendText(caption));
  }

  const buttons = message.buttons ?? [];
  const text = message.text && message.text.length > 0 ? message.text : buttons.length > 0 ? BUTTONS_ONLY_TEXT : undefined;
  if (text !== undefined) {
    const chunks = message.format === 'markdown' && text === message.text ? markdownChunks(text, 'messenger', TEXT_LIMIT) : splitText(text, TEXT_LIMIT);
    for (const [index, chunk] of chunks.entries()) {
      const last = index === chunks.length - 1;
      await parts.part(() => sendText(chunk, last && buttons.length > 0 ? quickReplies(buttons) : undefined));
    }
  }
  return parts.result(false);
}

/** Beyond 13 the rest cannot be shown; scenario validation warns about it. */
export function quickReplies(buttons: Button[]): MsQuickReply[] {
  return buttons.slice(0, QUICK_REPLIES_MAX).map((button) => ({
    content_type: 'text',
    title: truncate(button.text, QUICK_REPLY_TITLE_LIMIT),
    payload: button.value.slice(0, QUICK_REPLY_PAYLOAD_LIMIT),
  }));
}
