import { z } from 'zod';
import { headerToken } from '../shared/http';
import type { PlatformAdapter } from '../types';
import { callSlack } from './api';
import { handleSlackWebhook } from './inbound';
import { sendSlack } from './outbound';

export const slackCredentials = z.object({
  bot_token: headerToken,
  signing_secret: z.string().min(1),
});
export type SlackCredentials = z.infer<typeof slackCredentials>;

/**
 * Slack app (Events API + interactivity). Event and interactivity URLs are set in the app's
 * settings, not through an API: see docs/platforms.md.
 */
export const slackAdapter: PlatformAdapter<SlackCredentials> = {
  name: 'slack',
  credentialsSchema: slackCredentials,

  handleWebhook(req, credentials) {
    return handleSlackWebhook(req, credentials.signing_secret);
  },

  send(ctx, credentials, chatId, message, replyContext, progress) {
    return sendSlack(ctx, credentials.bot_token, chatId, message, replyContext, progress);
  },

  async testConnection(ctx, credentials) {
    const auth = await callSlack(ctx, credentials.bot_token, 'auth.test', {});
    return { ok: true, info: { url: auth.url, team: auth.team, team_id: auth.team_id, user: auth.user, user_id: auth.user_id, bot_id: auth.bot_id } };
  },
};
