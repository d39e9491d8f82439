import type { ConnectionFailure } from '../platforms/connection-failure';
import type { PlatformName } from '../platforms/types';
import type { Db } from './index';

/**
 * A connection's `status`, from what its platform last answered:
 * - `unverified`: nothing has been asked of the platform yet (new connection, new credentials);
 * - `connected`: the last test, registration or send went through;
 * - `unauthorized`: the platform refused the credentials (401, a revoked token), until a success;
 * - `error`: FAILURES_FOR_ERROR calls in a row failed (unreachable, server errors), until a success.
 */
export const CONNECTION_STATUSES = ['unverified', 'connected', 'unauthorized', 'error'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** One failure between successes is a blip, not a broken connection. */
export const FAILURES_FOR_ERROR = 3;

/** Platform error texts are the platform's words; they are kept short. */
const LAST_ERROR_MAX_LENGTH = 500;

export function platformStatusRepository(db: Db) {
  const connection = (botId: string, platform: PlatformName) => db('platform_connections').where({ bot_id: botId, platform });

  return {
    /** The platform answered: `connected`. A connection that was so already is not written. */
    async recordSuccess(botId: string, platform: PlatformName): Promise<void> {
      await connection(botId, platform)
        .whereRaw("(status <> 'connected' OR consecutive_failures <> 0)")
        .update({ status: 'connected', consecutive_failures: 0, status_checked_at: new Date().toISOString() });
    },

    async recordFailure(botId: string, platform: PlatformName, failure: ConnectionFailure): Promise<void> {
      const now = new Date().toISOString();
      const status = failure.unauthorized
        ? db.raw('?', ['unauthorized'])
        : // An `unauthorized` connection stays so through outages: only a success tells more.
          db.raw(`CASE WHEN consecutive_failures + 1 >= ? AND status <> 'unauthorized' THEN 'error' ELSE status END`, [FAILURES_FOR_ERROR]);
      await connection(botId, platform).update({
        status,
        consecutive_failures: db.raw('consecutive_failures + 1'),
        last_error: failure.message.slice(0, LAST_ERROR_MAX_LENGTH),
        last_error_at: now,
        status_checked_at: now,
      });
    },
  };
}
