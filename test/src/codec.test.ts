import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { dataConverter, EncryptionCodec, KEY_ID_METADATA, PayloadDecryptionError, payloadCodec } from '../../src/temporal/codec';
import { configProblems } from '../support/config';

const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
const oldKey = Buffer.alloc(32, 2);
const newKey = Buffer.alloc(32, 3);
const idOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

const guestMessage = { text: 'My phone is +1 555 0100, name Zelda Quux', chatId: '42' };
const plain = (): Payload => defaultPayloadConverter.toPayload(guestMessage);
const valueOf = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const textOf = (payload: Payload) => Buffer.from(payload.data ?? []).toString('latin1') + JSON.stringify(payload.metadata);

function codecFor(env: Record<string, string>): EncryptionCodec {
  return payloadCodec(loadConfig({ ...base, ...env }));
}

const problems = (env: Record<string, string>) => configProblems({ ...base, ...env });

describe('the payload codec', () => {
  const codec = codecFor({ PAYLOAD_ENCRYPTION_KEY: newKey.toString('base64') });

  it('round-trips a payload, and the stored form holds none of its text', async () => {
    const [sealed] = await codec.encode([plain()]);
    expect(Buffer.from(sealed.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.metadata?.[KEY_ID_METADATA] ?? []).toString()).toBe(idOf(newKey));
    expect(textOf(sealed)).not.toContain('Zelda');
    expect(textOf(sealed)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed]);
    expect(valueOf(opened)).toEqual(guestMessage);
    expect(Buffer.from(opened.metadata?.encoding ?? []).toString()).toBe('json/plain');
  });

  it('uses a fresh IV for each payload', async () => {
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a.data ?? []).equals(Buffer.from(b.data ?? []))).toBe(false);
  });

  it('refuses a payload whose ciphertext, IV or tag was changed', async () => {
    const [sealed] = await codec.encode([plain()]);
    const data = Buffer.from(sealed.data ?? []);
    for (const at of [0, 20, data.length - 1]) {
      const tampered = Buffer.from(data);
      tampered[at] ^= 1;
      await expect(codec.decode([{ ...sealed, data: tampered }])).rejects.toThrow(/does not open with that key/);
    }
    await expect(codec.decode([{ ...sealed, data: data.subarray(0, 20) }])).rejects.toThrow(/truncated/);
  });

  it('names an unknown key id, without quoting more than 64 characters of it', async () => {
    const [sealed] = await codec.encode([plain()]);
    const foreign = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('retired-2024' + 'x'.repeat(500)) } };
    const error = await codec.decode([foreign]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toMatch(/key id "retired-2024x+", which is not configured/);
    expect((error as Error).message.length).toBeLessThan(200);
  });

  it('passes payloads stored before encryption through decode unchanged', async () => {
    const before = plain();
    const [after] = await codec.decode([before]);
    expect(after).toBe(before);
  });

  it('rotates: the new key encodes, a payload of the old key still decodes', async () => {
    const [old] = await codecFor({ PAYLOAD_ENCRYPTION_KEY: oldKey.toString('hex') }).encode([plain()]);
    const rotated = codecFor({ PAYLOAD_ENCRYPTION_KEY: newKey.toString('base64'), PAYLOAD_DECRYPTION_KEYS: ` ${oldKey.toString('base64')} ` });
    expect(valueOf((await rotated.decode([old]))[0])).toEqual(guestMessage);
    const [fresh] = await rotated.encode([plain()]);
    expect(Buffer.from(fresh.metadata?.[KEY_ID_METADATA] ?? []).toString()).toBe(idOf(newKey));
    // Without the old key the old payload is refused.
    await expect(codec.decode([old])).rejects.toThrow(new RegExp(idOf(oldKey)));
  });

  it('takes an explicit key id (id:key)', async () => {
    const named = codecFor({ PAYLOAD_ENCRYPTION_KEY: `2026-q1:${newKey.toString('base64')}` });
    const [sealed] = await named.encode([plain()]);
    expect(Buffer.from(sealed.metadata?.[KEY_ID_METADATA] ?? []).toString()).toBe('2026-q1');
    expect(valueOf((await named.decode([sealed]))[0])).toEqual(guestMessage);
  });

  it('with only old keys (encryption turned off) stores new payloads as they are and still reads old ones', async () => {
    const [old] = await codec.encode([plain()]);
    const off = codecFor({ PAYLOAD_DECRYPTION_KEYS: newKey.toString('base64') });
    const fresh = plain();
    expect((await off.encode([fresh]))[0]).toBe(fresh);
    expect(valueOf((await off.decode([old]))[0])).toEqual(guestMessage);
  });

  it('is in the data converter only when keys are configured', () => {
    expect(dataConverter(loadConfig(base))).toBeUndefined();
    expect(dataConverter(loadConfig({ ...base, PAYLOAD_ENCRYPTION_KEY: newKey.toString('base64') }))?.payloadCodecs).toHaveLength(1);
  });
});

describe('payload key settings', () => {
  it('reports a key of the wrong size or format by name and never quotes it', () => {
    const secret = Buffer.alloc(16, 9).toString('base64');
    const found = problems({ PAYLOAD_ENCRYPTION_KEY: secret, PAYLOAD_DECRYPTION_KEYS: `${oldKey.toString('base64')},bad key:${newKey.toString('base64')}` });
    expect(found).toEqual([
      expect.stringMatching(/^PAYLOAD_ENCRYPTION_KEY: expected 32 bytes/),
      expect.stringMatching(/^PAYLOAD_DECRYPTION_KEYS \(entry 2\): expected 32 bytes/),
    ]);
    expect(found.join('\n')).not.toContain(secret);
  });

  it('refuses two different keys under one id, and the credentials key reused for payloads', () => {
    expect(problems({ PAYLOAD_ENCRYPTION_KEY: `k1:${newKey.toString('base64')}`, PAYLOAD_DECRYPTION_KEYS: `k1:${oldKey.toString('base64')}` })).toEqual([
      'PAYLOAD_DECRYPTION_KEYS: two different keys have the id k1',
    ]);
    expect(problems({ PAYLOAD_ENCRYPTION_KEY: base.ENCRYPTION_KEY })).toEqual(['PAYLOAD_ENCRYPTION_KEY: use a key of its own, not ENCRYPTION_KEY']);
  });

  it('leaves payloads unencrypted when neither variable is set', () => {
    expect(loadConfig(base).payloadKeys).toBeUndefined();
  });
});
