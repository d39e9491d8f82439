import { PlatformApiError } from '../errors';
import { callPlatform, isRecord } from '../shared/http';
import type { PlatformContext } from '../types';
import type { SlackMethods, SlackResponse } from './wire';

/** Slack `error` codes worth retrying; all others (channel_not_found, invalid_auth, ...) are final. */
const RETRYABLE_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * One Web API call. Slack reports most failures as HTTP 200 with `ok: false`; rate limits are HTTP
 * 429 with a `Retry-After` header.
 */
export async function callSlack<M extends keyof SlackMethods>(
  ctx: PlatformContext,
  token: string,
  method: M,
  params: SlackMethods[M]['params'],
): Promise<SlackMethods[M]['result']> {
  const response = await callPlatform(ctx, {
    platform: 'slack',
    method,
    url: `${ctx.apiBase.replace(/\/+$/, '')}/${method}`,
    httpMethod: 'POST',
    headers: { authorization: `Bearer ${token}` },
    json: params,
    secrets: [token],
  });
  const body = response.body as SlackResponse<SlackMethods[M]['result']> | undefined;
  if (response.status < 400 && isRecord(body) && body.ok === true) return body;

  const error =
    isRecord(body) && body.ok === false && typeof body.error === 'string' ? body.error : response.status === 429 ? 'ratelimited' : `HTTP ${response.status}`;
  const retryable = response.status === 429 || response.status >= 500 || RETRYABLE_ERRORS.has(error);
  throw new PlatformApiError('slack', method, response.status, error.split(token).join('[redacted]'), retryable, response.retryAfter);
}
