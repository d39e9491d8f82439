import { z } from 'zod';
import { headerToken } from '../shared/http';
import type { PlatformAdapter } from '../types';
import { callDiscord } from './api';
import { handleDiscordWebhook } from './inbound';
import { sendDiscord } from './outbound';
import type { DiscordUser } from './wire';

export const discordCredentials = z.object({
  application_id: z.string().regex(/^\d+$/, 'must be the numeric application ID'),
  bot_token: headerToken,
  public_key: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-character hex public key from the developer portal'),
});
export type DiscordCredentials = z.infer<typeof discordCredentials>;

/**
 * Discord application over HTTP interactions (slash commands and buttons). The Interactions
 * Endpoint URL and the commands are set up outside this API: see docs/platforms.md.
 */
export const discordAdapter: PlatformAdapter<DiscordCredentials> = {
  name: 'discord',
  credentialsSchema: discordCredentials,

  handleWebhook(req, credentials) {
    return handleDiscordWebhook(req, credentials.public_key);
  },

  send(ctx, credentials, chatId, message, replyContext, progress) {
    return sendDiscord(ctx, credentials, chatId, message, replyContext, progress);
  },

  async testConnection(ctx, credentials) {
    const me = await callDiscord<DiscordUser>(ctx, {
      method: 'getCurrentUser',
      path: '/users/@me',
      httpMethod: 'GET',
      botToken: credentials.bot_token,
      secrets: [credentials.bot_token],
    });
    return { ok: true, info: { id: me.id, username: me.username, global_name: me.global_name, bot: me.bot } };
  },
};
