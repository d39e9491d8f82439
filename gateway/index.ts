/**
 * The Discord Gateway process: one session per active bot with a Discord connection, for the bots
 * whose lease this process holds. It looks for bots to connect or close every `rescanIntervalMs`,
 * renews its leases every `renewMs` (a session whose lease could not be renewed in time, or went to
 * another process, is closed), and delivers messages the way the webhook route does, counted against
 * the same per-bot budget.
 */
import type { Client } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dialogClient } from '../api/dialog-client';
import { createWebhookBudgets, type RateLimitOptions, WINDOW_SECONDS } from '../api/rate-limit';
import { webhookLookups } from '../api/webhook-lookups';
import type { Config } from '../src/config';
import type { Db } from '../src/db';
import { botsRepository } from '../src/db/bots';
import { type GatewayBot, gatewayRepository } from '../src/db/gateway';
import { platformsRepository } from '../src/db/platforms';
import { type WebhookOutcome, webhookStatsRepository } from '../src/db/webhook-stats';
import type { Logger } from '../src/log';
import { observeSignal } from '../src/metrics';
import { discordCredentials } from '../src/platforms/discord';
import type { IncomingMessage } from '../src/platforms/types';
import { type GatewaySession, openSession } from './session';

/** A lease lasts 30 s and is renewed every 10 s: a process that dies frees its bots within 30 s. */
export const LEASE = { ttlMs: 30_000, renewMs: 10_000 };
/** Listed channels beyond this many are ignored. */
const MAX_CHANNELS = 500;

export interface GatewayDeps {
  db: Db;
  config: Config;
  log: Logger;
  temporal: Client;
  /** This process's name in `gateway_leases`; default its host name, pid and a random suffix. */
  holder?: string;
  /** Default `config.gateway.rescanIntervalMs`. */
  rescanIntervalMs?: number;
  lease?: { ttlMs: number; renewMs: number };
  /** As the API's: Redis shares each bot's delivery budget with the webhook route and the other processes. */
  rateLimits?: RateLimitOptions;
}

/** The guild channels and threads of the connection setting `channel_ids`; anything but snowflakes is ignored. */
export function channelIdsOf(settings: Record<string, unknown>): Set<string> {
  const listed = Array.isArray(settings.channel_ids) ? settings.channel_ids.slice(0, MAX_CHANNELS) : [];
  return new Set(listed.filter((id): id is string => typeof id === 'string' && /^\d{1,20}$/.test(id)));
}

export function createGateway(deps: GatewayDeps) {
  const { db, config, log } = deps;
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const { ttlMs, renewMs } = deps.lease ?? LEASE;
  const rescanMs = deps.rescanIntervalMs ?? config.gateway.rescanIntervalMs;
  const leases = gatewayRepository(db);
  const platforms = platformsRepository(db, { current: config.encryptionKey });
  const lookups = webhookLookups(botsRepository(db), platforms);
  const workflows = dialogClient(deps.temporal, config.temporal.taskQueue);
  const stats = webhookStatsRepository(db);
  const budgets = createWebhookBudgets(deps.rateLimits);
  /** Per bot, until when its dropped messages go unlogged: one warning a window, not one per message. */
  const quietUntil = new Map<string, number>();
  const ctx = { apiBase: config.apiBases.discord };

  const held = new Map<string, { session: GatewaySession; version: string; heldUntil: number }>();
  /** Connections whose session ended for good (a refused token), by version: tried again once the connection changes. */
  const refused = new Map<string, string>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  /** Scans, renewals and closes run one at a time: each reads and changes `held`. */
  let work = Promise.resolve();
  const serially = (what: string, job: () => Promise<void>): Promise<void> =>
    (work = work.then(job).catch((error: unknown) => log.error({ err: error }, `Discord Gateway ${what} failed`)));

  const recordStats = (botId: string, outcome: WebhookOutcome) =>
    stats
      .record(botId, 'discord', outcome)
      .catch((error: unknown) => log.error({ err: error, bot_id: botId, platform: 'discord' }, 'webhook stats not recorded'));

  /** Counts a message against the bot's delivery budget, shared with its webhook; beyond it the message is dropped, since that is the budget's point. */
  async function admit(botId: string): Promise<boolean> {
    if (await budgets.tryDelivery(botId)) return true;
    void recordStats(botId, { accepted: false, error: 'rate limited: the bot’s deliveries for this minute are spent; Gateway message dropped' });
    const now = Date.now();
    if ((quietUntil.get(botId) ?? 0) <= now) {
      quietUntil.set(botId, now + WINDOW_SECONDS * 1000);
      log.warn({ event: 'WEBHOOK', bot_id: botId, platform: 'discord', source: 'gateway' }, 'Gateway messages dropped: the bot’s delivery budget is spent');
    }
    return false;
  }

  /** As the webhook route: nothing starts for a bot that is not active (deactivated since the last scan). */
  async function deliver(botId: string, message: IncomingMessage): Promise<void> {
    const found = await lookups.find(botId, 'discord');
    if (found?.bot.status !== 'active') return;
    await observeSignal('discord', () => workflows.deliver(botId, message));
    void recordStats(botId, { accepted: true, messages: 1 });
    log.info({ event: 'WEBHOOK', bot_id: botId, platform: 'discord', chat_id: message.chatId, source: 'gateway' }, 'gateway message delivered');
  }

  async function close(botId: string, reason: string): Promise<void> {
    const entry = held.get(botId);
    if (!entry) return;
    held.delete(botId);
    quietUntil.delete(botId);
    await entry.session.close();
    await leases.release(botId, holder);
    log.info({ bot_id: botId, platform: 'discord', reason }, 'Discord Gateway session closed');
  }

  async function open(bot: GatewayBot): Promise<void> {
    if (refused.get(bot.botId) === bot.version) return;
    const now = Date.now();
    if (!(await leases.acquire(bot.botId, holder, now, ttlMs))) return;
    const credentials = discordCredentials.safeParse((await platforms.secrets(bot.botId, 'discord'))?.credentials);
    if (!credentials.success) {
      refused.set(bot.botId, bot.version);
      await leases.release(bot.botId, holder);
      log.warn({ bot_id: bot.botId, platform: 'discord' }, 'Discord connection without valid credentials: no Gateway session');
      return;
    }
    const session = openSession({
      botId: bot.botId,
      credentials: credentials.data,
      channelIds: channelIdsOf(bot.settings),
      ctx,
      admit: () => admit(bot.botId),
      deliver: (message) => deliver(bot.botId, message),
      onEnd: (reason, permanent) => {
        if (permanent) refused.set(bot.botId, bot.version);
        void serially('close', async () => {
          if (held.get(bot.botId)?.session === session) await close(bot.botId, reason);
        });
      },
      log,
    });
    held.set(bot.botId, { session, version: bot.version, heldUntil: now + ttlMs });
    log.info({ bot_id: bot.botId, platform: 'discord' }, 'Discord Gateway session opening');
  }

  async function scan(): Promise<void> {
    const bots = new Map((await leases.discordBots()).map((bot) => [bot.botId, bot]));
    for (const [botId, entry] of [...held]) {
      const bot = bots.get(botId);
      if (!bot) await close(botId, 'the bot is inactive, deleted or no longer connected to Discord');
      else if (bot.version !== entry.version) await close(botId, 'the Discord connection changed');
    }
    for (const bot of bots.values()) {
      if (stopped || held.has(bot.botId)) continue;
      await open(bot).catch((error: unknown) => log.error({ err: error, bot_id: bot.botId, platform: 'discord' }, 'Discord Gateway session not opened'));
    }
  }

  async function renew(): Promise<void> {
    for (const [botId, entry] of [...held]) {
      const now = Date.now();
      try {
        if (await leases.acquire(botId, holder, now, ttlMs)) entry.heldUntil = now + ttlMs;
        else await close(botId, 'another gateway process holds the lease');
      } catch (error) {
        log.warn({ err: error, bot_id: botId, platform: 'discord' }, 'Gateway lease not renewed');
        // Past its end another process may take the bot over: no second session meanwhile.
        if (entry.heldUntil <= Date.now()) await close(botId, 'the lease could not be renewed in time');
      }
    }
  }

  return {
    holder,

    /** Opens the sessions of the bots found now, then keeps scanning and renewing until `stop`. */
    async start(): Promise<void> {
      await serially('scan', scan);
      if (stopped) return;
      timers.push(
        setInterval(() => void serially('scan', scan), rescanMs),
        setInterval(() => void serially('lease renewal', renew), renewMs),
      );
    },

    /** Closes every session and gives its lease up, so that another process can take the bot at once. */
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      await serially('stop', async () => {
        for (const botId of [...held.keys()]) await close(botId, 'the gateway process stops');
      });
      await stats.drain();
    },

    /** The bots whose session this process holds. */
    sessions: (): string[] => [...held.keys()],

    /** For `/health`: the database and Temporal answer. */
    async health(): Promise<{ database: boolean; temporal: boolean }> {
      const database = await db.raw('select 1').then(
        () => true,
        () => false,
      );
      return { database, temporal: await workflows.reachable() };
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
