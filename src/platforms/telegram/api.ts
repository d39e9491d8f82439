import { PlatformApiError } from '../errors';
import { callPlatform, isRecord } from '../shared/http';
import type { PlatformContext } from '../types';
import type { TgMethod, TgMethods, TgResponse } from './wire';

/**
 * Call a Bot API method (`$BASE/bot<token>/<method>`, JSON body). The token is part of the URL, so
 * errors name the method only and every message is scrubbed of the token.
 */
export async function callTelegram<M extends TgMethod>(
  ctx: PlatformContext,
  token: string,
  method: M,
  params: TgMethods[M]['params'],
): Promise<TgMethods[M]['result']> {
  const response = await callPlatform(ctx, {
    platform: 'telegram',
    method,
    url: `${ctx.apiBase.replace(/\/+$/, '')}/bot${token}/${method}`,
    httpMethod: 'POST',
    json: params,
    secrets: [token],
  });
  const body = response.body as TgResponse<TgMethods[M]['result']> | undefined;
  if (isRecord(body) && body.ok === true && response.status < 400) return body.result;

  const status = isRecord(body) && body.ok === false && typeof body.error_code === 'number' ? body.error_code : response.status;
  const failure = isRecord(body) && body.ok === false ? body : undefined;
  let description = failure?.description ?? `HTTP ${response.status}`;
  const migratedTo = failure?.parameters?.migrate_to_chat_id;
  if (migratedTo !== undefined) description += ` (the group moved to chat ${migratedTo})`;
  const retryAfter = failure?.parameters?.retry_after;
  // 429 and server-side failures pass; everything else (403 blocked, 400 chat not found, 401 bad
  // token, 404 unknown token) fails the same way on every attempt.
  const retryable = status === 429 || status >= 500;
  throw new PlatformApiError('telegram', method, status, description.split(token).join('[redacted]'), retryable, retryAfter);
}
