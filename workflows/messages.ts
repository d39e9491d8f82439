/**
 * The dialog workflow's surface, shared by the workflow and the API so names cannot drift.
 * Safe to import from workflow code: definitions only.
 */
import { defineSearchAttributeKey, type Duration } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DialogSnapshot } from '../src/dialog/contract';
import type { CollectedData, DialogState } from '../src/engine/types';
import type { DialogPlatform, IncomingMessage } from '../src/platforms/types';

export type { DialogSnapshot };

export const DIALOG_WORKFLOW_TYPE = 'dialogWorkflow';

/**
 * A dialog's workflow task timeout (Temporal's default is 10 s). A turn's replies go out in a local
 * activity inside the workflow task; the SDK extends a long one at 80% of this, and each extension
 * takes in the signals, updates and queries that arrived meanwhile. It is also how long a task a
 * dead worker held waits before another worker takes it. Continue-as-new keeps it.
 */
export const DIALOG_WORKFLOW_TASK_TIMEOUT: Duration = '5 seconds';

export function dialogWorkflowId(botId: string, platform: DialogPlatform, chatId: string): string {
  return `dialog:${botId}:${platform}:${chatId}`;
}

/** Custom search attributes for ops (registered by `npm start`, the tests and docker-compose). */
export const searchAttributes = {
  botId: defineSearchAttributeKey('BotId', 'KEYWORD'),
  platform: defineSearchAttributeKey('Platform', 'KEYWORD'),
  dialogStatus: defineSearchAttributeKey('DialogStatus', 'KEYWORD'),
  currentStep: defineSearchAttributeKey('CurrentStep', 'KEYWORD'),
};

export interface DialogWorkflowInput {
  botId: string;
  platform: DialogPlatform;
  chatId: string;
  /** Present after continue-as-new: everything the next run needs to go on exactly where this one stopped. */
  carried?: CarriedState;
  /**
   * History length (events) past which a run continues as new even if the server does not suggest
   * it yet (workflows/dialog/continue-as-new.ts); tests set it to show generations of another size.
   */
  historyLimit?: number;
}

export interface CarriedState {
  state: DialogState;
  scenarioId: string | null;
  revision: number;
  turn: number;
  seenIds: string[];
  pending: IncomingMessage[];
  startedAt: string;
  lastInteractionAt: string;
  replyContext?: Record<string, string>;
  lastUserMessageAt?: string;
}

export interface UpdateStateRequest {
  current_step?: string;
  /** Merged into the dialog's data (a `null` value removes its key) unless `replace_data` is true. */
  collected_data?: CollectedData;
  /** `true`: `collected_data` replaces the whole data. */
  replace_data?: boolean;
  expected_version: number;
}

export interface ResetRequest {
  /** `false`: to the beginning with fresh data; `true`: to the last checkpoint; a step id: to that checkpoint. Data is kept at a checkpoint. */
  to_checkpoint: boolean | string;
}

/** Ends the dialog's current conversation from outside (a merge into another dialog). */
export interface CloseRequest {
  reason: 'merged' | 'operator';
  /** Workflow id of the dialog this one was merged into. */
  merged_into?: string;
}

export const userMessageSignal = defineSignal<[IncomingMessage]>('userMessage');
/** The bot is active again: a dialog holding a timeout since it was deactivated arms it afresh. */
export const botActivatedSignal = defineSignal('botActivated');
export const stateQuery = defineQuery<DialogSnapshot>('state');
export const updateStateUpdate = defineUpdate<DialogSnapshot, [UpdateStateRequest]>('updateState');
export const resetUpdate = defineUpdate<DialogSnapshot, [ResetRequest]>('reset');
export const closeUpdate = defineUpdate<DialogSnapshot, [CloseRequest]>('close');

/** Failure types the API maps to HTTP statuses. */
export const FAILURE = {
  staleVersion: 'StaleVersion',
  unknownStep: 'UnknownStep',
  notACheckpoint: 'NotACheckpoint',
  dataTooLarge: 'DataTooLarge',
} as const;
