import { request as undiciRequest } from 'undici';
import { z } from 'zod';
import { PlatformNetworkError } from '../errors';
import type { PlatformContext, PlatformName } from '../types';

const DEFAULT_TIMEOUT_MS = 15_000;

/** A token sent in an HTTP header: printable ASCII without spaces, as the platforms issue them. */
export const headerToken = z.string().regex(/^[\x21-\x7e]+$/, 'must be the token as the platform shows it (printable ASCII, no spaces)');

export interface PlatformRequest {
  platform: PlatformName;
  /** The platform's name of the call (`sendMessage`, `chat.postMessage`, ...): used in errors, never the URL. */
  method: string;
  url: string;
  httpMethod: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  json?: unknown;
  /** Values that must never appear in an error (tokens in the URL path, interaction tokens). */
  secrets: readonly string[];
}

export interface PlatformResponse {
  status: number;
  /** Seconds from a `Retry-After` header (delta-seconds form); undefined when absent or unreadable. */
  retryAfter?: number;
  /** The parsed JSON body; undefined when the body is not JSON (a proxy's HTML error page). */
  body: unknown;
}

/**
 * One HTTP call to a platform. Interpreting the status is the platform's business; this only turns
 * "could not reach it" into `PlatformNetworkError`, with every secret scrubbed from the cause, because
 * the HTTP client's own messages may quote the URL (and Telegram puts the bot token in the URL path).
 *
 * It goes through undici's `request` (keep-alive connections of its global agent): every reply of
 * every dialog is one such call, and `fetch` costs three times its CPU for the same exchange (its
 * WHATWG streams, headers and abort signal). A context's own `fetch` replaces it (tests inject faults).
 */
export async function callPlatform(ctx: PlatformContext, request: PlatformRequest): Promise<PlatformResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.json !== undefined) {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(request.json);
  }
  const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    if (ctx.fetch) {
      const response = await ctx.fetch(request.url, { method: request.httpMethod, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      return { status: response.status, retryAfter: retryAfterSeconds(response.headers.get('retry-after')), body: parseJson(await response.text()) };
    }
    const response = await undiciRequest(request.url, { method: request.httpMethod, headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.statusCode,
      retryAfter: retryAfterSeconds(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
      body: parseJson(await response.body.text()),
    };
  } catch (error) {
    throw new PlatformNetworkError(request.platform, request.method, scrubError(error, request.secrets));
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** fetch's, and undici's for a server that stops answering before or during its reply. */
const TIMEOUT_ERRORS = new Set(['TimeoutError', 'HeadersTimeoutError', 'BodyTimeoutError']);

/** A plain copy of the error (and its cause chain) whose messages no longer contain any secret. */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  // Duck-typed, not `instanceof`: fetch's errors may come from another realm (test sandboxes).
  const reasons: string[] = [];
  let current: unknown = error;
  for (let depth = 0; isErrorLike(current) && depth < 4; depth += 1) {
    const code = current.code;
    reasons.push(typeof code === 'string' && !current.message.includes(code) ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  if (reasons.length === 0) reasons.push(String(error));
  const name = isErrorLike(error) && typeof error.name === 'string' ? error.name : 'Error';
  const scrubbed = new Error(TIMEOUT_ERRORS.has(name) ? 'request timed out' : redact(reasons.join(': '), secrets));
  scrubbed.name = name;
  return scrubbed;
}

function isErrorLike(value: unknown): value is { message: string; name?: unknown; code?: unknown; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length > 0) result = result.split(secret).join('[redacted]');
  }
  return result;
}

/** Seconds from a `Retry-After` header value (delta-seconds form); undefined when absent or unreadable. */
function retryAfterSeconds(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
