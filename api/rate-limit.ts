import Redis from 'ioredis';
import type { Context, Middleware } from 'koa';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../src/errors';
import type { Logger } from '../src/log';
import { claimsOf } from './auth';

/** Requests per minute (CONTRACT.md §2): per token for operators, per bot for webhooks. */
export const RATE_LIMITS = {
  bot_creation: 10,
  scenario_writes: 20,
  dialog_operations: 100,
  webhooks: 1000,
} as const;

export type RateCategory = keyof typeof RATE_LIMITS;

export interface RateLimitOptions {
  /** An ioredis client (REDIS_URL): limits shared by every API process. Unset: this process's memory. */
  redis?: unknown;
  /** Overrides of the per-minute limits (tests). */
  limits?: Partial<Record<RateCategory, number>>;
}

const WINDOW_SECONDS = 60;

/** Operators are limited per token subject, so a fresh token of the same user does not reset the count. */
const operatorKey = (ctx: Context) => `sub:${claimsOf(ctx).sub}`;
const botKey = (ctx: Context) => `bot:${ctx.params.botId}`;

export function createRateLimits(options: RateLimitOptions = {}) {
  const limiters = new Map<RateCategory, { limiter: RateLimiterAbstract; points: number }>();
  for (const category of Object.keys(RATE_LIMITS) as RateCategory[]) {
    const points = options.limits?.[category] ?? RATE_LIMITS[category];
    const keyPrefix = `rl_${category}`;
    const memory = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix });
    // With Redis down, each process falls back to its own memory instead of refusing everything.
    const limiter = options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, points, duration: WINDOW_SECONDS, keyPrefix, insuranceLimiter: memory })
      : memory;
    limiters.set(category, { limiter, points });
  }

  /** Route middleware: counts the request against `category`; 429 with `Retry-After` beyond the limit. */
  return function rateLimit(category: RateCategory): Middleware {
    const { limiter, points } = limiters.get(category) as { limiter: RateLimiterAbstract; points: number };
    const keyOf = category === 'webhooks' ? botKey : operatorKey;
    return async (ctx, next) => {
      try {
        const result = await limiter.consume(keyOf(ctx));
        ctx.set('RateLimit-Limit', String(points));
        ctx.set('RateLimit-Remaining', String(result.remainingPoints));
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new AppError(
          429,
          'rate_limited',
          `Too many requests: at most ${points} per minute for ${category.replace('_', ' ')}; retry in ${retryAfter} s.`,
          { category, limit: points, window_seconds: WINDOW_SECONDS, retry_after: retryAfter },
          { 'Retry-After': String(retryAfter), 'RateLimit-Limit': String(points), 'RateLimit-Remaining': '0' },
        );
      }
      await next();
    };
  };
}

export type RateLimit = ReturnType<typeof createRateLimits>;

/**
 * The Redis client of `REDIS_URL`, for `createApp({rateLimits: {redis}})`; undefined when unset.
 * The caller disconnects it on shutdown. While Redis is unreachable the limits fall back to memory.
 */
export function redisForRateLimits(url: string | undefined, log: Logger): Redis | undefined {
  if (!url) return undefined;
  const redis = new Redis(url, { enableOfflineQueue: false });
  redis.on('error', (error) => log.warn({ err: error }, 'redis unavailable: rate limits fall back to this process'));
  return redis;
}
