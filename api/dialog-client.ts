import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { IncomingMessage, PlatformName } from '../src/platforms/types';
import { AppError, conflict, unprocessable } from '../src/errors';
import {
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

/** How long a get-or-create waits for a new dialog to load its scenario. */
const SETTLE_MS = 2000;

/** The API's only way into dialog workflows: start, signal, query and update them by dialog key. */
export function dialogClient(temporal: Client, taskQueue: string) {
  const startOptions = (botId: string, platform: PlatformName, chatId: string) => ({
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
  async function ensure(botId: string, platform: PlatformName, chatId: string) {
    return temporal.workflow.start(DIALOG_WORKFLOW_TYPE, { ...startOptions(botId, platform, chatId), workflowIdConflictPolicy: 'USE_EXISTING' });
  }

  function mapUpdateFailure(error: unknown): unknown {
    const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === FAILURE.staleVersion) return conflict('stale_version', cause.message, cause.details?.[0] ?? null);
      if (cause.type === FAILURE.unknownStep) return unprocessable('unknown_step', cause.message);
      if (cause.type === FAILURE.notACheckpoint) return unprocessable('not_a_checkpoint', cause.message);
      if (cause.type === FAILURE.dataTooLarge) return new AppError(413, (cause.details?.[0] as { code?: string } | undefined)?.code ?? 'data_too_large', cause.message);
      return new AppError(409, 'update_rejected', cause.message);
    }
    return error;
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
    async state(botId: string, platform: PlatformName, chatId: string): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      const deadline = Date.now() + SETTLE_MS;
      for (;;) {
        const snapshot = await handle.query(stateQuery);
        if (snapshot.scenario_id !== null || snapshot.version > 0 || Date.now() > deadline) return snapshot;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },

    async update(botId: string, platform: PlatformName, chatId: string, request: UpdateStateRequest): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      return handle.executeUpdate(updateStateUpdate, { args: [request] }).catch((error) => {
        throw mapUpdateFailure(error);
      });
    },

    async reset(botId: string, platform: PlatformName, chatId: string, request: ResetRequest): Promise<DialogSnapshot> {
      const handle = await ensure(botId, platform, chatId);
      return handle.executeUpdate(resetUpdate, { args: [request] }).catch((error) => {
        throw mapUpdateFailure(error);
      });
    },
  };
}

export type DialogClient = ReturnType<typeof dialogClient>;
