/**
 * The contract between the dialog workflow and its activities: what each activity takes and gives.
 * Both sides import it; workflow code imports its types only. Types only here, so importing it can
 * have no side effect inside the workflow sandbox.
 */
import type { ScenarioRoute } from '../db/scenarios';
import type { ChatUser, CollectedData, DialogStatus, HttpRequestSpec, JsonValue, OutgoingMessage, Scenario, UserInput } from '../engine/types';
import type { DialogPlatform, PlatformName } from '../platforms/types';

export type { ScenarioRoute };

/** The dialog as the API shows it (CONTRACT.md §2 Dialogs); its `dialogs` row stores the same. */
export interface DialogSnapshot {
  bot_id: string;
  platform: DialogPlatform;
  chat_id: string;
  status: DialogStatus;
  current_step: string | null;
  collected_data: CollectedData;
  scenario_id: string | null;
  scenario_version: number | null;
  version: number;
  started_at: string;
  last_interaction_at: string;
  workflow_id: string;
  /** The chat user as the platform last described them; null until a message says. */
  user: ChatUser | null;
}

/** One stored scenario version (immutable). */
export interface LoadedScenario {
  id: string;
  /** The scenario's name; its versions share it. */
  name: string;
  version: number;
  data: Scenario;
}

/** A scenario version with the bot's trigger table as it was when the version was loaded. */
export type ScenarioWithRoutes = LoadedScenario & { routes: ScenarioRoute[] };

/** A fact of a turn, stored as a `dialog_events` row. */
export interface RecordedEvent {
  kind: string;
  step: string | null;
  at: string;
  data?: JsonValue;
}

/** The chat a turn's replies go to. */
export interface ChatAddress {
  botId: string;
  platform: DialogPlatform;
  chatId: string;
  /** What a reply needs beyond the chat id (Discord interaction token, Slack thread). */
  replyContext?: Record<string, string>;
  /** When the user last wrote (workflow time), where Meta's 24-hour window counts from; unknown in runs begun before it was kept. */
  lastUserMessageAt?: string;
  /** The dialog is with a person (status `handoff`): Messenger lets their replies through for 7 days. */
  handoff?: boolean;
}

export interface Reply {
  message: OutgoingMessage;
  step: string | null;
  /** Unique per reply of a dialog: a reply whose key is in the transcript is not sent again. */
  dedupeKey: string;
}

/** What a turn leaves in the database: the user's message, the engine's events, the new state. */
export interface TurnRecord {
  /** `${firstExecutionRunId}:${turn}`: unique per turn of a dialog, the idempotency key of its rows. */
  turnKey: string;
  scenarioId: string | null;
  incoming?: {
    messageId: string;
    input: UserInput;
    step: string | null;
    at: string;
    /** Why a file the user sent could not be stored; the transcript keeps it beside the input. */
    storeError?: string;
  };
  /** A `system` history row: what happened to the dialog that no message says (a reset). */
  systemMessage?: { text: string; payload: JsonValue; step: string | null; at: string };
  events: RecordedEvent[];
  projection: DialogSnapshot;
}

/**
 * How far the sending of one reply got: the platform calls (parts) already made. A retry, or the
 * activity that takes over from a local attempt, resumes after them.
 */
export interface PartsSent {
  partsSent: number;
  messageIds: string[];
  mediaFileIds: (string | null)[];
}

/** A turn's replies, in order, then its record (absent when the turn goes on after the replies). */
export interface TurnDelivery {
  chat: ChatAddress;
  replies: Reply[];
  record?: TurnRecord;
  /** Where an earlier attempt stopped: the first reply resumes after these parts. */
  resume?: PartsSent;
  /**
   * Workflow time of the hand-over. The 24-hour window is judged at the later of it and the
   * activity's clock: equal in production, and the workflow's is ahead where tests skip time.
   */
  at?: string;
}

export interface Delivered {
  /** The `send_failed` and `send_skipped` events of replies the platform refused for good or that could not go (also in the record). */
  failed: RecordedEvent[];
}

export interface DeliveredOrHandedOver extends Delivered {
  /** Handed over: the reply at `reply` (and those after it) and the record are still to do. */
  unfinished?: PartsSent & { reply: number };
}

export type IncomingMedia = Extract<UserInput, { kind: 'media' }>['media'];

/** Our stored copy of a file a user sent, with the platform's own name of it kept aside. */
export type StoredIncomingMedia = IncomingMedia & ({ platform_file_id: string } | { platform_url: string });

/** The failure type of an `http_request` the egress policy refused. */
export type HttpRequestRefused = 'HttpRequestRefused';

/** Every activity of a dialog. Each one is safe to retry. */
export interface DialogActivities {
  /** The given version, or the bot's default one; null when there is none. With the bot's trigger table. */
  loadScenario(input: { botId: string; scenarioId?: string }): Promise<ScenarioWithRoutes | null>;
  /** The triggers of the bot's active scenarios. */
  loadTriggers(input: { botId: string }): Promise<ScenarioRoute[]>;
  /** Whether the bot is active (a deleted bot is not). */
  botIsActive(input: { botId: string }): Promise<boolean>;
  /** Delivers the whole turn, retrying what fails for now (a retried activity). */
  deliverTurn(delivery: TurnDelivery): Promise<Delivered>;
  /**
   * Delivers what it can without retrying (a local attempt): at the first failure that may pass, or
   * once it has taken too long, it stops and says where, for `deliverTurn` to go on from there.
   */
  deliverTurnOrHandOver(delivery: TurnDelivery): Promise<DeliveredOrHandedOver>;
  /** A file a user sent, fetched from the platform and stored; null when the input names no file. */
  storeIncomingMedia(input: { botId: string; platform: PlatformName; media: IncomingMedia }): Promise<StoredIncomingMedia | null>;
  /** A scenario's `http_request` step; fails with type `HttpRequestRefused` when the egress policy refuses it. */
  httpRequest(request: HttpRequestSpec): Promise<JsonValue>;
}

/** The activities of `mediaProcessingWorkflow`. */
export interface MediaProcessingActivities {
  /** Thumbnail, metadata and platform variants of an uploaded file. */
  processMedia(input: { mediaId: string }): Promise<void>;
  markMediaFailed(input: { mediaId: string; reason: string }): Promise<void>;
}
