import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '../../src/platforms/types';

/** One request the fake received, as it received it, and what it answered. */
export interface RecordedCall {
  /** The platform's name of the call: `sendMessage`, `chat.postMessage`, `messages`, `createMessage`, ... */
  method: string;
  httpMethod: string;
  /** Path below the fake's base URL, e.g. `/bot123:abc/sendMessage` or `/1049/messages`. */
  path: string;
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON or form body (`{}` when there was none). */
  body: Record<string, unknown>;
  rawBody: string;
  /** Status the fake answered with. */
  status: number;
  /** The JSON body the fake answered with. */
  response: unknown;
  /** Whether the platform would call this a success (Slack answers errors with HTTP 200 `ok:false`). */
  ok: boolean;
}

/** Make upcoming calls fail the way the platform fails. */
export interface FailureSpec {
  status: number;
  /** Seconds, sent the platform's way (Telegram `parameters.retry_after`, `Retry-After` header, ...). */
  retryAfter?: number;
  /** The platform's error text (Telegram description, Graph message, Discord message). */
  description?: string;
  /** The platform's error code (Graph `code`, Slack `error` string, Discord JSON `code`). */
  code?: number | string;
  /** Graph API `error_subcode`. */
  subcode?: number;
  /** Only calls of this method fail; others answer normally. Default: the next call of any method. */
  method?: string;
  /** How many matching calls fail. Default 1. */
  times?: number;
  /** Matching calls answered normally before the failures begin. Default 0. */
  after?: number;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface CallFilter {
  method?: string;
  httpMethod?: string;
  /** Only calls the platform answered as a success (true) or as an error (false). */
  ok?: boolean;
}

export interface FakeServer {
  /** The base URL to use as the platform's API base (`*_API_BASE`). */
  readonly url: string;
  /** Every call so far, oldest first. */
  readonly calls: RecordedCall[];
  failNext(spec: FailureSpec): void;
  callsTo(method: string): RecordedCall[];
  /** Resolve with the matching calls once there are at least `count`; reject after `timeoutMs`. */
  waitForCalls(count: number, filter?: CallFilter, timeoutMs?: number): Promise<RecordedCall[]>;
  /** Forget recorded calls and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeDefinition {
  name: string;
  /** The platform method a request stands for (null: unknown route, answered by `notFound`). */
  methodOf(httpMethod: string, path: string, body: Record<string, unknown>): string | null;
  handle(call: RecordedCall): FakeResponse;
  renderFailure(spec: FailureSpec, call: RecordedCall): FakeResponse;
  notFound(call: RecordedCall): FakeResponse;
  /** Whether an answer is a success; default: a status below 300. */
  isSuccess?(answer: FakeResponse): boolean;
}

export function matches(call: RecordedCall, filter: CallFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.method !== undefined && call.method !== filter.method) return false;
  if (filter.httpMethod !== undefined && call.httpMethod !== filter.httpMethod) return false;
  if (filter.ok !== undefined && call.ok !== filter.ok) return false;
  return true;
}

export async function startFakeServer(definition: FakeDefinition): Promise<FakeServer> {
  const calls: RecordedCall[] = [];
  let failures: (FailureSpec & { remaining: number; passing: number })[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((request, response) => {
    void readBody(request).then((rawBody) => respond(request, response, rawBody));
  });

  function respond(request: IncomingMessage, response: ServerResponse, rawBody: string): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const httpMethod = request.method ?? 'GET';
    const body = parseBody(rawBody, request.headers['content-type']);
    const method = definition.methodOf(httpMethod, url.pathname, body);
    const call: RecordedCall = {
      method: method ?? `${httpMethod} ${url.pathname}`,
      httpMethod,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: lowerCaseHeaders(request.headers),
      body,
      rawBody,
      status: 0,
      response: undefined,
      ok: false,
    };
    let answer: FakeResponse;
    let failure = failures.find((spec) => spec.method === undefined || spec.method === call.method);
    if (failure && failure.passing > 0) {
      failure.passing -= 1;
      failure = undefined;
    }
    if (failure) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) failures = failures.filter((spec) => spec !== failure);
      answer = definition.renderFailure(failure, call);
    } else if (method === null) {
      answer = definition.notFound(call);
    } else {
      answer = definition.handle(call);
    }
    call.status = answer.status;
    call.response = answer.body;
    call.ok = definition.isSuccess ? definition.isSuccess(answer) : answer.status < 300;
    calls.push(call);
    // Bytes go out as they are (file downloads); anything else is the platform's JSON.
    const payload = Buffer.isBuffer(answer.body) ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      ...(payload && !Buffer.isBuffer(payload) ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...answer.headers,
    });
    response.end(payload);
    for (const wake of [...waiters]) wake();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(spec) {
      failures.push({ ...spec, remaining: spec.times ?? 1, passing: spec.after ?? 0 });
    },
    callsTo(method) {
      return calls.filter((call) => call.method === method);
    },
    waitForCalls(count, filter, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = calls.filter((call) => matches(call, filter));
          if (found.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = calls.map((call) => `${call.method} → ${call.status}`).join(', ') || 'none';
          reject(new Error(`${definition.name} fake: waited ${timeoutMs} ms for ${count} call(s) matching ${JSON.stringify(filter ?? {})}; calls: ${seen}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      calls.splice(0, calls.length);
      failures = [];
    },
    close() {
      return new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function lowerCaseHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function parseBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  if (rawBody === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(rawBody));
  try {
    const parsed: unknown = JSON.parse(rawBody);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return {};
  }
}

/** A webhook request as a platform would send it: the exact bytes, and the headers that prove them. */
export interface SignedRequest {
  /** The body text; send exactly this (signatures cover these bytes). */
  body: string;
  rawBody: Buffer;
  /** Lower-cased names, including content-type and the platform's proof. */
  headers: Record<string, string>;
}

/** Turn a built request into what `adapter.handleWebhook` takes, for adapter-level tests. */
export function toWebhookRequest(request: SignedRequest, options: { method?: string; query?: Record<string, string>; now?: number } = {}): WebhookRequest {
  return {
    method: options.method ?? 'POST',
    headers: { ...request.headers },
    query: options.query ?? {},
    rawBody: request.rawBody,
    now: options.now ?? Date.now(),
  };
}

export function signedRequest(body: string, headers: Record<string, string>): SignedRequest {
  return { body, rawBody: Buffer.from(body, 'utf8'), headers };
}
