import type { PlatformName } from './types';

/** The webhook's proof (signature, secret token) is missing or wrong: answer 401, start nothing. */
export class WebhookAuthError extends Error {
  constructor(
    readonly platform: PlatformName,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookAuthError';
  }
}

/**
 * A platform API call failed. `retryable` is false when repeating the call cannot succeed (blocked by
 * the user, chat not found, bad token); `retryAfterSeconds` is the platform's own back-off on 429.
 */
export class PlatformApiError extends Error {
  constructor(
    readonly platform: PlatformName,
    readonly method: string,
    readonly status: number,
    readonly description: string,
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${platform} ${method} failed (${status}): ${description}`);
    this.name = 'PlatformApiError';
  }
}

/** The platform could not be reached at all (DNS, refused connection, timeout): always retryable. */
export class PlatformNetworkError extends Error {
  constructor(
    readonly platform: PlatformName,
    readonly method: string,
    override readonly cause: unknown,
  ) {
    super(`${platform} ${method}: network error: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PlatformNetworkError';
  }
}
