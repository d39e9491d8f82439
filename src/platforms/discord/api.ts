import { PlatformApiError } from '../errors';
import { callPlatform, isRecord } from '../shared/http';
import type { PlatformContext } from '../types';
import type { DiscordErrorBody } from './wire';

/** Discord asks every client to identify itself this way. */
const USER_AGENT = 'DiscordBot (https://github.com/getinn/bot-engine, 0.1.0)';

export interface DiscordCall {
  method: string;
  path: string;
  httpMethod: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Bot token for `Authorization: Bot ...`; interaction webhooks need none. */
  botToken?: string;
  json?: unknown;
  /** Tokens that must not appear in errors (the bot token, an interaction token in the path). */
  secrets: string[];
}

/** A Discord refusal, with its JSON error `code` (10003 Unknown Channel, 50001 Missing Access, ...). */
export class DiscordApiError extends PlatformApiError {
  constructor(
    method: string,
    status: number,
    description: string,
    retryable: boolean,
    retryAfterSeconds: number | undefined,
    readonly code: number | undefined,
  ) {
    super('discord', method, status, description, retryable, retryAfterSeconds);
  }
}

export async function callDiscord<T>(ctx: PlatformContext, call: DiscordCall): Promise<T> {
  const response = await callPlatform(ctx, {
    platform: 'discord',
    method: call.method,
    url: `${ctx.apiBase.replace(/\/+$/, '')}${call.path}`,
    httpMethod: call.httpMethod,
    headers: { 'user-agent': USER_AGENT, ...(call.botToken ? { authorization: `Bot ${call.botToken}` } : {}) },
    json: call.json,
    secrets: call.secrets,
  });
  if (response.status < 400) return response.body as T;

  const body = isRecord(response.body) ? (response.body as DiscordErrorBody) : {};
  // 429 bodies carry fractional seconds; the header is rounded up, so prefer the body.
  const retryAfter = typeof body.retry_after === 'number' ? body.retry_after : response.retryAfter;
  const retryable = response.status === 429 || response.status >= 500;
  let description = body.message ?? `HTTP ${response.status}`;
  if (body.code) description += ` (code ${body.code})`;
  for (const secret of call.secrets) description = description.split(secret).join('[redacted]');
  throw new DiscordApiError(call.method, response.status, description, retryable, retryAfter, body.code);
}
