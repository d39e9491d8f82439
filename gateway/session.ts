/**
 * One Discord bot's Gateway session: @discordjs/ws keeps the connection (heartbeats, RESUME after a
 * drop, a new IDENTIFY when the session cannot be resumed); this turns its `MESSAGE_CREATE`
 * dispatches into user messages and registers the slash commands once it is READY.
 */
import { type CreateWebSocketManagerOptions, type SessionInfo, WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayIntentBits } from 'discord-api-types/v10';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../src/log';
import { callDiscord } from '../src/platforms/discord/api';
import { registerSlashCommands } from '../src/platforms/discord/commands';
import { normalizeGatewayMessage } from '../src/platforms/discord/inbound';
import { PlatformApiError } from '../src/platforms/errors';
import type { IncomingMessage, PlatformContext } from '../src/platforms/types';

/** Messages in servers and in direct messages, with their text (a privileged intent: enabled in the developer portal). */
export const GATEWAY_INTENTS = GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages | GatewayIntentBits.MessageContent;

/** Closes after which connecting again with the same token and intents cannot succeed. */
const FATAL_CLOSE_CODES: ReadonlyMap<number, string> = new Map([
  [GatewayCloseCodes.AuthenticationFailed, 'Discord refused the bot token'],
  [GatewayCloseCodes.InvalidShard, 'Discord refused the shard'],
  [GatewayCloseCodes.ShardingRequired, 'Discord asks for more shards'],
  [GatewayCloseCodes.InvalidAPIVersion, 'Discord refused the Gateway version'],
  [GatewayCloseCodes.InvalidIntents, 'Discord refused the intents'],
  [GatewayCloseCodes.DisallowedIntents, 'the Message Content intent is not enabled for the application in the Discord developer portal'],
]);

/** A message Temporal did not accept is tried this many times, waiting 0.5, 1, 2, 4 s in between. */
const DELIVERY_ATTEMPTS = 5;
/** Messages waiting for delivery beyond this are dropped (logged): Temporal is down, and memory is not the place to wait. */
const MAX_PENDING = 1_000;

export interface SessionOptions {
  botId: string;
  credentials: { application_id: string; bot_token: string };
  /** Guild channels and threads whose messages are input; direct messages always are. */
  channelIds: ReadonlySet<string>;
  /** `DISCORD_API_BASE`, for `GET /gateway/bot` and the command registration. */
  ctx: PlatformContext;
  /** Counts one message against the bot's delivery budget, once; false: beyond it, the message is dropped. */
  admit(): Promise<boolean>;
  /** Signals one message into its dialog; rejects when Temporal did not accept it. */
  deliver(message: IncomingMessage): Promise<void>;
  /** The session ended by itself; `permanent` when trying again with the same connection cannot help. */
  onEnd(reason: string, permanent: boolean): void;
  log: Logger;
}

export interface GatewaySession {
  readonly botId: string;
  /** Closes the connection (the session ends at Discord) and waits for the messages under way. */
  close(): Promise<void>;
}

/** @discordjs/ws asks its REST client for `GET /gateway/bot` only; ours goes to `DISCORD_API_BASE`. */
function gatewayRest(ctx: PlatformContext, token: string): CreateWebSocketManagerOptions['rest'] {
  const rest = {
    get: (route: string) => callDiscord(ctx, { method: 'getGatewayBot', path: route, httpMethod: 'GET', botToken: token, secrets: [token] }),
  };
  return rest as unknown as CreateWebSocketManagerOptions['rest'];
}

export function openSession(options: SessionOptions): GatewaySession {
  const { botId, credentials, log } = options;
  const context = { bot_id: botId, platform: 'discord' };
  // Per manager, not the library's default store, which one process's bots would share.
  const shards = new Map<number, SessionInfo>();
  let selfId: string | undefined;
  let commandsRegistered = false;
  let closed = false;
  let pending = 0;
  let deliveries = Promise.resolve();

  const manager = new WebSocketManager({
    token: credentials.bot_token,
    intents: GATEWAY_INTENTS,
    rest: gatewayRest(options.ctx, credentials.bot_token),
    retrieveSessionInfo: (shardId) => shards.get(shardId) ?? null,
    updateSessionInfo: (shardId, info) => {
      if (info) shards.set(shardId, info);
      else shards.delete(shardId);
    },
  });

  const end = (reason: string, permanent: boolean) => {
    if (closed) return;
    closed = true;
    log.warn({ ...context, reason }, 'Discord Gateway session ended');
    void Promise.resolve(manager.destroy()).catch((error: unknown) => log.debug({ ...context, err: error }, 'Gateway session not destroyed cleanly'));
    options.onEnd(reason, permanent);
  };

  async function deliver(message: IncomingMessage): Promise<void> {
    // A budget that cannot be counted holds no message back: it is there to protect the workers, not to lose messages.
    const admitted = await options.admit().catch((error: unknown) => {
      log.warn({ ...context, err: error }, 'Gateway message not counted against the bot’s budget');
      return true;
    });
    if (!admitted) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await options.deliver(message);
        return;
      } catch (error) {
        if (closed || attempt >= DELIVERY_ATTEMPTS) {
          log.error({ ...context, chat_id: message.chatId, message_id: message.messageId, err: error }, 'Gateway message not delivered to its dialog');
          return;
        }
        await sleep(500 * 2 ** (attempt - 1));
      }
    }
  }

  manager.on(WebSocketShardEvents.Ready, (data) => {
    selfId = data.user.id;
    log.info(context, 'Discord Gateway session ready');
    if (commandsRegistered || closed) return;
    commandsRegistered = true;
    registerSlashCommands(options.ctx, credentials).then(
      () => log.info(context, 'Discord slash commands registered'),
      (error: unknown) => {
        commandsRegistered = false;
        log.warn({ ...context, err: error }, 'Discord slash commands not registered; tried again on the next READY');
      },
    );
  });
  manager.on(WebSocketShardEvents.Resumed, () => log.info(context, 'Discord Gateway session resumed'));
  manager.on(WebSocketShardEvents.Dispatch, (payload) => {
    if (closed || payload.t !== GatewayDispatchEvents.MessageCreate) return;
    const message = normalizeGatewayMessage(payload.d, { selfId, channelIds: options.channelIds });
    if (!message) return;
    if (pending >= MAX_PENDING) {
      log.error({ ...context, chat_id: message.chatId, message_id: message.messageId }, 'Gateway message dropped: too many waiting for delivery');
      return;
    }
    pending += 1;
    // One after the other, so that a chat's messages reach its dialog in the order they were written.
    deliveries = deliveries.then(() => deliver(message)).finally(() => (pending -= 1));
  });
  manager.on(WebSocketShardEvents.Closed, (code) => {
    const fatal = FATAL_CLOSE_CODES.get(code);
    if (fatal) end(`${fatal} (close code ${code})`, true);
  });
  manager.on(WebSocketShardEvents.Error, (error) => log.warn({ ...context, err: error }, 'Discord Gateway error'));

  const connecting = manager.connect().catch((error: unknown) => {
    end(`the Gateway could not be reached: ${(error as Error).message}`, error instanceof PlatformApiError && !error.retryable);
  });

  return {
    botId,
    async close() {
      closed = true;
      await manager.destroy({ code: 1000, reason: 'The bot’s session moves or stops.' });
      // A connection still being set up comes up after the destroy above: destroyed once it is.
      void connecting.finally(() => manager.destroy());
      await deliveries;
    },
  };
}
