import { randomBytes } from 'node:crypto';
import { AppError } from '../src/errors';
import { adapters, PlatformApiError, PlatformNetworkError, type PlatformAdapter, type PlatformName } from '../src/platforms';
import { notFound } from '../src/errors';
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

export interface WebhookRegistration {
  url: string;
  registered: boolean;
  instructions?: string;
}

/**
 * Registers `PUBLIC_BASE_URL/v1/webhooks/{platform}/{bot_id}` with the platform where it has an API
 * for it (Telegram `setWebhook` with a secret token). The secret already stored is reused, so a
 * registration repeated (activation, new credentials) never leaves the platform and us disagreeing.
 * `credentials` replaces the stored ones for this call (a PUT checks new credentials before saving).
 */
export async function registerWebhook(s: Services, botId: string, platform: PlatformName, credentials?: Record<string, string>): Promise<WebhookRegistration> {
  const stored = await s.platforms.secrets(botId, platform);
  if (!stored) throw notFound('Platform connection');
  const adapter = supportedAdapter(platform);
  const url = `${s.config.publicBaseUrl}/v1/webhooks/${platform}/${botId}`;
  if (!adapter.registerWebhook) {
    return { url, registered: false, instructions: `Paste ${url} into the ${platform} app settings (see docs/platforms.md).` };
  }
  const secret = stored.webhookSecret ?? randomBytes(32).toString('hex');
  try {
    await adapter.registerWebhook({ apiBase: s.config.apiBases[platform] }, credentials ?? stored.credentials, url, secret);
  } catch (error) {
    throw platformFailure(error);
  }
  if (!stored.webhookSecret) await s.platforms.setWebhookSecret(botId, platform, secret);
  return { url, registered: true };
}

export interface WebhookUnregistration {
  /** Whether the platform was told to stop calling us; false where it has no API for that. */
  unregistered: boolean;
  /** The platform refused or was unreachable: the bot is inactive all the same, so its webhook starts nothing. */
  error?: string;
}

/**
 * Unregisters the bot's webhook where the platform has an API for it (Telegram `deleteWebhook`). The
 * secret stays stored, so activating again registers the same one.
 */
export async function unregisterWebhook(s: Services, botId: string, platform: PlatformName): Promise<WebhookUnregistration> {
  const stored = await s.platforms.secrets(botId, platform);
  const adapter = adapters[platform];
  if (!stored || !adapter?.unregisterWebhook) return { unregistered: false };
  try {
    await adapter.unregisterWebhook({ apiBase: s.config.apiBases[platform] }, stored.credentials);
    return { unregistered: true };
  } catch (error) {
    const failure = platformFailure(error);
    return { unregistered: false, error: failure instanceof Error ? failure.message : String(failure) };
  }
}
