/**
 * The one way the console reaches the API: `/v1` with the operator's token, which lives in this
 * module only (never in storage or a cookie), so a reload asks for it again.
 */

export type Role = 'admin' | 'operator' | 'viewer';

export interface Claims {
  sub: string;
  role: Role;
  account_ids: string[];
}

/** The API's error envelope `{error:{code,message,details}}` as a thrown value. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let token: string | undefined;
let claims: Claims | undefined;
const listeners = new Set<() => void>();

/** Reads the token's payload for display only: the API checks the signature and enforces the role. */
export function decodeClaims(value: string): Claims | undefined {
  const payload = value.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { sub, role, account_ids } = parsed as Record<string, unknown>;
    if (typeof sub !== 'string' || (role !== 'admin' && role !== 'operator' && role !== 'viewer')) return undefined;
    const accounts = Array.isArray(account_ids) ? account_ids.filter((id): id is string => typeof id === 'string') : [];
    return { sub, role, account_ids: accounts };
  } catch {
    return undefined;
  }
}

export function session(): Claims | undefined {
  return claims;
}

export function canWrite(): boolean {
  return claims !== undefined && claims.role !== 'viewer';
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(value: string | undefined, decoded: Claims | undefined): void {
  token = value;
  claims = decoded;
  for (const listener of listeners) listener();
}

/** Keeps the token only once the API accepted it (any authenticated read proves it). */
export async function signIn(value: string): Promise<void> {
  const trimmed = value.trim();
  const decoded = decodeClaims(trimmed);
  const probe = await fetch(`/v1/accounts/${encodeURIComponent(decoded?.account_ids[0] ?? '-')}/bots?limit=1`, {
    headers: { Authorization: `Bearer ${trimmed}` },
  });
  if (probe.status === 401) throw await errorOf(probe);
  if (!decoded) throw new ApiError(401, 'unauthorized', 'The token lacks valid sub, role or account_ids claims.', null);
  setSession(trimmed, decoded);
}

export function signOut(): void {
  setSession(undefined, undefined);
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.message === 'string') {
    return new ApiError(response.status, typeof error.code === 'string' ? error.code : 'error', error.message, error.details ?? null);
  }
  return new ApiError(response.status, 'error', `The API answered ${response.status} ${response.statusText}.`, null);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (raw scenario text, multipart form). */
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

export function url(path: string, query: RequestOptions['query'] = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  if (!token) throw new ApiError(401, 'unauthorized', 'Sign in first.', null);
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['Content-Type'] = 'application/json';
  } else if (options.contentType) {
    headers['Content-Type'] = options.contentType;
  }
  const response = await fetch(url(path, options.query), { method: options.method ?? 'GET', headers, body, signal: options.signal });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401) signOut();
    throw error;
  }
  return response;
}

/** A JSON answer (or undefined for 204). */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function apiText(path: string, options: RequestOptions = {}): Promise<string> {
  return (await send(path, options)).text();
}

/** Saves an attachment fetched with the token (a plain link could not carry it). */
export async function download(path: string, query: RequestOptions['query'], filename: string): Promise<void> {
  const blob = await (await send(path, { query })).blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** A path segment, escaped. */
export const segment = encodeURIComponent;

/** The API's sentence plus what its details say (a 409's missing parts, a conflicting trigger...). */
export function messageOf(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const details = error.details;
  if (details === null || details === undefined) return error.message;
  if (typeof details === 'object' && !Array.isArray(details)) {
    const parts = Object.entries(details as Record<string, unknown>).map(
      ([key, value]) =>
        `${key.replace(/_/g, ' ')}: ${Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', ') : typeof value === 'string' ? value : JSON.stringify(value)}`,
    );
    return `${error.message} (${parts.join('; ')})`;
  }
  return `${error.message} ${JSON.stringify(details)}`;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
