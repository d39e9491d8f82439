import { z } from 'zod';
import type { PlatformAdapter } from '../types';
import { callTelegram } from './api';
import { handleTelegramWebhook } from './inbound';
import { sendTelegram } from './outbound';

export const telegramCredentials = z.object({
  token: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must be a bot token as BotFather gives it (123456:ABC-DEF...)'),
});
export type TelegramCredentials = z.infer<typeof telegramCredentials>;

/** The updates the bot subscribes to: what a dialog can react to. */
export const ALLOWED_UPDATES = ['message', 'callback_query'];

export const telegramAdapter: PlatformAdapter<TelegramCredentials> = {
  name: 'telegram',
  credentialsSchema: telegramCredentials,

  handleWebhook(req, _credentials, webhookSecret) {
    return handleTelegramWebhook(req, webhookSecret);
  },

  send(ctx, credentials, chatId, message, _replyContext, progress) {
    return sendTelegram(ctx, credentials.token, chatId, message, progress);
  },

  async testConnection(ctx, credentials) {
    const me = await callTelegram(ctx, credentials.token, 'getMe', {});
    return {
      ok: true,
      info: {
        id: me.id,
        username: me.username,
        first_name: me.first_name,
        can_join_groups: me.can_join_groups,
        can_read_all_group_messages: me.can_read_all_group_messages,
      },
    };
  },

  async registerWebhook(ctx, credentials, url, secret) {
    await callTelegram(ctx, credentials.token, 'setWebhook', {
      url,
      secret_token: secret,
      allowed_updates: ALLOWED_UPDATES,
      drop_pending_updates: false,
    });
    return 'registered';
  },

  async unregisterWebhook(ctx, credentials) {
    // Updates sent meanwhile are kept by Telegram for a day, and arrive once the webhook is set again.
    await callTelegram(ctx, credentials.token, 'deleteWebhook', { drop_pending_updates: false });
    return true;
  },
};
