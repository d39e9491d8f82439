/** A user's message: what it starts (a conversation, a triggered scenario) and the turn that answers it. */
import type { RecordedEvent } from '../../src/dialog/contract';
import { recognizeCommand } from '../../src/engine/advance';
import { cutInput } from '../../src/engine/bounds';
import type { UserInput } from '../../src/engine/types';
import { CONSOLE_PLATFORM, type IncomingMessage } from '../../src/platforms/types';
import { failureMessage, storeIncomingMedia } from './activities';
import type { MessageItem } from './queue';
import { ensureScenario, namedScenario, type Triggered, triggeredScenario } from './scenario';
import { conversationStarted, type Dialog, nowIso, resetMessage } from './state';
import type { WorkflowTask } from './task';
import { runTurn, type TurnOptions } from './turn';

type Incoming = NonNullable<TurnOptions['incoming']>;

/**
 * A file the user sent is stored through the media pipeline before the engine sees it, so the
 * dialog keeps our copy (media id, URL), not the platform's short-lived file id. When storing
 * fails the dialog goes on with the platform's id, and the turn records why.
 */
async function withStoredMedia(dialog: Dialog, task: WorkflowTask, item: MessageItem): Promise<Incoming> {
  const { message, receivedAt } = item;
  // The console sends text and buttons only; it has no files to fetch.
  if (message.input.kind !== 'media' || dialog.platform === CONSOLE_PLATFORM) return { message, receivedAt };
  try {
    const media = await task.outside(storeIncomingMedia({ botId: dialog.botId, platform: dialog.platform, media: message.input.media }));
    return { message: media ? { ...message, input: { ...message.input, media } } : message, receivedAt };
  } catch (error) {
    return { message, receivedAt, storeError: failureMessage(error) };
  }
}

const storeFailed = (step: string | null, reason: string): RecordedEvent => ({
  kind: 'error',
  step,
  at: nowIso(),
  data: { code: 'media_store_failed', message: reason },
});

/** Read as the engine reads it (cut first), so the workflow and the engine cannot disagree. */
const commandIn = (input: UserInput) => recognizeCommand(cutInput(input));

/** Whether this message begins a new conversation: on a finished dialog (except `/help`), or `/start` and `/reset`. */
function beginsConversation(dialog: Dialog, input: UserInput): boolean {
  const command = commandIn(input);
  if (command === 'help') return false;
  if (dialog.state.status !== 'active' && dialog.state.status !== 'handoff') return true;
  if (dialog.state.currentStep === null) return true;
  if (!dialog.scenario) return false;
  return command === 'start' || command === 'reset';
}

/** Starts the scenario a trigger named, fresh: the trigger message is not an answer. */
async function startTriggered(dialog: Dialog, task: WorkflowTask, triggered: Triggered, incoming: Incoming): Promise<void> {
  const from = dialog.revision > 0 ? dialog.scenario : null;
  const fromStep = dialog.state.currentStep;
  dialog.scenario = triggered.scenario;
  dialog.startedAt = incoming.receivedAt;
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
      to_scenario_id: triggered.scenario.id,
      to_scenario_version: triggered.scenario.version,
    },
  };
  const leading = [switched, conversationStarted(dialog, 'trigger')];
  if (incoming.storeError) leading.push(storeFailed(fromStep, incoming.storeError));
  await runTurn(dialog, task, { type: 'start' }, { incoming, leading });
}

export async function takeMessage(dialog: Dialog, task: WorkflowTask, item: MessageItem): Promise<void> {
  const message: IncomingMessage = item.message;
  dialog.lastUserMessageAt = item.receivedAt;
  dialog.replyContext = message.replyContext ?? dialog.replyContext;
  // The profile as the platform last described the user.
  if (message.user) dialog.state = { ...dialog.state, user: message.user };
  const incoming = await withStoredMedia(dialog, task, item);
  if (!dialog.scenario) await ensureScenario(dialog, false);
  const begins = beginsConversation(dialog, message.input);
  // An operator trying a version on the console: the conversation runs on it, whatever triggers match.
  const named = begins ? await namedScenario(dialog, message) : null;
  const triggered = named ? null : await triggeredScenario(dialog, incoming.message.input);
  if (triggered) return startTriggered(dialog, task, triggered, incoming);

  // A new conversation runs on the bot's current scenario; a running one keeps its version.
  if (named) dialog.scenario = named;
  else if (begins && dialog.revision > 0) await ensureScenario(dialog, true);
  if (begins) dialog.startedAt = item.receivedAt;
  const leading = begins && dialog.scenario ? [conversationStarted(dialog, dialog.revision > 0 ? 'restart' : 'first_message')] : [];
  if (incoming.storeError) leading.push(storeFailed(dialog.state.currentStep, incoming.storeError));
  const userReset = commandIn(message.input) === 'reset' && dialog.scenario !== null;
  const systemMessage = userReset ? resetMessage(dialog, 'user', false) : undefined;
  await runTurn(dialog, task, { type: 'message', input: incoming.message.input }, { incoming, leading, systemMessage });
}
