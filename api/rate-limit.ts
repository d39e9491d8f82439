import Redis from 'ioredis';
import type { Context, Middleware } from 'koa';
import { isIPv6 } from 'node:net';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../src/errors';
import type { Logger } from '../src/log';
import { claimsOf } from './auth';

/**
 * Requests per minute (CONTRACT.md §2): per token for operators, per bot for verified webhook
 * deliveries, and per source address for webhook requests whose proof failed.
 */
export const RATE_LIMITS = {
  bot_creation: 10,
  scenario_writes: 20,
  // An editor checks the scenario as the operator types (every 400 ms at most): stores nothing.
  scenario_validations: 300,
  dialog_operations: 100,
  // The Temporal UI decodes a history in many small calls (one per event with payloads).
  codec: 1000,
  webhooks: 1000,
  failed_webhook_proofs: 60,
} as const;

export type RateCategory = keyof typeof RATE_LIMITS;
const OPERATOR_CATEGORIES = ['bot_creation', 'scenario_writes', 'scenario_validations', 'dialog_operations', 'codec'] as const;
type OperatorCategory = (typeof OPERATOR_CATEGORIES)[number];

export interface RateLimitOptions {
  /** An ioredis client (REDIS_URL): limits shared by every API process. Unset: this process's memory. */
  redis?: unknown;
  /** Overrides of the per-minute limits (tests). */
  limits?: Partial<Record<RateCategory, number>>;
}

export const WINDOW_SECONDS = 60;

interface Budget {
  category: RateCategory;
  limiter: RateLimiterAbstract;
  points: number;
}

function budgetOf(category: RateCategory, options: RateLimitOptions): Budget {
  const points = options.limits?.[category] ?? RATE_LIMITS[category];
  const keyPrefix = `rl_${category}`;
  const memory = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix });
  // With Redis down, each process falls back to its own memory instead of refusing everything.
  const limiter = options.redis
    ? new RateLimiterRedis({ storeClient: options.redis, points, duration: WINDOW_SECONDS, keyPrefix, insuranceLimiter: memory })
    : memory;
  return { category, limiter, points };
}

function tooMany({ category, points }: Budget, msBeforeNext: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(
    429,
    'rate_limited',
    `Too many requests: at most ${points} per minute for ${category.replaceAll('_', ' ')}; retry in ${retryAfter} s.`,
    { category, limit: points, window_seconds: WINDOW_SECONDS, retry_after: retryAfter },
    { 'Retry-After': String(retryAfter), 'RateLimit-Limit': String(points), 'RateLimit-Remaining': '0' },
  );
}

/** Counts one request of `key` against the budget: the limiter's answer, and whether the request was within the budget. */
async function consume(budget: Budget, key: string): Promise<{ within: boolean; result: RateLimiterRes }> {
  try {
    return { within: true, result: await budget.limiter.consume(key) };
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    return { within: false, result: error };
  }
}

/** Counts one request of `key` against the budget, with RateLimit headers; 429 with `Retry-After` beyond it. */
async function spend(budget: Budget, key: string, ctx: Context): Promise<void> {
  const { within, result } = await consume(budget, key);
  if (!within) throw tooMany(budget, result.msBeforeNext);
  ctx.set('RateLimit-Limit', String(budget.points));
  ctx.set('RateLimit-Remaining', String(result.remainingPoints));
}

/** Operators are limited per token subject, so a fresh token of the same user does not reset the count. */
const operatorKey = (ctx: Context) => `sub:${claimsOf(ctx).sub}`;

/** A bot's webhook and Gateway deliveries share one budget. */
const deliveryKey = (botId: string) => `bot:${botId}`;

export function createRateLimits(options: RateLimitOptions = {}) {
  const budgets = new Map(OPERATOR_CATEGORIES.map((category) => [category, budgetOf(category, options)]));

  /** Route middleware: counts the request against `category` for the caller's token. */
  return function rateLimit(category: OperatorCategory): Middleware {
    const budget = budgets.get(category) as Budget;
    return async (ctx, next) => {
      await spend(budget, operatorKey(ctx), ctx);
      await next();
    };
  };
}

/**
 * A webhook's two budgets (CONTRACT.md §2 "Tenancy and safety"). The bot's budget counts only
 * requests whose platform proof held, so forgeries cannot spend it; failed proofs count against
 * their source address, which is refused before anything is read once it has spent its own.
 */
export function createWebhookBudgets(options: RateLimitOptions = {}) {
  const failedProofs = budgetOf('failed_webhook_proofs', options);
  const deliveries = budgetOf('webhooks', options);
  return {
    /** 429 while `address` has no failed proofs left in this window; counts nothing. */
    async refuseSpentAddress(address: string): Promise<void> {
      const used = await failedProofs.limiter.get(sourceKey(address));
      if (used && used.consumedPoints >= failedProofs.points) throw tooMany(failedProofs, used.msBeforeNext);
    },
    /** Counts a failed proof of `address`: the caller answers 401, or this 429 once the address has spent its budget. */
    async countFailedProof(address: string, ctx: Context): Promise<void> {
      await spend(failedProofs, sourceKey(address), ctx);
    },
    /** Counts a verified delivery against the bot's budget; 429 beyond it. */
    async countDelivery(botId: string, ctx: Context): Promise<void> {
      await spend(deliveries, deliveryKey(botId), ctx);
    },
    /** Counts a delivery that arrived without a request (Discord's Gateway) against the same budget; false beyond it. */
    async tryDelivery(botId: string): Promise<boolean> {
      return (await consume(deliveries, deliveryKey(botId))).within;
    },
  };
}

/**
 * The key of a source address: an IPv4 address (also when mapped into IPv6) as it is, an IPv6
 * address by its /64, the smallest block one subscriber is usually given.
 */
export function sourceKey(address: string): string {
  const plain = address.split('%')[0];
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(plain);
  if (mapped) return mapped[1];
  if (!isIPv6(plain)) return plain;
  const [head, tail] = plain.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const missing = tail === undefined ? [] : Array<string>(8 - groups(head).length - groups(tail).length).fill('0');
  const prefix = [...groups(head), ...missing, ...groups(tail)].slice(0, 4);
  return `${prefix.map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
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
