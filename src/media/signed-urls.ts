import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { isPrivateKey } from './storage';

/** How long a signed URL of a file a user sent works, at least. */
export const SIGNED_URL_TTL_S = 3600;
/**
 * Expiries are rounded up to this step, so the same file gets the same URL for a while (clients
 * and caches see one address, not a new one per request).
 */
const EXPIRY_STEP_S = 300;

/**
 * Signs and checks `expires` and `signature` query parameters of private media URLs: an HMAC-SHA256
 * of the storage key and the expiry, under a key derived (HKDF) from `ENCRYPTION_KEY`, so no new
 * secret is needed and the credential key itself is never used for anything else.
 */
export function urlSigner(encryptionKey: Buffer) {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'bot-engine media url signature v1', 32));
  const mac = (storageKey: string, expires: number) => createHmac('sha256', key).update(`${storageKey}\n${expires}`).digest();

  return {
    /** `?expires=<unix seconds>&signature=<base64url>` for the key, valid from `nowMs` for at least the TTL. */
    query(storageKey: string, nowMs: number): string {
      const expires = Math.ceil((nowMs / 1000 + SIGNED_URL_TTL_S) / EXPIRY_STEP_S) * EXPIRY_STEP_S;
      return `expires=${expires}&signature=${mac(storageKey, expires).toString('base64url')}`;
    },

    /** Whether the parameters are a signature of this key that has not expired at `nowMs`. */
    verify(storageKey: string, expires: unknown, signature: unknown, nowMs: number): boolean {
      if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string') return false;
      if (Number(expires) * 1000 <= nowMs) return false;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(storageKey, Number(expires));
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

export type UrlSigner = ReturnType<typeof urlSigner>;

/** The storage key a URL of the API names, when it is `<base>/media/<private key>` exactly. */
export function privateKeyOfUrl(publicBaseUrl: string, url: string): string | undefined {
  const prefix = `${publicBaseUrl}/media/`;
  if (!url.startsWith(prefix)) return undefined;
  const key = url.slice(prefix.length);
  return isPrivateKey(key) ? key : undefined;
}

/** Objects read from JSON; anything else (a Date, a stream) is left as it is. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Every string anywhere in a JSON value. */
function* stringsOf(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsOf(item);
  else if (isPlainObject(value)) for (const item of Object.values(value)) yield* stringsOf(item);
}

function replaceStrings(value: unknown, replace: (text: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, replace));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, replace)]));
  return value;
}

/**
 * A JSON value (dialog state, transcript entries) with the URLs of the bot's private files signed.
 * Only files the bot holds get a signature: a URL a chat user or an operator typed that names
 * another bot's file stays unsigned, and so useless.
 */
export async function signPrivateUrls<T>(
  value: T,
  options: { publicBaseUrl: string; signer: UrlSigner; nowMs: number; ownedKeys: (keys: string[]) => Promise<Set<string>> },
): Promise<T> {
  const keys = new Set<string>();
  for (const text of stringsOf(value)) {
    const key = privateKeyOfUrl(options.publicBaseUrl, text);
    if (key) keys.add(key);
  }
  if (keys.size === 0) return value;
  const owned = await options.ownedKeys([...keys]);
  return replaceStrings(value, (text) => {
    const key = privateKeyOfUrl(options.publicBaseUrl, text);
    return key && owned.has(key) ? `${text}?${options.signer.query(key, options.nowMs)}` : text;
  }) as T;
}
