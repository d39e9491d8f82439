/**
 * The API's one door to Temporal: routes reach workflows only through the client built here (a
 * dialog by its key, a bot's dialogs, media processing, the server's health) and import no Temporal
 * package. Execution housekeeping it uses lives in workflow-executions.ts.
 */
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DialogPlatform, IncomingMessage } from '../src/platforms/types';
import { AppError, conflict, notFound, unprocessable } from '../src/errors';
import { type mediaProcessingWorkflow, mediaWorkflowId } from '../workflows/media';
import {
  botActivatedSignal,
  type CloseRequest,
  closeUpdate,
  DIALOG_WORKFLOW_TASK_TIMEOUT,
  DIALOG_WORKFLOW_TYPE,
  type DialogSnapshot,
  type DialogWorkflowInput,
  dialogWorkflowId,
  FAILURE,
  type ResetRequest,
  resetUpdate,
  searchAttributes,
  stateQuery,
  type UpdateStateRequest,
  updateStateUpdate,
  userMessageSignal,
} from '../workflows/messages';
import { deleteClosedRuns, deleteRun, isNotFound, listExecutions, type Run, terminateCurrentRun } from './workflow-executions';

/** How long a get-or-create waits for a new dialog to load its scenario. */
const SETTLE_MS = 2000;

/** Visibility's query of a bot's dialog workflows, by their `BotId` search attribute. */
const botQuery = (botId: string) => `${searchAttributes.botId.name} = '${botId.replace(/'/g, '')}'`;

/** The API's Temporal client: dialogs started, signalled, queried, updated, stopped and deleted by dialog key or bot. */
export interface DialogClientOptions {
  /**
   * Whether a new dialog of the bot will load a scenario (the bot has a default one): without it,
   * reading a dialog just started does not wait for a load that never comes. Unset: it waits.
   */
  hasDefaultScenario?: (botId: string) => Promise<boolean>;
}

export function dialogClient(temporal: Client, taskQueue: string, options: DialogClientOptions = {}) {
  const startOptions = (botId: string, platform: DialogPlatform, chatId: string) => ({
    workflowId: dialogWorkflowId(botId, platform, chatId),
    taskQueue,
    workflowTaskTimeout: DIALOG_WORKFLOW_TASK_TIMEOUT,
    args: [{ botId, platform, chatId }] as [DialogWorkflowInput],
    typedSearchAttributes: [
      { key: searchAttributes.botId, value: botId },
      { key: searchAttributes.platform, value: platform },
      { key: searchAttributes.dialogStatus, value: 'active' },
      { key: searchAttributes.currentStep, value: '' },
    ],
  });

  /** Starts the dialog if it is not running; an existing one is used as it is. */
  async function ensure(botId: string, platform: DialogPlatform, chatId: string) {
    return temporal.workflow.start(DIALOG_WORKFLOW_TYPE, { ...startOptions(botId, platform, chatId), workflowIdConflictPolicy: 'USE_EXISTING' });
  }

  function mapUpdateFailure(error: unknown): unknown {
    const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === FAILURE.staleVersion) return conflict('stale_version', cause.message, cause.details?.[0] ?? null);
      if (cause.type === FAILURE.unknownStep) return unprocessable('unknown_step', cause.message);
      if (cause.type === FAILURE.notACheckpoint) return unprocessable('not_a_checkpoint', cause.message);
      if (cause.type === FAILURE.dataTooLarge)
        return new AppError(413, (cause.details?.[0] as { code?: string } | undefined)?.code ?? 'data_too_large', cause.message);
      return new AppError(409, 'update_rejected', cause.message);
    }
    return error;
  }

  /**
   * The ids of the bot's running dialog workflows: those visibility lists, and `known` ones (the
   * dialog rows' active dialogs), since visibility lags a just-started workflow.
   */
  async function runningDialogIds(botId: string, known: readonly string[]): Promise<Set<string>> {
    const ids = new Set(known);
    for (const execution of await listExecutions(temporal, `${botQuery(botId)} AND ExecutionStatus = 'Running'`)) ids.add(execution.workflowId);
    return ids;
  }

  return {
    /** Delivers one user message; resolves once Temporal has durably accepted the signal. */
    async deliver(botId: string, message: IncomingMessage): Promise<void> {
      await temporal.workflow.signalWithStart(DIALOG_WORKFLOW_TYPE, {
        ...startOptions(botId, message.platform, message.chatId),
        signal: userMessageSignal,
        signalArgs: [message],
      });
    },

    /**
     * The dialog's state, starting it if there is none. A dialog just started loads its scenario in
     * its first activity; the answer waits a moment for that, so it shows the start step.
     */
    async state(botId: string, platform: DialogPlatform, chatId: string): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      const deadline = Date.now() + SETTLE_MS;
      let loading: Promise<boolean> | undefined;
      for (;;) {
        const snapshot = await handle.query(stateQuery);
        if (snapshot.scenario_id !== null || snapshot.version > 0 || Date.now() > deadline) return snapshot;
        loading ??= options.hasDefaultScenario?.(botId) ?? Promise.resolve(true);
        if (!(await loading)) return snapshot;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },

    async update(botId: string, platform: DialogPlatform, chatId: string, request: UpdateStateRequest): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      return handle.executeUpdate(updateStateUpdate, { args: [request] }).catch((error) => {
        throw mapUpdateFailure(error);
      });
    },

    async reset(botId: string, platform: DialogPlatform, chatId: string, request: ResetRequest): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      return handle.executeUpdate(resetUpdate, { args: [request] }).catch((error) => {
        throw mapUpdateFailure(error);
      });
    },

    /** Closes a running dialog's conversation (a merge, an operator); answers its final state, 404 when there is no dialog. */
    async close(botId: string, platform: DialogPlatform, chatId: string, request: CloseRequest): Promise<DialogSnapshot> {
      return temporal.workflow
        .getHandle(dialogWorkflowId(botId, platform, chatId))
        .executeUpdate(closeUpdate, { args: [request] })
        .catch((error) => {
          throw isNotFound(error) ? notFound('Dialog') : mapUpdateFailure(error);
        });
    },

    /** Stops the dialog's workflow for an erasure; answers the id of its current run, undefined when it has none. */
    async stop(botId: string, platform: DialogPlatform, chatId: string, reason: string): Promise<string | undefined> {
      return (await terminateCurrentRun(temporal, dialogWorkflowId(botId, platform, chatId), reason))?.runId;
    },

    /**
     * Deletes the closed runs of a stopped dialog (`stoppedRunId` too, which visibility may not list
     * yet) and of the processing workflows of `mediaIds`. Returns how many runs were deleted.
     */
    async deleteHistories(
      botId: string,
      platform: DialogPlatform,
      chatId: string,
      stoppedRunId: string | undefined,
      mediaIds: readonly string[],
    ): Promise<number> {
      let deleted = await deleteClosedRuns(temporal, dialogWorkflowId(botId, platform, chatId), stoppedRunId ? [stoppedRunId] : []);
      for (const id of mediaIds) deleted += await deleteClosedRuns(temporal, mediaWorkflowId(id), []);
      return deleted;
    },

    /** Tells each running dialog of the bot that the bot is active again; one that finished meanwhile is skipped. */
    async signalBotActivated(botId: string, knownRunning: readonly string[]): Promise<void> {
      for (const id of await runningDialogIds(botId, knownRunning)) {
        await temporal.workflow
          .getHandle(id)
          .signal(botActivatedSignal)
          .catch((error: { name?: string }) => {
            if (error?.name !== 'WorkflowNotFoundError') throw error;
          });
      }
    },

    /** Terminates the bot's running dialog workflows; answers the runs it found and how many it stopped. */
    async terminateBotDialogs(botId: string, knownRunning: readonly string[], reason: string): Promise<{ runs: Run[]; count: number }> {
      const runs: Run[] = [];
      let count = 0;
      for (const workflowId of await runningDialogIds(botId, knownRunning)) {
        const stopped = await terminateCurrentRun(temporal, workflowId, reason);
        if (!stopped) continue;
        runs.push({ workflowId, runId: stopped.runId });
        if (stopped.terminated) count++;
      }
      return { runs, count };
    },

    /**
     * Deletes every run of the bot's dialog workflows: each run visibility lists under its `BotId`
     * (continued-as-new ones included), and the runs just terminated, which visibility may not show
     * yet. Returns how many runs were deleted.
     */
    async deleteBotRuns(botId: string, terminated: readonly Run[]): Promise<number> {
      const runs = new Map<string, Run>();
      for (const run of [...terminated, ...(await listExecutions(temporal, botQuery(botId)))]) runs.set(`${run.workflowId}/${run.runId}`, run);
      let deleted = 0;
      for (const run of runs.values()) if (await deleteRun(temporal, run.workflowId, run.runId)) deleted++;
      return deleted;
    },

    /** Starts processing an uploaded file; a processing already under way for it is left as it is. */
    async startMediaProcessing(mediaId: string): Promise<void> {
      try {
        await temporal.workflow.start<typeof mediaProcessingWorkflow>('mediaProcessingWorkflow', {
          taskQueue,
          workflowId: mediaWorkflowId(mediaId),
          args: [{ mediaId }],
        });
      } catch (error) {
        // Already being processed (the same bytes uploaded twice at once): nothing more to start.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },

    /** Whether the Temporal frontend answers. */
    async reachable(): Promise<boolean> {
      return temporal.workflowService.getSystemInfo({}).then(
        () => true,
        () => false,
      );
    },
  };
}

export type DialogClient = ReturnType<typeof dialogClient>;
