import { ApplicationFailure } from '@temporalio/activity';
import { PlatformApiError } from '../src/platforms/errors';

/**
 * Turns a platform's refusal into the failure Temporal should act on: retry later (after the
 * platform's own retry-after when it gives one), or give up now. Other errors pass unchanged.
 */
export function platformFailure(error: unknown): unknown {
  if (!(error instanceof PlatformApiError)) return error;
  const details = [{ platform: error.platform, method: error.method, status: error.status, description: error.description }];
  if (!error.retryable) return ApplicationFailure.nonRetryable(error.message, 'PlatformPermanentError', ...details);
  return ApplicationFailure.create({
    message: error.message,
    type: 'PlatformRetryableError',
    details,
    nextRetryDelay: error.retryAfterSeconds !== undefined ? `${error.retryAfterSeconds} seconds` : undefined,
  });
}
