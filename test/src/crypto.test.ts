import { randomBytes } from 'node:crypto';
import { DecryptionError, keyId, open, seal } from '../../src/crypto';

describe('credential sealing (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const credentials = { token: '7000001:AAH-secret', app_secret: 'shh' };

  it('round-trips and never contains the plain text', () => {
    const sealed = seal(credentials, { current: key });
    expect(sealed).not.toContain('AAH-secret');
    expect(sealed.startsWith(`v1.${keyId(key)}.`)).toBe(true);
    expect(open(sealed, { current: key })).toEqual(credentials);
  });

  it('uses a fresh IV each time', () => {
    expect(seal(credentials, { current: key })).not.toBe(seal(credentials, { current: key }));
  });

  it('reads values sealed with a previous key during a rotation', () => {
    const old = randomBytes(32);
    const sealed = seal(credentials, { current: old });
    expect(open(sealed, { current: key, previous: [old] })).toEqual(credentials);
    expect(() => open(sealed, { current: key })).toThrow(DecryptionError);
  });

  it('refuses a tampered value', () => {
    const parts = seal(credentials, { current: key }).split('.');
    const body = Buffer.from(parts[4], 'base64url');
    body[0] ^= 1;
    parts[4] = body.toString('base64url');
    expect(() => open(parts.join('.'), { current: key })).toThrow(/tampered/);
    expect(() => open('garbage', { current: key })).toThrow(DecryptionError);
  });
});
