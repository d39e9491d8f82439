import { z } from 'zod';
import { headerToken } from '../shared/http';
import { callGraph } from '../shared/meta';
import type { PlatformAdapter } from '../types';
import { handleWhatsAppWebhook } from './inbound';
import { sendWhatsApp } from './outbound';
import type { WaPhoneNumber } from './wire';

export const whatsappCredentials = z.object({
  phone_number_id: z.string().regex(/^\d+$/, 'must be the numeric phone number ID from WhatsApp Manager'),
  access_token: headerToken,
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
});
export type WhatsAppCredentials = z.infer<typeof whatsappCredentials>;

/**
 * WhatsApp Cloud API. The webhook is configured in the Meta app dashboard (no API for it here):
 * see docs/platforms.md.
 */
export const whatsappAdapter: PlatformAdapter<WhatsAppCredentials> = {
  name: 'whatsapp',
  credentialsSchema: whatsappCredentials,

  handleWebhook(req, credentials) {
    return handleWhatsAppWebhook(req, credentials);
  },

  send(ctx, credentials, chatId, message, replyContext, progress) {
    return sendWhatsApp(ctx, credentials, chatId, message, replyContext, progress);
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
};
