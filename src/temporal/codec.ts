/**
 * Payload encryption: dialog data, messages and activity results are sealed before Temporal stores
 * them. The format is the one of Temporal's encryption samples (TypeScript, Go, Python), so their
 * codec servers and tools read it too: metadata `encoding: binary/encrypted` and
 * `encryption-key-id: <id>`, data = 12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag, the plain text
 * being the original Payload encoded as the protobuf `temporal.api.common.v1.Payload`.
 *
 * Codecs run outside the workflow sandbox (in the client, the worker and /v1/codec); workflow code
 * never imports this module.
 */
import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  /** Written into every payload it seals: the first 8 hex characters of the key's SHA-256, or the id given with it. */
  id: string;
  key: Buffer;
}

export interface PayloadKeyring {
  /** Seals new payloads; unset: new payloads are stored as they are, old ones still open. */
  current?: PayloadKey;
  /** Keys of a rotation: payloads they sealed still open. */
  previous: PayloadKey[];
}

export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** An id as it may appear in a message: a stored payload's metadata is anyone's text. */
const printable = (id: string | undefined) => JSON.stringify((id ?? '').slice(0, 64));

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  constructor(private readonly keyring: PayloadKeyring) {
    const all = [...(keyring.current ? [keyring.current] : []), ...keyring.previous];
    this.keys = new Map(all.map(({ id, key }) => [id, key]));
  }

  // PayloadCodec's methods are async; node:crypto's AES-GCM is synchronous and, for payloads this
  // small, quicker than WebCrypto's round trip through the thread pool.
  // eslint-disable-next-line @typescript-eslint/require-await -- see above
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.keyring.current;
    return current ? payloads.map((payload) => seal(payload, current)) : payloads;
  }

  /** Payloads stored before encryption was turned on (not `binary/encrypted`) come back unchanged. */
  // eslint-disable-next-line @typescript-eslint/require-await -- synchronous AES-GCM, as in encode
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.open(payload) : payload));
  }

  private open(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = id === undefined ? undefined : this.keys.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload sealed with key id ${printable(id)}, which is not configured (PAYLOAD_ENCRYPTION_KEY, PAYLOAD_DECRYPTION_KEYS)`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`payload sealed with key id ${printable(id)} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(`payload sealed with key id ${printable(id)} does not open with that key (tampered, or another key under the same id)`);
    }
  }
}

function seal(payload: Payload, { id, key }: PayloadKey): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  const plain = temporal.api.common.v1.Payload.encode(payload).finish();
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) },
    data: sealed,
  };
}

/** The payload codec of the configured keys, for /v1/codec; it seals nothing and opens only plain payloads without keys. */
export function payloadCodec(config: Pick<Config, 'payloadKeys'>): EncryptionCodec {
  return new EncryptionCodec(config.payloadKeys ?? { previous: [] });
}

/** What every Client and Worker of the product is given: the codec when keys are configured, else the SDK's default. */
export function dataConverter(config: Pick<Config, 'payloadKeys'>): DataConverter | undefined {
  return config.payloadKeys ? { payloadCodecs: [payloadCodec(config)] } : undefined;
}
