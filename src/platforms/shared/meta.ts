import { PlatformApiError, WebhookAuthError } from '../errors';
import type { PlatformContext, PlatformName, WebhookRequest, WebhookResult } from '../types';
import { hmacSha256Hex, safeEqual } from './crypto';
import { callPlatform, isRecord } from './http';

/** What WhatsApp Cloud API and Messenger share: Meta's webhook proof and the Graph API's errors. */
type MetaPlatform = Extract<PlatformName, 'whatsapp' | 'messenger'>;

/**
 * The `GET` subscription handshake: `hub.mode=subscribe`, our verify token, and the challenge to echo
 * back as plain text. A wrong token is a bad proof (401 by the contract; Meta accepts any non-200).
 */
export function metaHandshake(platform: MetaPlatform, req: WebhookRequest, verifyToken: string): WebhookResult {
  const mode = req.query['hub.mode'];
  const token = req.query['hub.verify_token'];
  const challenge = req.query['hub.challenge'];
  if (mode !== 'subscribe' || token === undefined || challenge === undefined || !safeEqual(token, verifyToken)) {
    throw new WebhookAuthError(platform, 'wrong or missing hub.verify_token');
  }
  return { status: 200, body: challenge, headers: { 'content-type': 'text/plain; charset=utf-8' }, messages: [] };
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`. */
export function verifyMetaSignature(platform: MetaPlatform, req: WebhookRequest, appSecret: string): void {
  const header = req.headers['x-hub-signature-256'];
  if (header === undefined) throw new WebhookAuthError(platform, 'missing X-Hub-Signature-256');
  const expected = `sha256=${hmacSha256Hex(appSecret, req.rawBody)}`;
  if (!safeEqual(header.toLowerCase(), expected)) throw new WebhookAuthError(platform, 'wrong X-Hub-Signature-256');
}

/** Parse a verified POST body; null when it is not a JSON object. */
export function parseJsonObject(rawBody: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(rawBody.toString('utf8'));
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export interface GraphError {
  message: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_user_title?: string;
  error_user_msg?: string;
  error_data?: { messaging_product?: string; details?: string };
  fbtrace_id?: string;
}

/**
 * Codes that mean "later": Graph's app/user/page throttles (4, 17, 32, 613), WhatsApp's account,
 * throughput and pair limits (80007, 130429, 131056), and transient server trouble (1, 2, 1200,
 * 131000, 131016, 133004). Everything else, e.g. 131047 outside the 24-hour window, 131026
 * undeliverable, 551 person unavailable, 10/200 permissions, 190 bad token, fails for good.
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 32, 613, 1200, 80007, 130429, 131000, 131016, 131056, 133004]);
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429, 131056]);

export class GraphApiError extends PlatformApiError {
  constructor(
    platform: MetaPlatform,
    method: string,
    status: number,
    description: string,
    retryable: boolean,
    retryAfterSeconds: number | undefined,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
  ) {
    super(platform, method, status, description, retryable, retryAfterSeconds);
  }
}

export interface GraphCall {
  platform: MetaPlatform;
  method: string;
  path: string;
  httpMethod: 'GET' | 'POST' | 'DELETE';
  accessToken: string;
  /** The token as the JSON body's `access_token`: an app token holds the app secret, which need not be fit for a header. */
  accessTokenInBody?: boolean;
  query?: Record<string, string>;
  json?: unknown;
}

/** One Graph API call with the token in the `Authorization` header (or the body), never in the URL. */
export async function callGraph<T>(ctx: PlatformContext, call: GraphCall): Promise<T> {
  const query = call.query ? `?${new URLSearchParams(call.query).toString()}` : '';
  const response = await callPlatform(ctx, {
    platform: call.platform,
    method: call.method,
    url: `${ctx.apiBase.replace(/\/+$/, '')}/${call.path}${query}`,
    httpMethod: call.httpMethod,
    headers: call.accessTokenInBody ? {} : { authorization: `Bearer ${call.accessToken}` },
    json: call.accessTokenInBody ? { ...(call.json as Record<string, unknown>), access_token: call.accessToken } : call.json,
    secrets: [call.accessToken],
  });
  const error = isRecord(response.body) && isRecord(response.body.error) ? (response.body.error as unknown as GraphError) : undefined;
  if (response.status < 400 && !error) return response.body as T;

  const code = error?.code;
  const subcode = error?.error_subcode;
  const rateLimited = response.status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code));
  const retryable = rateLimited || response.status >= 500 || (code !== undefined && RETRYABLE_CODES.has(code));
  const details = error?.error_data?.details;
  const parts = [error?.message ?? `HTTP ${response.status}`];
  if (details && details !== error?.message) parts.push(details);
  const codes = code !== undefined ? ` (code ${code}${subcode !== undefined ? `, subcode ${subcode}` : ''})` : '';
  const description = (parts.join(': ') + codes).split(call.accessToken).join('[redacted]');
  throw new GraphApiError(call.platform, call.method, response.status, description, retryable, response.retryAfter, code, subcode);
}
