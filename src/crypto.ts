import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Platform credentials at rest: AES-256-GCM. The stored form is `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url parts), so a key can be rotated: `keyId` names the key that sealed a value.
 */
export interface Keyring {
  current: Buffer;
  /** Older keys still accepted for reading, during a rotation. */
  previous?: Buffer[];
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export function seal(plain: unknown, keyring: Keyring): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyring.current, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'));
  return ['v1', keyId(keyring.current), ...parts].join('.');
}

export function open<T = unknown>(sealed: string, keyring: Keyring): T {
  const [version, id, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !id || !iv || !tag || body === undefined) throw new DecryptionError('not a sealed value');
  const key = [keyring.current, ...(keyring.previous ?? [])].find((k) => keyId(k) === id);
  if (!key) throw new DecryptionError(`no key with id ${id} is configured`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    throw new DecryptionError('sealed value does not match its key (tampered or wrong key)');
  }
}
