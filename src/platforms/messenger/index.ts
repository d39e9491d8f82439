import { z } from 'zod';
import { headerToken } from '../shared/http';
import { callGraph } from '../shared/meta';
import { metaAppId, subscribeApp } from '../shared/meta-subscriptions';
import type { PlatformAdapter } from '../types';
import { handleMessengerWebhook } from './inbound';
import { sendMessenger } from './outbound';

export const messengerCredentials = z.object({
  page_id: z.string().regex(/^\d+$/, 'must be the numeric Facebook Page ID'),
  page_access_token: headerToken,
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
  app_id: metaAppId,
});
export type MessengerCredentials = z.infer<typeof messengerCredentials>;

/** The page events a dialog reacts to (docs/platforms.md). */
const PAGE_FIELDS = ['messages', 'messaging_postbacks'];

/**
 * Messenger Platform. Registering the webhook subscribes the page to the app; the app's callback URL
 * is set too when the credentials name the app (`app_id`), else in the Meta app dashboard.
 */
export const messengerAdapter: PlatformAdapter<MessengerCredentials> = {
  name: 'messenger',
  credentialsSchema: messengerCredentials,

  handleWebhook(req, credentials) {
    return handleMessengerWebhook(req, credentials);
  },

  send(ctx, credentials, chatId, message, _replyContext, progress, outside) {
    return sendMessenger(ctx, credentials, chatId, message, progress, outside);
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

  async registerWebhook(ctx, credentials, url) {
    if (credentials.app_id) {
      await subscribeApp(ctx, {
        platform: 'messenger',
        appId: credentials.app_id,
        appSecret: credentials.app_secret,
        object: 'page',
        fields: PAGE_FIELDS,
        url,
        verifyToken: credentials.verify_token,
      });
    }
    await callGraph(ctx, {
      platform: 'messenger',
      method: 'subscribePage',
      path: `${encodeURIComponent(credentials.page_id)}/subscribed_apps`,
      httpMethod: 'POST',
      accessToken: credentials.page_access_token,
      json: { subscribed_fields: PAGE_FIELDS.join(',') },
    });
    return credentials.app_id ? 'registered' : 'subscribed';
  },

  /** The page stops sending its events to the app; the app's callback URL may serve other pages. */
  async unregisterWebhook(ctx, credentials) {
    await callGraph(ctx, {
      platform: 'messenger',
      method: 'unsubscribePage',
      path: `${encodeURIComponent(credentials.page_id)}/subscribed_apps`,
      httpMethod: 'DELETE',
      accessToken: credentials.page_access_token,
    });
    return true;
  },
};
