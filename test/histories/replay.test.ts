/**
 * Every recorded history (test/histories/*.json, written by record.ts from real runs) must replay
 * on the current workflow code. A failure here means the change would break dialogs that are
 * running in production: guard it with `patched()` (docs/durability.md), do not re-record.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testWorkflowCode } from '../support/stack';
import { historyFromJson } from './json';

const files = readdirSync(__dirname).filter((f) => f.endsWith('.json')).sort();

describe('recorded dialog histories replay on the current workflow code', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s', async (file) => {
    const history = historyFromJson(JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')));
    // Throws DeterminismViolationError (or the workflow's own failure) when the code no longer fits.
    await Worker.runReplayHistory(testWorkflowCode(), history, file);
  });
});
