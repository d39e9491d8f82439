import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialogActivities, LoadedScenario, RecordedEvent } from '../activities';
import { advance, initialState, timeoutPolicy } from '../src/engine';
import type { DialogState, EngineInput, JsonValue } from '../src/engine/types';
import type { IncomingMessage } from '../src/platforms/types';
import {
  type CarriedState,
  type DialogSnapshot,
  type DialogWorkflowInput,
  FAILURE,
  type ResetRequest,
  resetUpdate,
  searchAttributes,
  stateQuery,
  type UpdateStateRequest,
  updateStateUpdate,
  userMessageSignal,
} from './messages';

const { loadScenario, recordTurn } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { sendMessage } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  // A reply that cannot be delivered within ten minutes is reported as an error, not sent late.
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { httpRequest } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** How many platform message ids the dialog remembers to drop redeliveries. */
const SEEN_WINDOW = 1000;
/** Continue-as-new well before Temporal's 50K-event limit, even if the server does not suggest it. */
const MAX_HISTORY_EVENTS = 10_000;

type WorkItem =
  | { kind: 'message'; message: IncomingMessage }
  | { kind: 'update'; request: UpdateStateRequest; done?: DialogSnapshot; error?: Error }
  | { kind: 'reset'; request: ResetRequest; done?: DialogSnapshot; error?: Error };

const nowIso = () => new Date(Date.now()).toISOString();

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** One dialog: one bot on one platform with one chat, for as long as that chat lives. */
export async function dialogWorkflow(input: DialogWorkflowInput): Promise<void> {
  const { botId, platform, chatId } = input;
  const info = workflowInfo();
  const carried = input.carried;

  let state: DialogState = carried?.state ?? initialState();
  let scenario = null as LoadedScenario | null;
  let revision = carried?.revision ?? 0;
  let turn = carried?.turn ?? 0;
  let startedAt = carried?.startedAt ?? nowIso();
  let lastInteractionAt = carried?.lastInteractionAt ?? startedAt;
  let replyContext = carried?.replyContext;
  const seenIds: string[] = [...(carried?.seenIds ?? [])];
  const seen = new Set(seenIds);
  const queue: WorkItem[] = (carried?.pending ?? []).map((message) => ({ kind: 'message', message }));

  const snapshot = (): DialogSnapshot => ({
    bot_id: botId,
    platform,
    chat_id: chatId,
    status: state.status,
    // A dialog nobody wrote to yet sits at the start step of the scenario it will run.
    current_step: revision === 0 && scenario ? scenario.data.start_step : state.currentStep,
    collected_data: state.collectedData,
    scenario_id: scenario?.id ?? null,
    scenario_version: scenario?.version ?? null,
    version: revision,
    started_at: startedAt,
    last_interaction_at: lastInteractionAt,
    workflow_id: info.workflowId,
  });

  const enqueueAndWait = async (item: Extract<WorkItem, { kind: 'update' | 'reset' }>): Promise<DialogSnapshot> => {
    queue.push(item);
    await condition(() => item.done !== undefined || item.error !== undefined);
    if (item.error) throw item.error;
    return item.done as DialogSnapshot;
  };

  const checkUpdate = (request: UpdateStateRequest) => {
    if (request.expected_version !== revision) {
      throw ApplicationFailure.nonRetryable(
        `expected_version ${request.expected_version} is stale: the dialog is at version ${revision}`,
        FAILURE.staleVersion,
        { version: revision },
      );
    }
    if (request.current_step !== undefined && !scenario?.data.steps[request.current_step]) {
      throw ApplicationFailure.nonRetryable(
        `step "${request.current_step}" does not exist in scenario version ${scenario?.version ?? '(none)'}`,
        FAILURE.unknownStep,
      );
    }
  };

  setHandler(userMessageSignal, (message) => {
    if (seen.has(message.messageId)) return;
    seen.add(message.messageId);
    seenIds.push(message.messageId);
    if (seenIds.length > SEEN_WINDOW) seen.delete(seenIds.shift() as string);
    queue.push({ kind: 'message', message });
  });
  setHandler(stateQuery, snapshot);
  setHandler(updateStateUpdate, (request) => enqueueAndWait({ kind: 'update', request }), { validator: checkUpdate });
  setHandler(resetUpdate, (request) => enqueueAndWait({ kind: 'reset', request }));

  const ensureScenario = async (useActive: boolean): Promise<boolean> => {
    if (scenario && !useActive) return true;
    const loaded = await loadScenario({ botId, scenarioId: useActive ? undefined : (carried?.scenarioId ?? undefined) });
    if (loaded) scenario = loaded;
    return scenario !== null;
  };

  /** Runs the engine on one input and carries out what it asks, in order; then records the turn. */
  const runTurn = async (engineInput: EngineInput, incoming?: IncomingMessage) => {
    turn += 1;
    const turnKey = `${info.firstExecutionRunId}:${turn}`;
    const events: RecordedEvent[] = [];
    const before = { status: state.status, step: state.currentStep };
    let sends = 0;

    if (!scenario) {
      events.push({ kind: 'error', step: null, at: nowIso(), data: { code: 'no_active_scenario', message: 'The bot has no active scenario.' } });
    } else {
      let next: EngineInput | null = engineInput;
      while (next) {
        const result = advance(scenario.data, state, next);
        state = result.state;
        next = null;
        for (const effect of result.effects) {
          if (effect.type === 'event') {
            events.push({ kind: effect.event.kind, step: 'step' in effect.event ? effect.event.step : null, at: nowIso(), data: effect.event as unknown as JsonValue });
          } else if (effect.type === 'send') {
            sends += 1;
            try {
              await sendMessage({
                botId,
                platform,
                chatId,
                message: effect.message,
                step: effect.step,
                dedupeKey: `${turnKey}:send:${sends}`,
                replyContext,
              });
            } catch (error) {
              events.push({ kind: 'error', step: effect.step, at: nowIso(), data: { code: 'send_failed', message: failureMessage(error) } });
            }
          } else if (effect.type === 'http_request') {
            try {
              const value = await httpRequest(effect.request);
              next = { type: 'action_result', step: effect.step, ok: true, value };
            } catch (error) {
              next = { type: 'action_result', step: effect.step, ok: false, error: failureMessage(error) };
            }
          } else if (effect.type === 'handoff') {
            events.push({ kind: 'handoff', step: effect.step, at: nowIso(), data: { reason: effect.reason ?? null } });
          }
        }
      }
    }

    revision += 1;
    if (incoming) lastInteractionAt = nowIso();
    if (before.status !== state.status || before.step !== state.currentStep) {
      upsertSearchAttributes([
        { key: searchAttributes.dialogStatus, value: state.status },
        { key: searchAttributes.currentStep, value: state.currentStep ?? '' },
      ]);
    }
    await recordTurn({
      key: { bot_id: botId, platform, chat_id: chatId },
      turnKey,
      scenarioId: scenario?.id ?? null,
      incoming: incoming ? { messageId: incoming.messageId, input: incoming.input, step: before.step, at: lastInteractionAt } : undefined,
      events,
      projection: { ...snapshot(), workflow_id: info.workflowId },
    });
  };

  const process = async (item: WorkItem) => {
    if (item.kind === 'message') {
      replyContext = item.message.replyContext ?? replyContext;
      // A finished dialog that hears from its user again starts over on the bot's current scenario.
      const finished = state.status !== 'active' && state.status !== 'handoff';
      const restart = finished && revision > 0;
      if (restart) startedAt = nowIso();
      await ensureScenario(restart);
      await runTurn({ type: 'message', input: item.message.input }, item.message);
      return;
    }
    try {
      if (item.kind === 'update') {
        checkUpdate(item.request);
        await runTurn({ type: 'set_state', currentStep: item.request.current_step, collectedData: item.request.collected_data });
      } else {
        await ensureScenario(!item.request.to_checkpoint);
        await runTurn({ type: 'reset', toCheckpoint: item.request.to_checkpoint });
      }
      item.done = snapshot();
    } catch (error) {
      item.error = error instanceof Error ? error : new Error(String(error));
    }
  };

  const historyIsLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;

  await ensureScenario(false);

  for (;;) {
    const policy = scenario && queue.length === 0 ? timeoutPolicy(scenario.data, state) : null;
    if (policy) {
      const woke = await condition(() => queue.length > 0, policy.afterMs);
      if (!woke) await runTurn({ type: 'timeout' });
    } else {
      await condition(() => queue.length > 0);
    }
    while (queue.length > 0) await process(queue.shift() as WorkItem);

    if (historyIsLong()) {
      await condition(() => allHandlersFinished());
      if (queue.length > 0) continue;
      const next: CarriedState = {
        state,
        scenarioId: scenario?.id ?? null,
        revision,
        turn,
        seenIds,
        pending: [],
        startedAt,
        lastInteractionAt,
        replyContext,
      };
      await continueAsNew<typeof dialogWorkflow>({ botId, platform, chatId, carried: next });
    }
  }
}
