/**
 * Every patch id of the dialog workflow, in the order they were added. Empty: this is the baseline.
 *
 * The rule: before 1.0 there is one baseline and workflow code changes freely (the recorded
 * histories in test/histories/ are recorded again for each new baseline). After 1.0, a change that
 * makes running dialogs issue different commands goes
 *
 *   1. `if (patched('my-change')) { new } else { old }`, its id added here;
 *   2. once no run begun before it is still open: `deprecatePatch('my-change')` and the new branch only;
 *   3. later: the call removed, the id kept here so it is never reused.
 *
 * Import `patched` and `deprecatePatch` from this module, not from '@temporalio/workflow': they take
 * only the ids listed here (docs/durability.md, "Changing workflow code").
 */
import { deprecatePatch as deprecateSdkPatch, patched as sdkPatched } from '@temporalio/workflow';

export const PATCH_IDS = [] as const;

export type PatchId = (typeof PATCH_IDS)[number];

/** Whether this run takes the change `id` (true for new runs; false replaying a run from before it). */
export const patched = (id: PatchId): boolean => sdkPatched(id);

/** Every run still open has taken the change `id`: its old branch is gone. */
export const deprecatePatch = (id: PatchId): void => deprecateSdkPatch(id);
