import type { Bot, botsRepository } from '../src/db/bots';
import type { PlatformSecrets, platformsRepository } from '../src/db/platforms';
import type { PlatformName } from '../src/platforms/types';

/** How long another API process may go on using a bot or connection this one did not change. */
export const WEBHOOK_LOOKUP_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

type Bots = ReturnType<typeof botsRepository>;
type Platforms = ReturnType<typeof platformsRepository>;
type Found = { bot: Bot; secrets: PlatformSecrets } | null;

/**
 * What a webhook reads before it can check the platform's proof: the bot and its decrypted
 * connection secrets. They are read on every platform call and change rarely, so they are kept a
 * few seconds; every change made through this process forgets them at once (`forgetAll`).
 */
export function webhookLookups(bots: Bots, platforms: Platforms, ttlMs = WEBHOOK_LOOKUP_TTL_MS) {
  const entries = new Map<string, { found: Found; until: number }>();

  return {
    /** The bot and its secrets for the platform; null when either is missing. */
    async find(botId: string, platform: PlatformName): Promise<Found> {
      const key = `${botId}:${platform}`;
      const entry = entries.get(key);
      if (entry && entry.until > Date.now()) return entry.found;
      const [bot, secrets] = await Promise.all([bots.get(botId), platforms.secrets(botId, platform)]);
      const found = bot && secrets ? { bot, secrets } : null;
      entries.delete(key);
      entries.set(key, { found, until: Date.now() + ttlMs });
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      return found;
    },
    forgetAll(): void {
      entries.clear();
    },
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
