import { z } from 'zod';
import type { PlatformContext } from '../types';
import { callGraph } from './meta';

/** The optional Meta app id: with it, the app's own webhook subscription is set through the API too. */
export const metaAppId = z.string().regex(/^\d+$/, 'must be the numeric App ID from the Meta app dashboard').optional();

export interface AppSubscription {
  platform: 'whatsapp' | 'messenger';
  appId: string;
  appSecret: string;
  /** Graph's webhook object: `page` (Messenger) or `whatsapp_business_account`. */
  object: 'page' | 'whatsapp_business_account';
  fields: readonly string[];
  url: string;
  verifyToken: string;
}

/**
 * `POST /{app_id}/subscriptions` with the app access token (`{app_id}|{app_secret}`): the app's
 * callback URL and fields for one webhook object. Meta checks the URL with the `GET` handshake before
 * it answers. It is the app's, shared by every page or business account the app serves, so it is
 * set on registration but never removed on unregistration.
 */
export async function subscribeApp(ctx: PlatformContext, subscription: AppSubscription): Promise<void> {
  await callGraph(ctx, {
    platform: subscription.platform,
    method: 'subscribeApp',
    path: `${encodeURIComponent(subscription.appId)}/subscriptions`,
    httpMethod: 'POST',
    accessToken: `${subscription.appId}|${subscription.appSecret}`,
    accessTokenInBody: true,
    json: {
      object: subscription.object,
      callback_url: subscription.url,
      verify_token: subscription.verifyToken,
      fields: subscription.fields.join(','),
    },
  });
}
