import { randomBytes } from 'node:crypto';
import { platformStatusRepository } from '../src/db/platform-status';
import { AppError, notFound } from '../src/errors';
import { adapters, PlatformApiError, PlatformNetworkError, type PlatformAdapter, type PlatformName, type WebhookRegistrationResult } from '../src/platforms';
import { connectionFailureOf } from '../src/platforms/connection-failure';
import type { Services } from './deps';

/** The adapter of a platform this build supports; 422 for a platform not implemented yet. */
export function supportedAdapter(platform: PlatformName): PlatformAdapter {
  const adapter = adapters[platform];
  if (!adapter) throw new AppError(422, 'platform_unsupported', `The ${platform} platform is not available in this version.`, { platform });
  return adapter;
}

/** A platform refusing our call is the caller's problem to fix (bad token): 502 would blame us. */
export function platformFailure(error: unknown): unknown {
  if (error instanceof PlatformApiError) {
    return new AppError(422, 'platform_rejected', error.message, { platform: error.platform, method: error.method, status: error.status });
  }
  if (error instanceof PlatformNetworkError) return new AppError(502, 'platform_unreachable', error.message);
  return error;
}

/**
 * What is left to the operator where the platform (or the credentials given) has no API for it. The
 * verify token is named, never quoted: it is a credential.
 */
const INSTRUCTIONS: Partial<Record<PlatformName, (url: string) => string>> = {
  whatsapp: (url) =>
    `In the Meta app dashboard → WhatsApp → Configuration, set the Callback URL to ${url} with the verify_token of these credentials, and subscribe to the messages field. Or add business_account_id (and app_id) to the credentials to have it done through the API.`,
  messenger: (url) =>
    `The page is subscribed to the app (messages, messaging_postbacks). In the Meta app dashboard → Messenger → Settings → Webhooks, set the Callback URL to ${url} with the verify_token of these credentials. Or add app_id to the credentials to have it done through the API.`,
  slack: (url) =>
    `In api.slack.com/apps → your app, set ${url} as the Request URL of Event Subscriptions (bot events message.im, and message.channels, message.groups for channels) and of Interactivity & Shortcuts. Slack has no API for it.`,
};

const instructionsFor = (platform: PlatformName, url: string): string =>
  INSTRUCTIONS[platform]?.(url) ?? `Paste ${url} into the ${platform} app settings (see docs/platforms.md).`;

export interface WebhookRegistration {
  url: string;
  /** Whether the platform calls the URL now; false when something is left to the operator, said in `instructions`. */
  registered: boolean;
  instructions?: string;
}

/**
 * Registers `PUBLIC_BASE_URL/v1/webhooks/{platform}/{bot_id}` with the platform where it has an API
 * for it (Telegram `setWebhook` with a secret token, Discord's Interactions Endpoint URL, Meta's
 * page and business account subscriptions). The secret already stored is reused, so a registration
 * repeated (activation, new credentials) never leaves the platform and us disagreeing. The platform's
 * answer sets the connection's status. `credentials` replaces the stored ones for this call (a PUT
 * checks new credentials before saving them; their answer then says nothing of the stored ones).
 */
export async function registerWebhook(s: Services, botId: string, platform: PlatformName, credentials?: Record<string, string>): Promise<WebhookRegistration> {
  const stored = await s.platforms.secrets(botId, platform);
  if (!stored) throw notFound('Platform connection');
  const adapter = supportedAdapter(platform);
  const url = `${s.config.publicBaseUrl}/v1/webhooks/${platform}/${botId}`;
  if (!adapter.registerWebhook) return { url, registered: false, instructions: instructionsFor(platform, url) };
  const status = platformStatusRepository(s.db);
  const secret = stored.webhookSecret ?? randomBytes(32).toString('hex');
  let result: WebhookRegistrationResult;
  try {
    result = await adapter.registerWebhook({ apiBase: s.config.apiBases[platform] }, credentials ?? stored.credentials, url, secret);
  } catch (error) {
    const failure = connectionFailureOf(error, 'connection');
    if (failure && !credentials) await status.recordFailure(botId, platform, failure);
    throw platformFailure(error);
  }
  if (result === 'manual') return { url, registered: false, instructions: instructionsFor(platform, url) };
  if (!credentials) await status.recordSuccess(botId, platform);
  if (!stored.webhookSecret) await s.platforms.setWebhookSecret(botId, platform, secret);
  await s.platforms.setWebhookRegistered(botId, platform, result === 'registered');
  return result === 'registered' ? { url, registered: true } : { url, registered: false, instructions: instructionsFor(platform, url) };
}

export interface WebhookUnregistration {
  /** Whether the platform was told to stop calling us; false where it has no API for that. */
  unregistered: boolean;
  /** The platform refused or was unreachable: the bot is inactive (or the connection gone) all the same. */
  error?: string;
}

/**
 * Unregisters the bot's webhook where the platform has an API for it (Telegram `deleteWebhook`,
 * Discord's endpoint URL cleared, the Meta page or business account unsubscribed from the app). The
 * secret stays stored, so activating again registers the same one. Never throws for the platform's
 * sake: what it did not do is said in `error`.
 */
export async function unregisterWebhook(s: Services, botId: string, platform: PlatformName): Promise<WebhookUnregistration> {
  const stored = await s.platforms.secrets(botId, platform);
  const adapter = adapters[platform];
  if (!stored || !adapter?.unregisterWebhook) return { unregistered: false };
  const status = platformStatusRepository(s.db);
  try {
    const unregistered = await adapter.unregisterWebhook({ apiBase: s.config.apiBases[platform] }, stored.credentials);
    if (unregistered) {
      await status.recordSuccess(botId, platform);
      await s.platforms.setWebhookRegistered(botId, platform, false);
    }
    return { unregistered };
  } catch (error) {
    const failure = connectionFailureOf(error, 'connection');
    if (failure) await status.recordFailure(botId, platform, failure);
    const reported = platformFailure(error);
    return { unregistered: false, error: reported instanceof Error ? reported.message : String(reported) };
  }
}

/**
 * Activation: every connection's webhook registered in turn. A platform refusing or unreachable does
 * not stop the others, nor the activation: it is said in `error`, and in the connection's status.
 */
export async function registerWebhooks(s: Services, botId: string, connections: { platform: PlatformName }[]) {
  const results: (WebhookRegistration & { platform: PlatformName; error?: string })[] = [];
  for (const { platform } of connections) {
    try {
      results.push({ platform, ...(await registerWebhook(s, botId, platform)) });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results.push({ platform, url: `${s.config.publicBaseUrl}/v1/webhooks/${platform}/${botId}`, registered: false, error: error.message });
    }
  }
  return results;
}

/** Deactivation, deletion: every connection's webhook unregistered where the platform allows it. */
export async function unregisterWebhooks(s: Services, botId: string, connections: { platform: PlatformName }[]) {
  const results: (WebhookUnregistration & { platform: PlatformName })[] = [];
  for (const { platform } of connections) results.push({ platform, ...(await unregisterWebhook(s, botId, platform)) });
  return results;
}
