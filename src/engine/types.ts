/**
 * The scenario engine's public types. The engine is pure: workflow code imports it, so nothing here
 * (or anything it imports) may touch I/O, the clock, randomness or Node builtins.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type CollectedData = Record<string, JsonValue>;

export interface Button {
  text: string;
  value: string;
}

export interface MediaItem {
  type: 'image' | 'video' | 'audio' | 'document';
  media_id?: string;
  url?: string;
  caption?: string;
}

/** How a message's text reads: as typed (`plain`), or in the markdown subset of docs/scenario-format.md. */
export type MessageFormat = 'plain' | 'markdown';

/** One outgoing message, platform-neutral, with templates already rendered. */
export interface OutgoingMessage {
  text?: string;
  /** Set only for `markdown`: each platform adapter renders the text in its own markup. */
  format?: MessageFormat;
  media?: MediaItem[];
  buttons?: Button[];
  /** The step's WhatsApp template, parameters rendered: sent instead of the message outside the 24-hour window (docs/platforms.md). */
  whatsapp_template?: WhatsAppTemplate;
}

/** A user message in platform-neutral form (see src/platforms/types.ts for the transport fields). */
export type UserInput =
  | { kind: 'text'; text: string }
  | { kind: 'button'; value: string; text?: string }
  | { kind: 'command'; command: string; args?: string }
  | { kind: 'media'; media: { type: MediaItem['type']; media_id?: string; url?: string; mime?: string; caption?: string; size?: number } }
  | { kind: 'location'; latitude: number; longitude: number }
  | { kind: 'contact'; phone: string; name?: string };

export type DialogStatus = 'active' | 'completed' | 'abandoned' | 'handoff' | 'failed';

/**
 * The chat user as their platform last described them (CONTRACT §2 Dialogs); templates read it as
 * the reserved root `user`. Only the fields the platform gives are present.
 */
export interface ChatUser {
  id: string;
  name?: string;
  username?: string;
  /** The language the user's app is set to, as the platform says it (`en`, `pt-BR`). */
  language?: string;
}

/** Everything the engine needs to continue a dialog; plain JSON so it can cross continue-as-new. */
export interface DialogState {
  status: DialogStatus;
  /** Step the dialog waits on (or is about to run); null once completed. */
  currentStep: string | null;
  collectedData: CollectedData;
  /** Last step marked `checkpoint: true` that the dialog entered. */
  checkpointStep: string | null;
  /** Invalid answers given on the current step. */
  attempts: number;
  /**
   * Reminders sent since the last user message (timeouts). Set above the policy's maxReminders once
   * a timeout's final reset/goto has run, so no further timeout fires until the user writes.
   */
  reminders: number;
  /** Who wrote last; kept from every incoming message, never part of the collected data. */
  user?: ChatUser;
}

/** What the engine asks the workflow to do, in order. */
export type Effect =
  | { type: 'send'; step: string | null; message: OutgoingMessage }
  | {
      /** Always the last effect of a result: run it, then call `advance` with an `action_result`. */
      type: 'http_request';
      step: string;
      request: HttpRequestSpec;
    }
  | { type: 'handoff'; step: string; reason?: string }
  | { type: 'event'; event: EngineEvent };

/** `http_request_refused`: the egress policy refused the call (docs/scenario-format.md); the default is `http_request_failed`. */
export type HttpRequestErrorCode = 'http_request_failed' | 'http_request_refused';

export interface HttpRequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: JsonValue;
  timeout_ms?: number;
}

/** Facts for the transcript and analytics; the workflow records them through an activity. */
export type EngineEvent =
  | { kind: 'step_entered'; step: string }
  | { kind: 'step_completed'; step: string }
  | { kind: 'variable_set'; variable: string; value: JsonValue; step: string }
  | { kind: 'input_invalid'; step: string; error: string; attempts: number }
  | { kind: 'condition_evaluated'; step: string; condition: string; result: boolean }
  | { kind: 'auto_transition'; from: string; to: string }
  | { kind: 'command'; command: string }
  | { kind: 'dialog_completed'; step: string | null }
  | { kind: 'dialog_abandoned'; step: string | null }
  | { kind: 'reminder_sent'; step: string | null; count: number }
  /** A user message the engine does not answer: the dialog is with a human, or waits on an action. */
  | { kind: 'message_ignored'; step: string | null; reason: 'handoff' | 'awaiting_action' }
  | { kind: 'error'; step: string | null; code: string; message: string };

/** What happens to the dialog. */
export type EngineInput =
  | { type: 'start' }
  | { type: 'message'; input: UserInput }
  | { type: 'action_result'; step: string; ok: true; value: JsonValue }
  | { type: 'action_result'; step: string; ok: false; error: string; code?: HttpRequestErrorCode }
  | { type: 'timeout' }
  /** `collectedData` is merged into the data (a `null` value removes its key) unless `replaceData`. */
  | { type: 'set_state'; currentStep?: string; collectedData?: CollectedData; replaceData?: boolean }
  /** An operator's reset: `false` to the beginning (fresh data), `true` to the last checkpoint, or to the named checkpoint step. */
  | { type: 'reset'; toCheckpoint: boolean | string };

export interface AdvanceResult {
  state: DialogState;
  effects: Effect[];
}

export interface TimeoutPolicy {
  afterMs: number;
  action: 'remind' | 'reset' | 'abandon' | 'goto';
  message?: OutgoingMessage;
  maxReminders: number;
  /** After the last reminder: what to do on the next expiry. */
  then: 'abandon' | 'reset' | 'goto' | 'none';
  step?: string;
}

/** One problem found by validation, positioned in the original JSON text when there is one. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: string;
  /** JSON pointer, e.g. "/steps/ask_guests/next_step". */
  path: string;
  line?: number;
  column?: number;
  message: string;
  suggestion?: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** The parsed scenario when the text was valid JSON of the right shape. */
  scenario?: Scenario;
}

export interface ValidationContext {
  /** Media ids that exist for the bot; when given, unknown `media_id`s are errors. */
  knownMediaIds?: ReadonlySet<string>;
}

// The scenario document itself (CONTRACT.md §3). The zod schema in schema.ts is its source of truth;
// these interfaces mirror it for readers.
export interface ExpectedInput {
  type: 'text' | 'number' | 'button' | 'date' | 'time' | 'email' | 'phone' | 'media' | 'any';
  variable?: string;
  required?: boolean;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  /** Numbers bound `number` answers; "HH:MM" strings bound `time` answers. */
  min_value?: number | string;
  max_value?: number | string;
  error_message?: string;
  max_attempts?: number;
  /** ISO 3166 country (e.g. "GB") for phone numbers typed without the international prefix. */
  default_country?: string;
}

export interface ConditionalNext {
  condition: string;
  next_step: string;
}

export interface MessageContent {
  text?: string;
  /** Default `plain`; with `markdown`, values of placeholders are escaped so they show literally. */
  format?: MessageFormat;
  media?: MediaItem[];
}

export interface TimeoutSetting {
  after: string;
  action: 'remind' | 'reset' | 'abandon' | 'goto';
  message?: string;
  max_reminders?: number;
  then?: 'abandon' | 'reset' | 'goto' | 'none';
  step?: string;
}

export type Action = { type: 'set_variable'; variable: string; value: JsonValue } | HttpRequestAction | { type: 'handoff'; reason?: string } | { type: 'end' };

export interface HttpRequestAction {
  type: 'http_request';
  method?: HttpRequestSpec['method'];
  url: string;
  headers?: Record<string, string>;
  body?: JsonValue;
  variable: string;
  timeout_ms?: number;
  on_error_step?: string;
}

/** An approved WhatsApp template message: its name, its language, its body parameters in order. */
export interface WhatsAppTemplate {
  name: string;
  /** `en`, `en_US`: the language the template was approved in. */
  language: string;
  /** Templates in the scenario; rendered in an `OutgoingMessage`. */
  parameters?: string[];
}

export interface StepBase {
  id: string;
  message?: MessageContent;
  buttons?: Button[];
  expected_input?: ExpectedInput;
  conditions?: ConditionalNext[];
  next_step?: string | null;
  checkpoint?: boolean;
  timeout?: TimeoutSetting;
  whatsapp_template?: WhatsAppTemplate;
}

export interface MessageStep extends StepBase {
  type: 'message';
}

export interface ConditionalMessageStep extends StepBase {
  type: 'conditional_message';
  variants: { condition: string; message: MessageContent; buttons?: Button[] }[];
  default_message?: MessageContent;
}

export interface ActionStep extends StepBase {
  type: 'action';
  action: Action;
}

export type Step = MessageStep | ConditionalMessageStep | ActionStep;

/** Messages that start this scenario in any dialog of the bot while it is active (triggers.ts). */
export interface ScenarioTriggers {
  /** `/menu`: matches the command, whatever its case or `@botname` suffix. */
  commands?: string[];
  /** `menu`, `lunch menu`: match as whole words of a text, whatever their case. */
  keywords?: string[];
}

export interface Scenario {
  version: string;
  name?: string;
  description?: string;
  /** The author's own notes: stored and exported, never read by the engine. */
  metadata?: Record<string, JsonValue>;
  start_step: string;
  variables?: Record<string, { type: 'string' | 'number' | 'boolean' | 'object' | 'array' | 'date'; default?: JsonValue; description?: string }>;
  settings?: {
    max_auto_transitions?: number;
    help_message?: string;
    timeout?: TimeoutSetting;
    triggers?: ScenarioTriggers;
  };
  steps: Record<string, Step>;
}
