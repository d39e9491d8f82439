import type { Button, MediaItem, OutgoingMessage } from '../../engine/types';
import { BUTTONS_ONLY_TEXT, requireUrl } from '../shared/outgoing';
import { splitText, truncate } from '../shared/text';
import { markdownChunks } from '../shared/markdown';
import { MessageParts } from '../shared/parts';
import type { PlatformContext, SendProgress, SendResult } from '../types';
import { DiscordApiError, callDiscord } from './api';
import { ButtonStyle, ComponentType, type DiscordActionRow, type DiscordCreateMessage, type DiscordMessage } from './wire';

export const TEXT_LIMIT = 2000;
const BUTTONS_PER_ROW = 5;
const ROWS_MAX = 5;
const LABEL_LIMIT = 80;
const CUSTOM_ID_LIMIT = 100;
/** Unknown Webhook, Invalid Webhook Token: the interaction token expired or was used up. */
const DEAD_INTERACTION_CODES = new Set([10015, 50027]);

export interface DiscordSendCredentials {
  application_id: string;
  bot_token: string;
}

/**
 * Replies to a recent interaction go through its follow-up webhook (which also replaces the
 * "thinking…" of a deferred response); otherwise, or once the token has expired, to the channel with
 * the bot token. Media one by one (images as embeds, other files as links), then the text split at
 * 2000 characters with buttons as components (5 rows of 5) on the last part. Mentions never ping.
 *
 * Parts (see `SendProgress`): one per media item, then one per chunk of the text.
 */
export async function sendDiscord(
  ctx: PlatformContext,
  credentials: DiscordSendCredentials,
  channelId: string,
  message: OutgoingMessage,
  replyContext: Record<string, string> | undefined,
  progress?: SendProgress,
): Promise<SendResult> {
  const token = replyContext?.interaction_token;
  const expiresAt = Number(replyContext?.interaction_expires_at ?? 0);
  let interactionToken = token && Date.now() < expiresAt ? token : undefined;
  const secrets = [credentials.bot_token, ...(token ? [token] : [])];

  const toChannel = (payload: DiscordCreateMessage) =>
    callDiscord<DiscordMessage>(ctx, {
      method: 'createMessage',
      path: `/channels/${encodeURIComponent(channelId)}/messages`,
      httpMethod: 'POST',
      botToken: credentials.bot_token,
      json: payload,
      secrets,
    });
  const post = async (payload: DiscordCreateMessage): Promise<string> => {
    if (interactionToken) {
      try {
        const sent = await callDiscord<DiscordMessage>(ctx, {
          method: 'createFollowupMessage',
          path: `/webhooks/${encodeURIComponent(credentials.application_id)}/${encodeURIComponent(interactionToken)}`,
          httpMethod: 'POST',
          json: payload,
          secrets,
        });
        return sent.id;
      } catch (error) {
        if (!(error instanceof DiscordApiError && error.code !== undefined && DEAD_INTERACTION_CODES.has(error.code))) throw error;
        interactionToken = undefined;
      }
    }
    return (await toChannel(payload)).id;
  };

  // Only before media, which takes a while to upload; a text arrives at once.
  if (!interactionToken && message.media?.length) await showTyping(ctx, credentials.bot_token, channelId, secrets);

  const parts = new MessageParts(progress);
  const one = async (payload: DiscordCreateMessage) => ({ messageIds: [await post(payload)] });
  for (const item of message.media ?? []) await parts.part(() => one(mediaPayload(item)));

  const buttons = message.buttons ?? [];
  const text = message.text && message.text.length > 0 ? message.text : buttons.length > 0 ? BUTTONS_ONLY_TEXT : undefined;
  if (text !== undefined) {
    const chunks = message.format === 'markdown' && text === message.text ? markdownChunks(text, 'discord', TEXT_LIMIT) : splitText(text, TEXT_LIMIT);
    for (const [index, chunk] of chunks.entries()) {
      const last = index === chunks.length - 1;
      await parts.part(() =>
        one({ content: chunk, ...(last && buttons.length > 0 ? { components: components(buttons) } : {}), allowed_mentions: { parse: [] } }),
      );
    }
  }
  return parts.result(false);
}

/** Beyond 25 buttons the rest cannot be shown; scenario validation warns about it. */
export function components(buttons: Button[]): DiscordActionRow[] {
  const rows: DiscordActionRow[] = [];
  const shown = buttons.slice(0, BUTTONS_PER_ROW * ROWS_MAX);
  for (let start = 0; start < shown.length; start += BUTTONS_PER_ROW) {
    rows.push({
      type: ComponentType.ActionRow,
      components: shown.slice(start, start + BUTTONS_PER_ROW).map((button) => ({
        type: ComponentType.Button,
        style: ButtonStyle.Primary,
        label: truncate(button.text, LABEL_LIMIT),
        custom_id: button.value.slice(0, CUSTOM_ID_LIMIT),
      })),
    });
  }
  return rows;
}

function mediaPayload(item: MediaItem): DiscordCreateMessage {
  const url = requireUrl('discord', 'createMessage', item);
  if (item.type === 'image') {
    return { embeds: [{ image: { url }, ...(item.caption ? { description: truncate(item.caption, 4096) } : {}) }], allowed_mentions: { parse: [] } };
  }
  // Discord unfurls links to video, audio and documents into players and previews.
  return { content: item.caption ? `${truncate(item.caption, TEXT_LIMIT - url.length - 1)}\n${url}` : url, allowed_mentions: { parse: [] } };
}

/** Best effort "Bot is typing…"; its failure never fails the send. */
async function showTyping(ctx: PlatformContext, botToken: string, channelId: string, secrets: string[]): Promise<void> {
  try {
    await callDiscord(ctx, {
      method: 'triggerTypingIndicator',
      path: `/channels/${encodeURIComponent(channelId)}/typing`,
      httpMethod: 'POST',
      botToken,
      secrets,
    });
  } catch {
    // Ignored on purpose: the message itself reports any real problem with the channel.
  }
}
