import type { Db } from '../src/db';
import { platformStatusRepository } from '../src/db/platform-status';
import { CONNECTION_CACHE_TTL_MS } from '../src/expiring-cache';
import type { Logger } from '../src/log';
import { connectionFailureOf } from '../src/platforms/connection-failure';
import type { PlatformName } from '../src/platforms/types';

/**
 * The connection status the worker's sends tell (src/db/platform-status.ts). A send that went through
 * writes only when this worker does not know the connection to be `connected` already: at steady state
 * that is one conditional update per connection every CONNECTION_CACHE_TTL_MS (so a status the API
 * set meanwhile is corrected soon), never one per message. Every failure about the connection is
 * written. Recording never fails a send: a database error here is logged and forgotten.
 */
/** Past this many connections the memory starts afresh: at worst one more update each. */
const MAX_CONNECTIONS = 10_000;

export function connectionStatusRecorder(db: Db, log: Logger) {
  const status = platformStatusRepository(db);
  /** Connections known `connected`, until when. */
  const connectedUntil = new Map<string, number>();

  return {
    async sent(botId: string, platform: PlatformName): Promise<void> {
      const key = `${botId}:${platform}`;
      if ((connectedUntil.get(key) ?? 0) > Date.now()) return;
      try {
        await status.recordSuccess(botId, platform);
        if (connectedUntil.size >= MAX_CONNECTIONS) connectedUntil.clear();
        connectedUntil.set(key, Date.now() + CONNECTION_CACHE_TTL_MS);
      } catch (error) {
        log.warn({ bot_id: botId, platform, err: error }, 'connection status not recorded');
      }
    },

    async failed(botId: string, platform: PlatformName, error: unknown): Promise<void> {
      const failure = connectionFailureOf(error, 'chat');
      if (!failure) return;
      const key = `${botId}:${platform}`;
      connectedUntil.delete(key);
      try {
        await status.recordFailure(botId, platform, failure);
      } catch (recordError) {
        log.warn({ bot_id: botId, platform, err: recordError }, 'connection status not recorded');
      }
    },
  };
}
