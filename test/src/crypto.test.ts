import { createCipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, isLegacySealed, keyId, open, seal } from '../../src/crypto';

describe('credential sealing (AES-256-GCM, bound to its place)', () => {
  const key = randomBytes(32);
  const credentials = { token: '7000001:AAH-secret', app_secret: 'shh' };
  const here = 'platform_connections/bot-a/telegram/credentials';

  it('round-trips and never contains the plain text', () => {
    const sealed = seal(credentials, { current: key }, here);
    expect(sealed).not.toContain('AAH-secret');
    expect(sealed.startsWith(`v2.${keyId(key)}.`)).toBe(true);
    expect(open(sealed, { current: key }, here)).toEqual(credentials);
  });

  it('uses a fresh IV each time', () => {
    expect(seal(credentials, { current: key }, here)).not.toBe(seal(credentials, { current: key }, here));
  });

  it('reads values sealed with a previous key during a rotation', () => {
    const old = randomBytes(32);
    const sealed = seal(credentials, { current: old }, here);
    expect(open(sealed, { current: key, previous: [old] }, here)).toEqual(credentials);
    expect(() => open(sealed, { current: key }, here)).toThrow(DecryptionError);
  });

  it('refuses a tampered value', () => {
    const parts = seal(credentials, { current: key }, here).split('.');
    const body = Buffer.from(parts[4], 'base64url');
    body[0] ^= 1;
    parts[4] = body.toString('base64url');
    expect(() => open(parts.join('.'), { current: key }, here)).toThrow(/tampered/);
    expect(() => open('garbage', { current: key }, here)).toThrow(DecryptionError);
  });

  it('refuses a value moved to another row or column', () => {
    const sealed = seal(credentials, { current: key }, here);
    expect(() => open(sealed, { current: key }, 'platform_connections/bot-b/telegram/credentials')).toThrow(/moved/);
    expect(() => open(sealed, { current: key }, 'platform_connections/bot-a/telegram/webhook_secret')).toThrow(DecryptionError);
  });

  it('refuses a truncated tag (a short tag would make forgeries cheap)', () => {
    const parts = seal(credentials, { current: key }, here).split('.');
    parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, 4).toString('base64url');
    expect(() => open(parts.join('.'), { current: key }, here)).toThrow(/truncated tag/);
  });

  it('opens values sealed before bindings (v1) and says they are legacy', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
    const legacy = ['v1', keyId(key), ...[iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))].join('.');
    expect(isLegacySealed(legacy)).toBe(true);
    expect(open(legacy, { current: key }, here)).toEqual(credentials);
    expect(isLegacySealed(seal(credentials, { current: key }, here))).toBe(false);
  });
});
