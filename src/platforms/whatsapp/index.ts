import { z } from 'zod';
import { headerToken } from '../shared/http';
import { callGraph } from '../shared/meta';
import { metaAppId, subscribeApp } from '../shared/meta-subscriptions';
import type { PlatformAdapter } from '../types';
import { handleWhatsAppWebhook } from './inbound';
import { sendWhatsApp } from './outbound';
import type { WaPhoneNumber } from './wire';

export const whatsappCredentials = z.object({
  phone_number_id: z.string().regex(/^\d+$/, 'must be the numeric phone number ID from WhatsApp Manager'),
  access_token: headerToken,
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
  /** The WhatsApp Business Account (WABA) id: with it, the webhook is registered through the API. */
  business_account_id: z.string().regex(/^\d+$/, 'must be the numeric WhatsApp Business Account ID').optional(),
  app_id: metaAppId,
});
export type WhatsAppCredentials = z.infer<typeof whatsappCredentials>;

/**
 * WhatsApp Cloud API. With the business account id, registering the webhook subscribes the app to
 * the account with our URL as the account's callback (Meta's per-account override), and the app's
 * own subscription too when the credentials name the app; else it is set in the Meta app dashboard:
 * see docs/platforms.md.
 */
export const whatsappAdapter: PlatformAdapter<WhatsAppCredentials> = {
  name: 'whatsapp',
  credentialsSchema: whatsappCredentials,

  handleWebhook(req, credentials) {
    return handleWhatsAppWebhook(req, credentials);
  },

  send(ctx, credentials, chatId, message, replyContext, progress, outside) {
    return sendWhatsApp(ctx, credentials, chatId, message, replyContext, progress, outside);
  },

  async testConnection(ctx, credentials) {
    const phone = await callGraph<WaPhoneNumber>(ctx, {
      platform: 'whatsapp',
      method: 'getPhoneNumber',
      path: encodeURIComponent(credentials.phone_number_id),
      httpMethod: 'GET',
      accessToken: credentials.access_token,
      query: { fields: 'display_phone_number,verified_name,quality_rating' },
    });
    return {
      ok: true,
      info: { id: phone.id, display_phone_number: phone.display_phone_number, verified_name: phone.verified_name, quality_rating: phone.quality_rating },
    };
  },

  async registerWebhook(ctx, credentials, url) {
    const account = credentials.business_account_id;
    if (!account) return 'manual';
    if (credentials.app_id) {
      await subscribeApp(ctx, {
        platform: 'whatsapp',
        appId: credentials.app_id,
        appSecret: credentials.app_secret,
        object: 'whatsapp_business_account',
        fields: ['messages'],
        url,
        verifyToken: credentials.verify_token,
      });
    }
    await callGraph(ctx, {
      platform: 'whatsapp',
      method: 'subscribeBusinessAccount',
      path: `${encodeURIComponent(account)}/subscribed_apps`,
      httpMethod: 'POST',
      accessToken: credentials.access_token,
      json: { override_callback_uri: url, verify_token: credentials.verify_token },
    });
    return 'registered';
  },

  /** The account stops sending its events to the app (its callback override goes with it). */
  async unregisterWebhook(ctx, credentials) {
    const account = credentials.business_account_id;
    if (!account) return false;
    await callGraph(ctx, {
      platform: 'whatsapp',
      method: 'unsubscribeBusinessAccount',
      path: `${encodeURIComponent(account)}/subscribed_apps`,
      httpMethod: 'DELETE',
      accessToken: credentials.access_token,
    });
    return true;
  },
};
