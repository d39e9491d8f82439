import { z } from 'zod';
import { headerToken } from '../shared/http';
import { callGraph } from '../shared/meta';
import type { PlatformAdapter } from '../types';
import { handleMessengerWebhook } from './inbound';
import { sendMessenger } from './outbound';

export const messengerCredentials = z.object({
  page_id: z.string().regex(/^\d+$/, 'must be the numeric Facebook Page ID'),
  page_access_token: headerToken,
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
});
export type MessengerCredentials = z.infer<typeof messengerCredentials>;

/** Messenger Platform. The webhook is configured in the Meta app dashboard: see docs/platforms.md. */
export const messengerAdapter: PlatformAdapter<MessengerCredentials> = {
  name: 'messenger',
  credentialsSchema: messengerCredentials,

  handleWebhook(req, credentials) {
    return handleMessengerWebhook(req, credentials);
  },

  send(ctx, credentials, chatId, message, _replyContext, progress) {
    return sendMessenger(ctx, credentials, chatId, message, progress);
  },

  async testConnection(ctx, credentials) {
    const page = await callGraph<{ id: string; name?: string }>(ctx, {
      platform: 'messenger',
      method: 'me',
      path: 'me',
      httpMethod: 'GET',
      accessToken: credentials.page_access_token,
      query: { fields: 'id,name' },
    });
    return { ok: true, info: { id: page.id, name: page.name } };
  },
};
