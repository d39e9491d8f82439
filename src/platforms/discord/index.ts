import { z } from 'zod';
import { headerToken } from '../shared/http';
import type { PlatformAdapter, PlatformContext } from '../types';
import { callDiscord } from './api';
import { handleDiscordWebhook } from './inbound';
import { sendDiscord } from './outbound';
import type { DiscordApplication, DiscordUser } from './wire';

export const discordCredentials = z.object({
  application_id: z.string().regex(/^\d+$/, 'must be the numeric application ID'),
  bot_token: headerToken,
  public_key: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-character hex public key from the developer portal'),
});
export type DiscordCredentials = z.infer<typeof discordCredentials>;

/** `PATCH /applications/@me` (Edit Current Application): only the endpoint URL changes. */
async function editInteractionsEndpoint(ctx: PlatformContext, credentials: DiscordCredentials, url: string | null): Promise<void> {
  await callDiscord<DiscordApplication>(ctx, {
    method: 'editCurrentApplication',
    path: '/applications/@me',
    httpMethod: 'PATCH',
    botToken: credentials.bot_token,
    json: { interactions_endpoint_url: url },
    secrets: [credentials.bot_token],
  });
}

/**
 * Discord application over HTTP interactions (slash commands and buttons). Registering the webhook
 * sets the application's Interactions Endpoint URL: see docs/platforms.md.
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

  /** The application's Interactions Endpoint URL; Discord checks it with a signed PING before it answers. */
  async registerWebhook(ctx, credentials, url) {
    await editInteractionsEndpoint(ctx, credentials, url);
    return 'registered';
  },

  /** Without an endpoint URL, Discord sends interactions over the Gateway instead. */
  async unregisterWebhook(ctx, credentials) {
    await editInteractionsEndpoint(ctx, credentials, null);
    return true;
  },
};
