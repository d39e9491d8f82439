/**
 * The histories recorded with payload encryption on (`encrypted.*.json`, written by
 * encrypted.record.ts) and the test key that sealed them. Replaying one needs the codec, as a worker
 * of a deployment with PAYLOAD_ENCRYPTION_KEY does.
 */
import type { DataConverter } from '@temporalio/common';
import { dataConverter, type PayloadKeyring } from '../../src/temporal/codec';

export const ENCRYPTED_PREFIX = 'encrypted.';

/** A key for these test histories only. */
export const ENCRYPTED_HISTORY_KEYS: PayloadKeyring = { current: { id: 'replay-test', key: Buffer.alloc(32, 42) }, previous: [] };

export const encryptedHistoryConverter = () => dataConverter({ payloadKeys: ENCRYPTED_HISTORY_KEYS }) as DataConverter;
