import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { auditRepository } from '../src/db/audit';
import { botsRepository, type Bot } from '../src/db/bots';
import { dialogsRepository } from '../src/db/dialogs';
import { platformsRepository } from '../src/db/platforms';
import { scenariosRepository } from '../src/db/scenarios';
import { webhookStatsRepository } from '../src/db/webhook-stats';
import { notFound } from '../src/errors';
import type { Logger } from '../src/log';
import { authorize } from './auth';
import { dialogClient } from './dialog-client';
import { createRateLimits, type RateLimitOptions } from './rate-limit';
import { forgettingAfter, webhookLookups } from './webhook-lookups';

export interface AppDeps {
  db: Db;
  config: Config;
  log: Logger;
  temporal: Client;
  /** Milliseconds since epoch; injectable so tests can move time (Slack's 5-minute window). */
  now?: () => number;
  /** Where rate limits are counted (Redis shares them between API processes) and test overrides. */
  rateLimits?: RateLimitOptions;
}

/** Repositories and clients the routes share, built once per app; Temporal only through `workflows`. */
export function createServices(deps: AppDeps) {
  const bots = botsRepository(deps.db);
  const platforms = platformsRepository(deps.db, { current: deps.config.encryptionKey });
  const webhookAuth = webhookLookups(bots, platforms);
  const repos = {
    bots: forgettingAfter(bots, ['create', 'update', 'deleteWithEverything'], webhookAuth.forgetAll),
    scenarios: scenariosRepository(deps.db),
    platforms: forgettingAfter(platforms, ['create', 'update', 'setWebhookSecret', 'delete'], webhookAuth.forgetAll),
    dialogs: dialogsRepository(deps.db),
    audit: auditRepository(deps.db),
    webhookStats: webhookStatsRepository(deps.db),
  };

  /** The bot, if the caller's token may see it (404 otherwise, whether or not it exists). */
  async function botFor(ctx: Context, botId: string, access: 'read' | 'write'): Promise<Bot> {
    const bot = await repos.bots.get(botId);
    if (!bot) throw notFound('Bot');
    authorize(ctx, bot.account_id, access, 'Bot');
    return bot;
  }

  const { temporal, ...shared } = deps;
  const workflows = dialogClient(temporal, deps.config.temporal.taskQueue, {
    hasDefaultScenario: async (botId) => (await repos.scenarios.getDefault(botId)) !== undefined,
  });
  return { ...shared, ...repos, workflows, webhookAuth, now: deps.now ?? Date.now, botFor, rateLimit: createRateLimits(deps.rateLimits) };
}

export type Services = ReturnType<typeof createServices>;
