/**
 * Every recorded history of the baseline (test/histories/*.json, written by record.ts from real
 * runs) must replay on the current workflow code. A failure here means the change would break
 * dialogs that are running: guard it with `patched()` from workflows/dialog/patches.ts
 * (docs/durability.md, "Changing workflow code"), do not re-record.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testWorkflowCode } from '../support/stack';
import { ENCRYPTED_PREFIX, encryptedHistoryConverter } from './encrypted';
import { historyFromJson } from './json';

const all = readdirSync(__dirname)
  .filter((f) => f.endsWith('.json'))
  .sort();
const files = all.filter((f) => !f.startsWith(ENCRYPTED_PREFIX));
const encrypted = all.filter((f) => f.startsWith(ENCRYPTED_PREFIX));
const historyIn = (file: string) => historyFromJson(JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')));

describe('recorded dialog histories replay on the current workflow code', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  // A worker replays them with the payload codec on (PAYLOAD_ENCRYPTION_KEY set) or off; plain
  // payloads pass through the codec, so both must fit.
  describe.each([
    ['without the payload codec', () => testWorkflowCode()],
    ['with the payload codec on', () => ({ ...testWorkflowCode(), dataConverter: encryptedHistoryConverter() })],
  ])('%s', (_, workerOptions) => {
    it.each(files)('%s', async (file) => {
      // Throws DeterminismViolationError (or the workflow's own failure) when the code no longer fits.
      await Worker.runReplayHistory(workerOptions(), historyIn(file), file);
    });
  });
});

describe('histories recorded with payload encryption replay with the codec', () => {
  it('has one, which needs the key', async () => {
    expect(encrypted.length).toBeGreaterThanOrEqual(1);
    await expect(Worker.runReplayHistory(testWorkflowCode(), historyIn(encrypted[0]), encrypted[0])).rejects.toThrow(/Unknown encoding: binary\/encrypted/);
  });

  it.each(encrypted)('%s', async (file) => {
    await Worker.runReplayHistory({ ...testWorkflowCode(), dataConverter: encryptedHistoryConverter() }, historyIn(file), file);
  });
});
