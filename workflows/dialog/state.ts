/** What one run of a dialog keeps: the engine's state and what the workflow knows around it. */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DialogSnapshot, LoadedScenario, RecordedEvent, ScenarioRoute, TurnRecord } from '../../src/dialog/contract';
import { initialState } from '../../src/engine/advance';
import type { DialogState } from '../../src/engine/types';
import type { DialogPlatform } from '../../src/platforms/types';
import { type DialogWorkflowInput, searchAttributes } from '../messages';

export interface Dialog {
  readonly botId: string;
  readonly platform: DialogPlatform;
  readonly chatId: string;
  readonly workflowId: string;
  /** With the turn counter, the idempotency key of a turn's rows: the same in every run. */
  readonly firstRunId: string;
  state: DialogState;
  /** The scenario version the dialog runs on; null until one is loaded (the bot may have none). */
  scenario: LoadedScenario | null;
  /** The version the previous run was on, to load before any other. */
  readonly carriedScenarioId: string | null;
  /** The bot's active scenarios' triggers as of `loadedAt` (workflow time); each run loads its own. */
  routes: { list: ScenarioRoute[]; loadedAt: number } | null;
  /** The state revision (the API's `version`), one more each turn. */
  revision: number;
  turn: number;
  startedAt: string;
  lastInteractionAt: string;
  /** When the user last wrote (workflow time): Meta's 24-hour window counts from it. */
  lastUserMessageAt?: string;
  /** What a reply needs beyond the chat id, as the latest message gave it. */
  replyContext?: Record<string, string>;
  /** `botActivated` signals this run received. */
  botActivations: number;
}

export const nowIso = () => new Date(Date.now()).toISOString();

/** The dialog as the run starts: fresh, or as the previous run carried it over. */
export function openDialog(input: DialogWorkflowInput): Dialog {
  const { carried } = input;
  const info = workflowInfo();
  const startedAt = carried?.startedAt ?? nowIso();
  return {
    botId: input.botId,
    platform: input.platform,
    chatId: input.chatId,
    workflowId: info.workflowId,
    firstRunId: info.firstExecutionRunId,
    state: carried?.state ?? initialState(),
    scenario: null,
    carriedScenarioId: carried?.scenarioId ?? null,
    routes: null,
    revision: carried?.revision ?? 0,
    turn: carried?.turn ?? 0,
    startedAt,
    lastInteractionAt: carried?.lastInteractionAt ?? startedAt,
    lastUserMessageAt: carried?.lastUserMessageAt,
    replyContext: carried?.replyContext,
    botActivations: 0,
  };
}

export function snapshotOf(dialog: Dialog): DialogSnapshot {
  const { state, scenario, revision } = dialog;
  return {
    bot_id: dialog.botId,
    platform: dialog.platform,
    chat_id: dialog.chatId,
    status: state.status,
    // A dialog nobody wrote to yet sits at the start step of the scenario it will run.
    current_step: revision === 0 && scenario ? scenario.data.start_step : state.currentStep,
    collected_data: state.collectedData,
    scenario_id: scenario?.id ?? null,
    scenario_version: scenario?.version ?? null,
    version: revision,
    started_at: dialog.startedAt,
    last_interaction_at: dialog.lastInteractionAt,
    workflow_id: dialog.workflowId,
    user: state.user ?? null,
  };
}

/** What the UI shows of a running dialog. */
export function showDetails(dialog: Dialog): void {
  setCurrentDetails(`status **${dialog.state.status}** · step \`${dialog.state.currentStep ?? '-'}\` · revision ${dialog.revision}`);
}

/** The API sets the search attributes when it starts a dialog; a dialog started any other way gets them here. */
export function setMissingSearchAttributes(dialog: Dialog): void {
  const given = workflowInfo().typedSearchAttributes;
  const missing = [
    { key: searchAttributes.botId, value: dialog.botId },
    { key: searchAttributes.platform, value: dialog.platform as string },
    { key: searchAttributes.dialogStatus, value: dialog.state.status as string },
    { key: searchAttributes.currentStep, value: dialog.state.currentStep ?? '' },
  ].filter((pair) => given.get(pair.key) === undefined);
  if (missing.length > 0) upsertSearchAttributes(missing);
}

/** The event that begins a conversation, with the scenario version it runs on. */
export const conversationStarted = (dialog: Dialog, reason: string): RecordedEvent => ({
  kind: 'dialog_started',
  step: null,
  at: nowIso(),
  data: { reason, scenario_id: dialog.scenario?.id ?? null, scenario_version: dialog.scenario?.version ?? null },
});

/** The `system` history row of a reset: who reset the dialog, and to where. */
export function resetMessage(dialog: Dialog, by: 'user' | 'operator', to: boolean | string): TurnRecord['systemMessage'] {
  const where = to === false ? 'the beginning' : to === true ? 'the last checkpoint' : `checkpoint "${to}"`;
  const who = by === 'user' ? 'The user' : 'An operator';
  return { text: `${who} reset the dialog to ${where}.`, payload: { reset_by: by, to_checkpoint: to }, step: dialog.state.currentStep, at: nowIso() };
}
