import type { Button, MediaItem, OutgoingMessage } from '../../engine/types';
import { BUTTONS_ONLY_TEXT, requireUrl } from '../shared/outgoing';
import { splitText, truncate } from '../shared/text';
import { markdownChunks } from '../shared/markdown';
import { MessageParts, type PartOutcome } from '../shared/parts';
import type { PlatformContext, SendProgress, SendResult } from '../types';
import { callSlack } from './api';
import type { SlackBlock, SlackPostMessage } from './wire';

/** Slack truncates `text` beyond 40,000 characters; a section block holds 3,000. */
export const TEXT_LIMIT = 40_000;
export const SECTION_LIMIT = 3_000;
const BUTTONS_PER_ACTIONS_BLOCK = 25;
const BUTTON_LABEL_LIMIT = 75;
const BUTTON_VALUE_LIMIT = 2_000;

/**
 * Media one by one (images as image blocks, other files as links), then the text. With buttons,
 * the text goes into section blocks of 3,000 characters followed by an `actions` block; without,
 * as plain `text` split at 40,000. Replies stay in the user's thread when there is one.
 *
 * Parts (see `SendProgress`): one per media item, then one per chunk of the text.
 */
export async function sendSlack(
  ctx: PlatformContext,
  token: string,
  channel: string,
  message: OutgoingMessage,
  replyContext: Record<string, string> | undefined,
  progress?: SendProgress,
): Promise<SendResult> {
  const thread = replyContext?.thread_ts ? { thread_ts: replyContext.thread_ts } : {};
  const post = async (payload: Omit<SlackPostMessage, 'channel'>): Promise<PartOutcome> => {
    const sent = await callSlack(ctx, token, 'chat.postMessage', { channel, ...thread, ...payload });
    return { messageIds: [sent.ts] };
  };
  const parts = new MessageParts(progress);

  for (const item of message.media ?? []) await parts.part(() => post(mediaMessage(item)));

  const buttons = message.buttons ?? [];
  const markdown = message.format === 'markdown' ? message.text : undefined;
  const limit = buttons.length === 0 ? TEXT_LIMIT : SECTION_LIMIT;
  const text = message.text && message.text.length > 0 ? escapeSlack(message.text) : buttons.length > 0 ? BUTTONS_ONLY_TEXT : undefined;
  if (text === undefined) return parts.result(false);
  const chunks = markdown ? markdownChunks(markdown, 'slack', limit) : splitText(text, limit);
  const format = markdown ? { mrkdwn: true } : {};
  if (buttons.length === 0) {
    for (const chunk of chunks) await parts.part(() => post({ text: chunk, ...format }));
    return parts.result(false);
  }
  const last = chunks.pop() as string;
  for (const chunk of chunks) await parts.part(() => post({ text: chunk, ...format }));
  await parts.part(() => post({ text: last, ...format, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: last } }, ...actionBlocks(buttons)] }));
  return parts.result(false);
}

export function actionBlocks(buttons: Button[]): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  for (let start = 0; start < buttons.length; start += BUTTONS_PER_ACTIONS_BLOCK) {
    blocks.push({
      type: 'actions',
      elements: buttons.slice(start, start + BUTTONS_PER_ACTIONS_BLOCK).map((button, index) => ({
        type: 'button',
        text: { type: 'plain_text', text: truncate(button.text, BUTTON_LABEL_LIMIT), emoji: true },
        value: button.value.slice(0, BUTTON_VALUE_LIMIT),
        action_id: `choice_${start + index}`,
      })),
    });
  }
  return blocks;
}

function mediaMessage(item: MediaItem): Omit<SlackPostMessage, 'channel'> {
  const url = requireUrl('slack', 'chat.postMessage', item);
  const caption = item.caption ? escapeSlack(item.caption) : undefined;
  if (item.type === 'image') {
    return {
      text: caption ?? url,
      blocks: [
        {
          type: 'image',
          image_url: url,
          alt_text: item.caption ?? 'image',
          ...(item.caption ? { title: { type: 'plain_text', text: truncate(item.caption, 2000) } } : {}),
        },
      ],
    };
  }
  return { text: caption ? `<${url}|${caption.replace(/\|/g, '¦')}>` : `<${url}>`, unfurl_links: true };
}

/** Slack's mrkdwn treats `&`, `<` and `>` as markup; scenario text is plain. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
