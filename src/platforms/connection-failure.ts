import { PlatformApiError, PlatformNetworkError } from './errors';
import { GraphApiError } from './shared/meta';

/** What a failed platform call says about the connection itself (src/db/platform-status.ts). */
export interface ConnectionFailure {
  /** The platform refused our credentials: the status becomes `unauthorized` at once. */
  unauthorized: boolean;
  /** The error as the platform said it, already scrubbed of every credential. */
  message: string;
}

/** Slack's answers (HTTP 200 `ok:false`) for a token that is wrong, revoked or lacks a scope. */
const SLACK_CREDENTIAL_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'not_allowed_token_type',
]);

function refusesCredentials(error: PlatformApiError): boolean {
  if (error.status === 401) return true;
  if (error instanceof GraphApiError && error.code === 190) return true;
  if (error.platform === 'slack') return SLACK_CREDENTIAL_ERRORS.has(error.description);
  // Telegram's and Discord's 403 is about one chat (blocked by the user, no access to the channel).
  return error.status === 403 && error.platform !== 'telegram' && error.platform !== 'discord';
}

/**
 * The failure of a call, as far as the connection is concerned; undefined when it is not about the
 * connection. A refusal of the credentials always is; an unreachable platform or its server error
 * always is; any other refusal is when the call was about the connection (a test, a registration),
 * not when it was about one chat (a send to a user who blocked the bot, a closed 24-hour window).
 */
export function connectionFailureOf(error: unknown, call: 'connection' | 'chat'): ConnectionFailure | undefined {
  if (error instanceof PlatformNetworkError) return { unauthorized: false, message: error.message };
  if (!(error instanceof PlatformApiError)) return undefined;
  if (refusesCredentials(error)) return { unauthorized: true, message: error.message };
  if (error.status >= 500 || call === 'connection') return { unauthorized: false, message: error.message };
  return undefined;
}
