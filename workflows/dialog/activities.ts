/** The activities the dialog calls, with their timeouts and retries, and how their failures read. */
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { DialogActivities, HttpRequestRefused } from '../../src/dialog/contract';
import type { HttpRequestErrorCode } from '../../src/engine/types';

/**
 * Quick database reads done inside the workflow task: one marker event each, no round trip through
 * the server. A worker that dies mid-task reruns them; all are idempotent.
 */
export const { loadScenario, loadTriggers, botIsActive } = proxyLocalActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A turn's first delivery attempt, inside the workflow task; it hands over instead of retrying (./delivery.ts). */
export const { deliverTurnOrHandOver } = proxyLocalActivities<DialogActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});

export const { deliverTurn } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  // The activity heartbeats while it runs, so a delivery on a worker that died is retried within
  // seconds instead of after the whole start-to-close timeout.
  heartbeatTimeout: '5 seconds',
  // A reply that cannot be delivered within ten minutes is reported as an error, not sent late.
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export const { storeIncomingMedia } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

export const { httpRequest } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** The reason an activity failed with, for the dialog's events. */
export function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

const HTTP_REQUEST_REFUSED: HttpRequestRefused = 'HttpRequestRefused';

/** The engine's code of a failed `http_request`: the egress policy's refusal has its own. */
export function requestFailureCode(error: unknown): HttpRequestErrorCode {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === HTTP_REQUEST_REFUSED ? 'http_request_refused' : 'http_request_failed';
}
