import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Platform credentials at rest: AES-256-GCM with a 16-byte tag. The stored form is
 * `v2.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts), so a key can be rotated: `keyId` names the
 * key that sealed a value. The value is bound to where it is stored (`binding`, authenticated as
 * associated data): a sealed value copied into another row or column does not open there.
 */
export interface Keyring {
  current: Buffer;
  /** Older keys still accepted for reading, during a rotation. */
  previous?: Buffer[];
}

const TAG_BYTES = 16;

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

function associatedData(id: string, binding: string): Buffer {
  return Buffer.from(`v2.${id}.${binding}`, 'utf8');
}

export function seal(plain: unknown, keyring: Keyring, binding: string): string {
  const iv = randomBytes(12);
  const id = keyId(keyring.current);
  const cipher = createCipheriv('aes-256-gcm', keyring.current, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(id, binding));
  const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'));
  return ['v2', id, ...parts].join('.');
}

/** Whether a sealed value predates bindings (`v1`): it opens, and its owner should seal it again. */
export function isLegacySealed(sealed: string): boolean {
  return sealed.startsWith('v1.');
}

/**
 * Opens a value sealed for `binding`. Values sealed before bindings existed (`v1`) open without one;
 * their repository seals them again at once (src/db/platforms.ts).
 */
export function open<T = unknown>(sealed: string, keyring: Keyring, binding: string): T {
  const [version, id, iv, tag, body] = sealed.split('.');
  if ((version !== 'v1' && version !== 'v2') || !id || !iv || !tag || body === undefined) throw new DecryptionError('not a sealed value');
  const key = [keyring.current, ...(keyring.previous ?? [])].find((k) => keyId(k) === id);
  if (!key) throw new DecryptionError(`no key with id ${id} is configured`);
  const authTag = Buffer.from(tag, 'base64url');
  if (authTag.length !== TAG_BYTES) throw new DecryptionError('sealed value has a truncated tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    if (version === 'v2') decipher.setAAD(associatedData(id, binding));
    decipher.setAuthTag(authTag);
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    throw new DecryptionError('sealed value does not match its key or place (tampered, moved or wrong key)');
  }
}
