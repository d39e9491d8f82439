import type { z } from 'zod';
import type { ChatUser, OutgoingMessage, UserInput } from '../engine/types';
import type { OutsideWindow } from './window';

/** The platforms a bot connects to, with credentials and a webhook. */
export const PLATFORMS = ['telegram', 'whatsapp', 'messenger', 'slack', 'discord'] as const;
export type PlatformName = (typeof PLATFORMS)[number];

/**
 * The operator console's test chat: built in, never connected (no credentials, no webhook). Its
 * dialogs are like any other; a reply goes nowhere but the dialog's history, where the page reads it.
 */
export const CONSOLE_PLATFORM = 'console';
/** Where a dialog can run: the connectable platforms and the console. */
export const DIALOG_PLATFORMS = [...PLATFORMS, CONSOLE_PLATFORM] as const;
export type DialogPlatform = (typeof DIALOG_PLATFORMS)[number];

/** A user message after normalization: what the webhook signals into the dialog workflow. */
export interface IncomingMessage {
  platform: DialogPlatform;
  /** The conversation id on the platform (Telegram chat id, WhatsApp phone, Slack channel, ...). */
  chatId: string;
  /** The platform's own id of this event; the deduplication key (Telegram update_id, WhatsApp message id, ...). */
  messageId: string;
  /** Who wrote, with the fields the platform gives (bounded: see `chatUser`). */
  user?: ChatUser;
  input: UserInput;
  /** ISO-8601 time the platform says the message was sent, when it says. */
  sentAt?: string;
  /**
   * What a reply to this message needs beyond the chat id (Discord interaction token, Slack thread);
   * the workflow hands the latest one back to `send`.
   */
  replyContext?: Record<string, string>;
  /**
   * Console only: the scenario version (of the dialog's bot, active or a draft) a conversation this
   * message begins runs on, instead of the bot's default.
   */
  scenarioId?: string;
}

/** The raw HTTP request, exactly as received: signatures are computed over `rawBody`. */
export interface WebhookRequest {
  method: string;
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
  /** Milliseconds since epoch, for timestamp windows (Slack); injectable for tests. */
  now: number;
}

/** What to answer the platform, and the user messages to signal. */
export interface WebhookResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  messages: IncomingMessage[];
}

/** How an adapter reaches its platform: base URL from configuration, fetch injectable for tests. */
export interface PlatformContext {
  apiBase: string;
  fetch?: typeof fetch;
  /** Per-request timeout; a timed-out call is a retryable `PlatformNetworkError`. Default 15 s. */
  timeoutMs?: number;
}

export interface SendResult {
  /** Platform ids of the messages that were sent, in order. */
  messageIds: string[];
  /**
   * Per item of `message.media`, in order: the platform's id of the file it now holds, to send
   * instead of the URL next time (Telegram `file_id`); null where the item went as a link.
   * Only adapters of platforms with reusable file ids fill it.
   */
  mediaFileIds?: (string | null)[];
}

/** One platform call of a message, delivered: what `SendProgress.onPartSent` receives. */
export interface SentPart {
  /** Parts of the message delivered so far, this one included (the next attempt's `done`). */
  partsSent: number;
  /** Platform ids of the messages this call created. */
  messageIds: string[];
  /** Telegram: file ids of the media items this call carried, in order. */
  mediaFileIds?: (string | null)[];
}

/**
 * Makes a send resumable. An adapter sends one message as a fixed sequence of parts (each media item,
 * a caption sent on its own, each chunk of a split text; typing indicators are not parts), numbered
 * the same for the same message. It skips the first `done` parts and reports each part it delivers,
 * so that a retry after a failure part-way sends only what the user has not received yet.
 */
export interface SendProgress {
  done: number;
  onPartSent(part: SentPart): void;
}

export interface ConnectionInfo {
  ok: true;
  /** What the platform says about the account (bot username, page name, team, ...); no secrets. */
  info: Record<string, unknown>;
}

/**
 * What `registerWebhook` did: `registered`, the platform now calls the URL; `subscribed`, the
 * account now sends its events to the app, whose callback URL is the operator's to set (Meta without
 * an `app_id`); `manual`, these credentials give no API for it and nothing was called.
 */
export type WebhookRegistrationResult = 'registered' | 'subscribed' | 'manual';

export interface PlatformAdapter<Credentials = Record<string, string>> {
  readonly name: PlatformName;
  /** zod schema of the operator-supplied credentials (CONTRACT.md §2 Platforms). */
  readonly credentialsSchema: z.ZodType<Credentials>;
  /**
   * Verify the request's proof with the stored credentials, then normalize it. Throws
   * `WebhookAuthError` on a bad or missing proof; nothing may be started in that case.
   * `webhookSecret` is the secret this project generated when registering the webhook (Telegram).
   */
  handleWebhook(req: WebhookRequest, credentials: Credentials, webhookSecret?: string): WebhookResult;
  /**
   * Send one platform-neutral message to a chat. Throws `PlatformApiError` on platform errors. With
   * `progress`, parts below `progress.done` are not sent again and the result holds only what this
   * call sent (see `SendProgress`).
   */
  send(
    ctx: PlatformContext,
    credentials: Credentials,
    chatId: string,
    message: OutgoingMessage,
    replyContext?: Record<string, string>,
    progress?: SendProgress,
    /** Past Meta's 24-hour window (WhatsApp, Messenger): how the message goes through (./window.ts). */
    outside?: OutsideWindow,
  ): Promise<SendResult>;
  testConnection(ctx: PlatformContext, credentials: Credentials): Promise<ConnectionInfo>;
  /** Register the webhook URL where the platform has an API for it (and the credentials what it needs). */
  registerWebhook?(ctx: PlatformContext, credentials: Credentials, url: string, secret: string): Promise<WebhookRegistrationResult>;
  /**
   * Unregister it again (a bot deactivated or deleted, a connection removed), where the platform has
   * an API for that; false when these credentials give none (nothing was called).
   */
  unregisterWebhook?(ctx: PlatformContext, credentials: Credentials): Promise<boolean>;
}
