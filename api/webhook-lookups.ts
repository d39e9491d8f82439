import type { Bot, botsRepository } from '../src/db/bots';
import type { PlatformSecrets, platformsRepository } from '../src/db/platforms';
import { CONNECTION_CACHE_TTL_MS, expiringCache } from '../src/expiring-cache';
import type { PlatformName } from '../src/platforms/types';

type Bots = ReturnType<typeof botsRepository>;
type Platforms = ReturnType<typeof platformsRepository>;
type Found = { bot: Bot; secrets: PlatformSecrets } | null;

/**
 * What a webhook reads before it can check the platform's proof: the bot and its decrypted
 * connection secrets, kept a few seconds; every change made through this process forgets them at
 * once (`forgetAll`).
 */
export function webhookLookups(bots: Bots, platforms: Platforms, ttlMs = CONNECTION_CACHE_TTL_MS) {
  const cache = expiringCache<Found>(ttlMs);
  return {
    /** The bot and its secrets for the platform; null when either is missing. */
    find(botId: string, platform: PlatformName): Promise<Found> {
      return cache.get(`${botId}:${platform}`, async () => {
        const [bot, secrets] = await Promise.all([bots.get(botId), platforms.secrets(botId, platform)]);
        return bot && secrets ? { bot, secrets } : null;
      });
    },
    forgetAll: () => cache.clear(),
  };
}

/** The repository with every method in `writes` followed by `forget()`, whether it succeeded or not. */
export function forgettingAfter<T extends object>(repo: T, writes: (keyof T)[], forget: () => void): T {
  const wrapped = { ...repo };
  for (const name of writes) {
    const method = repo[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<keyof T, unknown>)[name] = async function (this: unknown, ...args: unknown[]) {
      try {
        return await method.apply(this, args);
      } finally {
        forget();
      }
    };
  }
  return wrapped;
}
