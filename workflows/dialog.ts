import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialogActivities, LoadedScenario, RecordedEvent, RecordTurnInput, ScenarioRoute, SendCheckpoint, SendMessageInput } from '../activities';
import type { HttpRequestRefusedType } from '../activities/http-request';
// The run-time modules only: the engine's index also carries validation (zod schemas, a JSON
// parser), which would double the bundle every cached dialog holds in memory.
import { advance, changedData, initialState, recognizeCommand, stepOf } from '../src/engine/advance';
import { checkData, cutInput, TooLarge } from '../src/engine/bounds';
import { timeoutPolicy } from '../src/engine/timeouts';
import { matchTrigger, triggerStarts } from '../src/engine/triggers';
import type { CommandRules, DialogState, EngineInput, HttpRequestErrorCode, JsonValue, UserInput } from '../src/engine/types';
import type { IncomingMessage } from '../src/platforms/types';
import {
  botActivatedSignal,
  type CarriedState,
  type CloseRequest,
  closeUpdate,
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

// Local activities: quick database work done inside the workflow task (one marker event each, no
// round trip through the server). A worker that dies mid-task reruns them; all are idempotent.
const { loadScenario, loadTriggers, recordTurn, botIsActive } = proxyLocalActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * A turn's text replies go out first in a local activity, inside the workflow task: no round trip
 * through the server and half the history events. It does not retry: at the first failure, or
 * when a turn's replies take longer than HAND_OVER_AFTER_MS, it says where it stopped and the
 * `deliverTurn` activity below goes on from there, with retries and heartbeats.
 */
const { deliverTurn: deliverTurnLocally } = proxyLocalActivities<DialogActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});
const HAND_OVER_AFTER_MS = 2_000;
/**
 * Queued messages run one after the other in the same workflow task while their deliveries are
 * local. Past this many the turn's delivery goes to the activity, which ends the task: a burst
 * must not keep one task open past its timeout (the server would give it to another attempt).
 */
const LOCAL_TURNS_PER_TASK = 5;
/** A local delivery's marker, and room for the turn's search attribute change. */
const EVENTS_PER_LOCAL_TURN = 2;
/** The fewest events a message's turn adds: its signal and its delivery's marker. */
const MIN_EVENTS_PER_TURN = 2;

/**
 * A local activity that returns this many events after it began has come back in another workflow
 * task: the server failed the one it began in to flush over 100 buffered events, and the SDK (core
 * 1.24) went on with the next task in this run, in memory. A replay cannot reproduce that run (an
 * update accepted meanwhile lands in another place), so the workflow fails the task instead and the
 * SDK replays the dialog from its history. Deliveries already made are skipped by their transcript
 * rows. Not while replaying: a replay takes its tasks from the history.
 */
const TASK_TAKEN_OVER_EVENTS = 100;
class TaskTakenOver extends Error {}
async function local<T>(run: Promise<T>): Promise<T> {
  const before = workflowInfo().historyLength;
  const settled = await run.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const { historyLength, unsafe } = workflowInfo();
  if (!unsafe.isReplaying && historyLength - before > TASK_TAKEN_OVER_EVENTS) {
    throw new TaskTakenOver(`workflow task taken over while a local activity ran (history ${before} → ${historyLength}): replaying from history`);
  }
  if ('error' in settled) throw settled.error;
  return settled.value;
}

const { sendMessage, deliverTurn } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '30 seconds',
  // The activity heartbeats while the platform call is in flight, so a send on a worker that died
  // is retried within seconds instead of after the whole start-to-close timeout.
  heartbeatTimeout: '5 seconds',
  // A reply that cannot be delivered within ten minutes is reported as an error, not sent late.
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { storeIncomingMedia } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

const { httpRequest } = proxyActivities<DialogActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** How many platform message ids the dialog remembers to drop redeliveries. */
const SEEN_WINDOW = 1000;
/**
 * Continue-as-new past this many events. A dialog evicted from the worker's cache replays its
 * current run to answer (about 35 ms plus 0.5 ms per event on a 2-core box), so the run is kept
 * short: 120 events are some 25 turns. Runs begun before a smaller limit keep theirs.
 */
const historyLimitOf = (runHasHistoryLimit120: boolean, hasChange: (patch: string) => boolean) =>
  runHasHistoryLimit120 ? 120 : hasChange('history-limit-250') ? 250 : hasChange('history-limit-2000') ? 2_000 : 10_000;

/**
 * Runs begun since this patch take every change before it without asking for each. Each patch a run
 * takes is a marker and a `TemporalChangeVersion` upsert (a visibility write) in its history: one
 * per run now instead of three or four. Runs begun before it keep asking for each change.
 */
const ALL_CHANGES_TO_HISTORY_LIMIT_250 = 'all-changes-to-history-limit-250';
/**
 * Runs begun since this patch count their local turns themselves (see `localTurnsInTask`), and take
 * every change before it as well: one marker per run, as with the patch before.
 */
const LOCAL_TURNS_COUNTED_BY_THE_WORKFLOW = 'local-turns-counted-by-the-workflow';
/** Continue-as-new at 120 events instead of 250; it stands for every change before it too. */
const HISTORY_LIMIT_120 = 'history-limit-120';
/**
 * Runs begun since this patch start another active scenario when a message matches its trigger,
 * and take every change before it as well (one marker per run).
 */
const SCENARIO_TRIGGERS = 'scenario-triggers';
/**
 * How old the dialog's table of the bot's triggers may be when a message arrives. It comes with
 * each scenario load; past this age the next message refreshes it first (one local activity), so
 * a chat that writes often costs one refresh a minute, not one per message.
 */
const ROUTES_MAX_AGE_MS = 60_000;
/**
 * A timeout that comes due asks whether the bot is active; while it is not, the dialog holds the
 * timeout until the bot is activated again (or the user writes), then arms it afresh. Asked where a
 * timer fires, so only runs whose timers fire take its marker.
 */
const TIMEOUTS_HELD_WHILE_BOT_INACTIVE = 'timeouts-held-while-bot-inactive';
/**
 * `/reset` starts over with fresh data and `/help` never starts a dialog (CONTRACT §3); before, `/reset`
 * went to the last checkpoint and `/help` on a finished dialog started it. Asked where a `/help` or
 * `/reset` arrives, so only runs that see one take its marker.
 */
const COMMANDS_AS_THE_SPEC_SAYS = 'commands-as-the-spec-says';

type Waiting = { done?: DialogSnapshot; error?: Error };
type WorkItem =
  | { kind: 'message'; message: IncomingMessage; receivedAt: string }
  | ({ kind: 'update'; request: UpdateStateRequest } & Waiting)
  | ({ kind: 'reset'; request: ResetRequest } & Waiting)
  | ({ kind: 'close'; request: CloseRequest } & Waiting);

const nowIso = () => new Date(Date.now()).toISOString();

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

const HTTP_REQUEST_REFUSED: HttpRequestRefusedType = 'HttpRequestRefused';

/** The engine's code of a failed `http_request`: the egress policy's refusal has its own. */
function requestFailureCode(error: unknown): HttpRequestErrorCode {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === HTTP_REQUEST_REFUSED ? 'http_request_refused' : 'http_request_failed';
}

/** The event of a reply that could not be delivered. */
const sendFailed = (step: string | null, error: unknown): RecordedEvent => ({ kind: 'error', step, at: nowIso(), data: { code: 'send_failed', message: failureMessage(error) } });

function describeDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** One dialog: one bot on one platform with one chat, for as long as that chat lives. */
export async function dialogWorkflow(input: DialogWorkflowInput): Promise<void> {
  const { botId, platform, chatId } = input;
  const info = workflowInfo();
  const carried = input.carried;
  // Asked once, at the run's first workflow task, newest first: each of these patches stands for the
  // ones before it, so a new run writes one marker, and a run replaying without a marker stays on the
  // older patches for its whole life.
  const runRoutesTriggers = patched(SCENARIO_TRIGGERS);
  const runHasHistoryLimit120 = runRoutesTriggers || patched(HISTORY_LIMIT_120);
  const runCountsLocalTurns = runHasHistoryLimit120 || patched(LOCAL_TURNS_COUNTED_BY_THE_WORKFLOW);
  const runHasAllChanges = runCountsLocalTurns || patched(ALL_CHANGES_TO_HISTORY_LIMIT_250);
  const hasChange = (patch: string) => runHasAllChanges || patched(patch);
  const historyLimit = input.historyLimit ?? historyLimitOf(runHasHistoryLimit120, hasChange);

  let state: DialogState = carried?.state ?? initialState();
  let scenario = null as LoadedScenario | null;
  let revision = carried?.revision ?? 0;
  let turn = carried?.turn ?? 0;
  let startedAt = carried?.startedAt ?? nowIso();
  let lastInteractionAt = carried?.lastInteractionAt ?? startedAt;
  let replyContext = carried?.replyContext;
  const seenIds: string[] = [...(carried?.seenIds ?? [])];
  const seen = new Set(seenIds);
  const queue: WorkItem[] = (carried?.pending ?? []).map((message) => ({ kind: 'message', message, receivedAt: nowIso() }));

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
    user: state.user ?? null,
  });

  /** Operator requests wait in the same queue as messages, so they never interleave with a turn. */
  const enqueueAndWait = async (item: Extract<WorkItem, Waiting>): Promise<DialogSnapshot> => {
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
    if (request.current_step !== undefined && !(scenario && stepOf(scenario.data, request.current_step))) {
      throw ApplicationFailure.nonRetryable(
        `step "${request.current_step}" does not exist in scenario version ${scenario?.version ?? '(none)'}`,
        FAILURE.unknownStep,
      );
    }
    if (request.collected_data === undefined) return;
    try {
      checkData(changedData(state.collectedData, request.collected_data, request.replace_data !== false));
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      throw ApplicationFailure.nonRetryable(`collected_data would be too large: ${error.message}`, FAILURE.dataTooLarge, { code: error.code });
    }
  };

  const checkReset = (request: ResetRequest) => {
    const step = typeof request.to_checkpoint === 'string' ? request.to_checkpoint : undefined;
    if (step === undefined) return;
    const found = scenario ? stepOf(scenario.data, step) : undefined;
    if (!found) throw ApplicationFailure.nonRetryable(`step "${step}" does not exist in scenario version ${scenario?.version ?? '(none)'}`, FAILURE.unknownStep);
    if (!found.checkpoint) throw ApplicationFailure.nonRetryable(`step "${step}" is not a checkpoint (checkpoint: true)`, FAILURE.notACheckpoint);
  };

  setHandler(userMessageSignal, (message) => {
    if (seen.has(message.messageId)) return;
    seen.add(message.messageId);
    seenIds.push(message.messageId);
    if (seenIds.length > SEEN_WINDOW) seen.delete(seenIds.shift() as string);
    queue.push({ kind: 'message', message, receivedAt: nowIso() });
  });
  setHandler(stateQuery, snapshot);
  setHandler(updateStateUpdate, (request) => enqueueAndWait({ kind: 'update', request }), { validator: checkUpdate });
  setHandler(resetUpdate, (request) => enqueueAndWait({ kind: 'reset', request }), { validator: checkReset });
  setHandler(closeUpdate, (request) => enqueueAndWait({ kind: 'close', request }));
  let activations = 0;
  setHandler(botActivatedSignal, () => {
    activations += 1;
  });

  /** The bot's active scenarios' triggers, as of `loadedAt` (workflow time); runs that route only. */
  let routes: { list: ScenarioRoute[]; loadedAt: number } | null = null;
  const withRoutes = runRoutesTriggers ? { withRoutes: true } : {};
  const keepRoutes = (loaded: LoadedScenario | null) => {
    if (loaded?.routes) routes = { list: loaded.routes, loadedAt: Date.now() };
  };

  /**
   * Keeps the scenario version the dialog runs on; `useDefault` moves it to the bot's default one (a
   * new conversation). A pinned version that was deleted meanwhile also falls back to the default.
   */
  const ensureScenario = async (useDefault: boolean): Promise<void> => {
    if (scenario && !useDefault) return;
    const pinned = useDefault ? undefined : (scenario?.id ?? carried?.scenarioId ?? undefined);
    const summary = pinned ? 'load pinned scenario version' : 'load default scenario';
    let loaded = await local(loadScenario.executeWithOptions({ summary }, [{ botId, scenarioId: pinned, ...withRoutes }]));
    if (!loaded && pinned) loaded = await local(loadScenario.executeWithOptions({ summary: 'load default scenario' }, [{ botId, ...withRoutes }]));
    keepRoutes(loaded);
    if (loaded) scenario = loaded;
  };

  /**
   * The active scenario whose trigger this message matches, loaded, with the trigger; null when none
   * does, during a handoff, or for a keyword of the scenario the dialog is in the middle of (there
   * the word is an answer). A stale table is refreshed first; the scenario's own load refreshes it
   * again, so a scenario deactivated meanwhile is not started.
   */
  const triggeredScenario = async (userInput: UserInput): Promise<{ loaded: LoadedScenario; trigger: string; kind: string } | null> => {
    if (state.status === 'handoff') return null;
    if (!routes || Date.now() - routes.loadedAt > ROUTES_MAX_AGE_MS) {
      routes = { list: await local(loadTriggers.executeWithOptions({ summary: 'load the bot’s scenario triggers' }, [{ botId }])), loadedAt: Date.now() };
    }
    const match = matchTrigger(routes.list, userInput);
    if (!match || !triggerStarts(match, state, match.route.name === scenario?.name)) return null;
    const summary = `load scenario "${match.route.name}" (trigger ${match.trigger})`;
    const loaded = await local(loadScenario.executeWithOptions({ summary }, [{ botId, scenarioId: match.route.scenarioId, withRoutes: true }]));
    keepRoutes(loaded);
    if (!loaded || !routes.list.some((route) => route.scenarioId === loaded.id)) return null;
    return { loaded, trigger: match.trigger, kind: match.kind };
  };

  /** Read as the engine reads it (cut first), so the workflow and the engine cannot disagree. */
  const commandIn = (userInput: UserInput) => recognizeCommand(cutInput(userInput));

  /** What `/help` and `/reset` mean in this run: dialogs recorded before keep the old meaning on replay. */
  const commandRules = (userInput: UserInput): CommandRules => {
    const command = commandIn(userInput);
    return (command === 'help' || command === 'reset') && !patched(COMMANDS_AS_THE_SPEC_SAYS) ? 'before-spec' : 'spec';
  };

  /** Whether this message begins a new conversation: on a finished dialog (except `/help`), or `/start` (and `/reset`). */
  const beginsConversation = (userInput: UserInput, rules: CommandRules): boolean => {
    const command = commandIn(userInput);
    if (command === 'help' && rules === 'spec') return false;
    if (state.status !== 'active' && state.status !== 'handoff') return true;
    if (state.currentStep === null) return true;
    if (!scenario) return false;
    return command === 'start' || (command === 'reset' && rules === 'spec');
  };

  const showDetails = () => setCurrentDetails(`status **${state.status}** · step \`${state.currentStep ?? '-'}\` · revision ${revision}`);

  /**
   * One turn: runs the engine on an input (if any) and carries out what it asks, in order; then
   * records the turn. `leading` events are facts the workflow itself knows (a new conversation, an
   * operator's change, a timeout) and come first in the record.
   */
  const runTurn = async (
    engineInput: EngineInput | null,
    options: {
      incoming?: { message: IncomingMessage; receivedAt: string };
      leading?: RecordedEvent[];
      systemMessage?: RecordTurnInput['systemMessage'];
      change?: () => void;
    } = {},
  ) => {
    turn += 1;
    const turnKey = `${info.firstExecutionRunId}:${turn}`;
    const events: RecordedEvent[] = [...(options.leading ?? [])];
    const before = { status: state.status, step: state.currentStep };
    options.change?.();
    let sends = 0;
    // Replies and the record leave in one activity at the end of the turn (one round trip instead
    // of one per reply plus a local activity); histories from before kept their own commands.
    const oneActivityPerTurn = hasChange('one-activity-per-turn');
    const outbox: SendMessageInput[] = [];
    const describe = (replies: SendMessageInput[], record?: unknown) =>
      `deliver ${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}${record ? ` and record turn ${turn}: ${before.step ?? '-'} → ${state.currentStep ?? '-'} (${state.status})` : ''}`;
    const deliver = async (replies: SendMessageInput[], record?: () => RecordTurnInput) => {
      if (replies.length === 0 && !record) return;
      let resume: SendCheckpoint | undefined;
      // Media can take long to upload: those turns go to the activity at once.
      if (hasChange('local-delivery-first') && replies.every((reply) => !reply.message.media?.length) && localTurnsInTask() < LOCAL_TURNS_PER_TASK) {
        countLocalTurn();
        try {
          const attempt = await local(deliverTurnLocally.executeWithOptions({ summary: describe(replies, record) }, [{ sends: replies, record: record?.(), handOverAfterMs: HAND_OVER_AFTER_MS }]));
          events.push(...attempt.failed);
          if (!attempt.unfinished) return;
          const { send, ...stopped } = attempt.unfinished;
          replies = replies.slice(send);
          resume = stopped;
        } catch (error) {
          if (error instanceof TaskTakenOver) throw error;
          // The local attempt failed as a whole: the activity starts over, and skips the replies
          // already delivered by their transcript rows.
        }
      }
      try {
        const { failed } = await outsideTask(deliverTurn.executeWithOptions({ summary: describe(replies, record) }, [{ sends: replies, record: record?.(), resume }]));
        events.push(...failed);
      } catch (error) {
        // Out of retries (a platform down for the whole schedule-to-close): the turn is still recorded.
        for (const reply of replies) events.push(sendFailed(reply.step, error));
        if (record) await outsideTask(deliverTurn.executeWithOptions({ summary: `record turn ${turn}` }, [{ sends: [], record: record() }]));
      }
    };

    if (engineInput && !scenario) {
      events.push({ kind: 'error', step: null, at: nowIso(), data: { code: 'no_active_scenario', message: 'The bot has no active scenario.' } });
    } else if (engineInput && scenario) {
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
            const send: SendMessageInput = { botId, platform, chatId, message: effect.message, step: effect.step, dedupeKey: `${turnKey}:send:${sends}`, replyContext };
            if (oneActivityPerTurn) {
              outbox.push(send);
              continue;
            }
            try {
              await sendMessage.executeWithOptions({ summary: `send reply of step "${effect.step ?? '-'}"` }, [send]);
            } catch (error) {
              events.push(sendFailed(effect.step, error));
            }
          } else if (effect.type === 'http_request') {
            // Replies the engine produced before the call go out before it is made.
            await deliver(outbox.splice(0));
            try {
              const value = await outsideTask(httpRequest.executeWithOptions({ summary: `http_request of step "${effect.step}"` }, [effect.request]));
              next = { type: 'action_result', step: effect.step, ok: true, value };
            } catch (error) {
              next = { type: 'action_result', step: effect.step, ok: false, error: failureMessage(error), code: requestFailureCode(error) };
            }
          } else if (effect.type === 'handoff') {
            events.push({ kind: 'handoff', step: effect.step, at: nowIso(), data: { reason: effect.reason ?? null } });
          }
        }
      }
    }

    revision += 1;
    if (options.incoming) lastInteractionAt = options.incoming.receivedAt;
    const changed = before.status !== state.status || before.step !== state.currentStep;
    if (changed) {
      events.push({
        kind: 'state_changed',
        step: state.currentStep,
        at: nowIso(),
        data: { from_status: before.status, to_status: state.status, from_step: before.step, to_step: state.currentStep },
      });
      upsertSearchAttributes([
        { key: searchAttributes.dialogStatus, value: state.status },
        { key: searchAttributes.currentStep, value: state.currentStep ?? '' },
      ]);
    }
    showDetails();
    const incoming = options.incoming;
    const record = (): RecordTurnInput => ({
      key: { bot_id: botId, platform, chat_id: chatId },
      turnKey,
      scenarioId: scenario?.id ?? null,
      incoming: incoming ? { messageId: incoming.message.messageId, input: incoming.message.input, step: before.step, at: incoming.receivedAt } : undefined,
      systemMessage: options.systemMessage,
      events: [...events],
      projection: snapshot(),
    });
    if (oneActivityPerTurn) await deliver(outbox.splice(0), record);
    else await local(recordTurn.executeWithOptions({ summary: `record turn ${turn}: ${before.step ?? '-'} → ${state.currentStep ?? '-'} (${state.status})` }, [record()]));
  };

  /**
   * A file the user sent is stored through the media pipeline before the engine sees it, so the
   * dialog keeps our copy (media id, URL), not the platform's short-lived file id. When storing
   * fails the dialog goes on with the platform's id and an error event.
   */
  const withStoredMedia = async (message: IncomingMessage): Promise<{ message: IncomingMessage; error?: string }> => {
    if (message.input.kind !== 'media' || !hasChange('store-incoming-media')) return { message };
    try {
      const media = await outsideTask(storeIncomingMedia({ botId, platform, media: message.input.media }));
      return { message: media ? { ...message, input: { ...message.input, media } } : message };
    } catch (error) {
      return { message, error: failureMessage(error) };
    }
  };

  const conversationStarted = (reason: string): RecordedEvent => ({
    kind: 'dialog_started',
    step: null,
    at: nowIso(),
    data: { reason, scenario_id: scenario?.id ?? null, scenario_version: scenario?.version ?? null },
  });

  /**
   * Starts the scenario a trigger named, fresh, in this dialog: the trigger message is not an answer.
   * The turn's events (and the transcript) carry the new scenario's id.
   */
  const startTriggered = async (
    triggered: NonNullable<Awaited<ReturnType<typeof triggeredScenario>>>,
    incoming: { message: IncomingMessage; receivedAt: string },
    storeError?: string,
  ) => {
    const from = revision > 0 ? scenario : null;
    const fromStep = state.currentStep;
    scenario = triggered.loaded;
    startedAt = incoming.receivedAt;
    const switched: RecordedEvent = {
      kind: 'scenario_switched',
      step: null,
      at: nowIso(),
      data: {
        trigger: triggered.trigger,
        trigger_kind: triggered.kind,
        from_scenario_id: from?.id ?? null,
        from_scenario_version: from?.version ?? null,
        from_step: from ? fromStep : null,
        to_scenario_id: scenario.id,
        to_scenario_version: scenario.version,
      },
    };
    const leading = [switched, conversationStarted('trigger')];
    if (storeError) leading.push({ kind: 'error', step: fromStep, at: nowIso(), data: { code: 'media_store_failed', message: storeError } });
    await runTurn({ type: 'start' }, { incoming, leading });
  };

  /** The `system` history row of a reset: who reset the dialog, and to where. */
  const resetMessage = (by: 'user' | 'operator', to: ResetRequest['to_checkpoint']): RecordTurnInput['systemMessage'] => {
    const where = to === false ? 'the beginning' : to === true ? 'the last checkpoint' : `checkpoint "${to}"`;
    const who = by === 'user' ? 'The user' : 'An operator';
    return { text: `${who} reset the dialog to ${where}.`, payload: { reset_by: by, to_checkpoint: to }, step: state.currentStep, at: nowIso() };
  };

  const process = async (item: WorkItem) => {
    if (item.kind === 'message') {
      replyContext = item.message.replyContext ?? replyContext;
      // The profile as the platform last described the user; plain state, so no command changes.
      if (item.message.user) state = { ...state, user: item.message.user };
      const stored = await withStoredMedia(item.message);
      if (!scenario) await ensureScenario(false);
      const triggered = runRoutesTriggers ? await triggeredScenario(stored.message.input) : null;
      if (triggered) {
        await startTriggered(triggered, { ...item, message: stored.message }, stored.error);
        return;
      }
      const commands = commandRules(item.message.input);
      const begins = beginsConversation(item.message.input, commands);
      // A new conversation runs on the bot's current scenario; a running one keeps its version.
      if (begins && revision > 0) await ensureScenario(true);
      if (begins) startedAt = item.receivedAt;
      const leading = begins && scenario ? [conversationStarted(revision > 0 ? 'restart' : 'first_message')] : [];
      if (stored.error) leading.push({ kind: 'error', step: state.currentStep, at: nowIso(), data: { code: 'media_store_failed', message: stored.error } });
      const userReset = commands === 'spec' && commandIn(item.message.input) === 'reset' && scenario !== null;
      const systemMessage = userReset ? resetMessage('user', false) : undefined;
      await runTurn({ type: 'message', input: stored.message.input, commands }, { incoming: { ...item, message: stored.message }, leading, systemMessage });
      return;
    }
    try {
      if (item.kind === 'update') {
        checkUpdate(item.request);
        const data: JsonValue = { current_step: item.request.current_step ?? null, variables: Object.keys(item.request.collected_data ?? {}) };
        lastInteractionAt = nowIso();
        await runTurn(
          {
            type: 'set_state',
            currentStep: item.request.current_step,
            collectedData: item.request.collected_data,
            replaceData: item.request.replace_data !== false,
          },
          { leading: [{ kind: 'operator_update', step: state.currentStep, at: nowIso(), data }] },
        );
      } else if (item.kind === 'reset') {
        const fresh = !item.request.to_checkpoint;
        await ensureScenario(fresh);
        checkReset(item.request);
        if (fresh) startedAt = nowIso();
        lastInteractionAt = nowIso();
        const leading: RecordedEvent[] = [{ kind: 'operator_reset', step: state.currentStep, at: nowIso(), data: { to_checkpoint: item.request.to_checkpoint } }];
        if (fresh && scenario) leading.push(conversationStarted('operator_reset'));
        await runTurn({ type: 'reset', toCheckpoint: item.request.to_checkpoint }, { leading, systemMessage: resetMessage('operator', item.request.to_checkpoint) });
      } else {
        const data = { reason: item.request.reason, merged_into: item.request.merged_into ?? null };
        await runTurn(null, {
          leading: [{ kind: 'dialog_closed', step: state.currentStep, at: nowIso(), data }],
          change: () => {
            state = { ...state, status: 'completed', currentStep: null, attempts: 0, reminders: 0 };
          },
        });
      }
      item.done = snapshot();
    } catch (error) {
      item.error = error instanceof Error ? error : new Error(String(error));
    }
  };

  /**
   * Local turns since the workflow last waited on something outside its workflow task: an
   * activity, a timer or the next message. Such a wait ends the task, and local deliveries are all
   * a task holds. The count is the workflow's own, so a replay computes it the same way. Runs begun
   * before `LOCAL_TURNS_COUNTED_BY_THE_WORKFLOW` took it from the history length at the task's start,
   * which is not replay-safe: when the server fails a task while its local activities run (it does
   * past 100 buffered signals), the SDK goes on in the same run with the next task, and the length
   * changes under turns that a replay sees in one task.
   */
  let localTurns = { atLength: 0, count: 0 };
  const localTurnsInTask = () => (runCountsLocalTurns || localTurns.atLength === workflowInfo().historyLength ? localTurns.count : 0);
  const countLocalTurn = () => {
    localTurns = { atLength: workflowInfo().historyLength, count: localTurnsInTask() + 1 };
  };
  /** Waits on what ends the workflow task. */
  const outsideTask = async <T>(wait: Promise<T>): Promise<T> => {
    try {
      return await wait;
    } finally {
      if (runCountsLocalTurns) localTurns.count = 0;
    }
  };
  const historyIsLong = () => {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    const pending = EVENTS_PER_LOCAL_TURN * localTurnsInTask();
    return continueAsNewSuggested || historyLength + pending > historyLimit;
  };
  /**
   * Whether the run stops taking queued work to continue as new. Runs that count their local turns
   * ask the history length only once the queue is empty: between turns it can differ on replay for
   * the same reason as above (the server's flush brings the rest of a burst in the middle of the
   * task, where a replay has it from the task's start). Between turns they go by their own count of
   * turns, each at least a signal and a marker, so a queue that never empties still moves to a new
   * run; and by the server's suggestion, which comes only with thousands of events, before the
   * server's hard limit would end the dialog.
   */
  const firstTurnOfRun = turn;
  const mustMoveOnBetweenTurns = () =>
    runCountsLocalTurns ? workflowInfo().continueAsNewSuggested || (turn - firstTurnOfRun) * MIN_EVENTS_PER_TURN > historyLimit : historyIsLong();

  // The API sets these when it starts a dialog; a dialog started any other way gets them here.
  const given = info.typedSearchAttributes;
  const missing = [
    { key: searchAttributes.botId, value: botId },
    { key: searchAttributes.platform, value: platform as string },
    { key: searchAttributes.dialogStatus, value: state.status as string },
    { key: searchAttributes.currentStep, value: state.currentStep ?? '' },
  ].filter((pair) => given.get(pair.key) === undefined);
  if (missing.length > 0) upsertSearchAttributes(missing);

  /**
   * Whether a timeout that came due may act. An inactive bot's dialogs send nothing: the dialog
   * waits for the bot's activation or the next message, and the loop then arms the timer afresh,
   * so the reminders due meanwhile are not sent in a burst later.
   */
  const botAllowsTimeout = async (): Promise<boolean> => {
    if (!patched(TIMEOUTS_HELD_WHILE_BOT_INACTIVE)) return true;
    // Counted before asking: an activation between the answer and the wait still wakes it.
    const activationsBefore = activations;
    if (await local(botIsActive.executeWithOptions({ summary: 'is the bot active?' }, [{ botId }]))) return true;
    setCurrentDetails(`bot inactive: timeout on "${state.currentStep ?? '-'}" held until it is activated again`);
    await outsideTask(condition(() => queue.length > 0 || activations > activationsBefore));
    showDetails();
    return false;
  };

  await ensureScenario(false);
  showDetails();

  for (;;) {
    const policy = scenario && queue.length === 0 ? timeoutPolicy(scenario.data, state) : null;
    if (policy) {
      // A durable timer: it survives worker and server restarts, and any queued work cancels it.
      const summary = `timeout: ${policy.action}${policy.action === 'remind' ? ` ${state.reminders + 1}/${policy.maxReminders}` : ''} after ${describeDuration(policy.afterMs)} on "${state.currentStep}"`;
      const woke = await outsideTask(condition(() => queue.length > 0, policy.afterMs, { summary }));
      if (!woke && (await botAllowsTimeout())) {
        const action = policy.action === 'remind' && state.reminders >= policy.maxReminders ? policy.then : policy.action;
        await runTurn({ type: 'timeout' }, { leading: [{ kind: 'timeout_fired', step: state.currentStep, at: nowIso(), data: { action, after_ms: policy.afterMs } }] });
      }
    } else {
      await outsideTask(condition(() => queue.length > 0));
    }
    while (queue.length > 0 && !mustMoveOnBetweenTurns()) await process(queue.shift() as WorkItem);

    if (mustMoveOnBetweenTurns() || historyIsLong()) {
      // Operator requests are update handlers waiting for their reply: they run in this run, and so do
      // the messages queued before them (order is kept). Later messages move to the next run.
      const lastWaiting = () => {
        for (let i = queue.length - 1; i >= 0; i--) if (queue[i].kind !== 'message') return i;
        return -1;
      };
      for (let last = lastWaiting(); last >= 0; last = lastWaiting()) {
        for (let i = 0; i <= last; i++) await process(queue.shift() as WorkItem);
      }
      await condition(() => allHandlersFinished());
      if (queue.some((item) => item.kind !== 'message')) continue;
      const pending = queue.flatMap((item) => (item.kind === 'message' ? [item.message] : []));
      const next: CarriedState = {
        state,
        scenarioId: scenario?.id ?? null,
        revision,
        turn,
        seenIds,
        pending,
        startedAt,
        lastInteractionAt,
        replyContext,
      };
      await continueAsNew<typeof dialogWorkflow>({ botId, platform, chatId, carried: next, historyLimit: input.historyLimit });
    }
  }
}
