import type { UserInput } from '../../engine/types';
import { WebhookAuthError } from '../errors';
import { hmacSha256Hex, safeEqual } from '../shared/crypto';
import { declaredMedia, type MediaInput } from '../shared/files';
import { isRecord } from '../shared/http';
import { parseCommand } from '../shared/text';
import { userField } from '../shared/user';
import type { IncomingMessage, WebhookRequest, WebhookResult } from '../types';
import type { SlackBlockActionsPayload, SlackEventEnvelope, SlackEventsBody, SlackFile, SlackMessageEvent, SlackSlashCommand } from './wire';

/** Slack's replay window for signed requests. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** Message subtypes that are still a person talking to the bot; all others (edits, joins, bots) are not. */
const USER_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

const acknowledge = (): WebhookResult => ({ status: 200, body: '', messages: [] });

/**
 * `v0` signature over `v0:{timestamp}:{raw body}` within five minutes of `req.now`, then one of:
 * `url_verification`, an Events API `event_callback` (messages), an interactivity post
 * (`payload=` block_actions: button presses) or a slash command. Retries (`X-Slack-Retry-Num`) are
 * processed like first deliveries: the first may have failed before its signal was accepted, and
 * the event_id makes the workflow ignore a repeat.
 */
export function handleSlackWebhook(req: WebhookRequest, signingSecret: string): WebhookResult {
  verifySlackSignature(req, signingSecret);
  const contentType = req.headers['content-type'] ?? '';
  const raw = req.rawBody.toString('utf8');

  if (contentType.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    if (payload !== null) return handleInteraction(payload);
    if (form.get('ssl_check') === '1') return acknowledge();
    if (form.get('command') !== null) return handleSlashCommand(Object.fromEntries(form) as unknown as SlackSlashCommand);
    return { status: 400, body: { error: 'unknown form post' }, messages: [] };
  }

  let body: SlackEventsBody;
  try {
    body = JSON.parse(raw) as SlackEventsBody;
  } catch {
    return { status: 400, body: { error: 'body is not JSON' }, messages: [] };
  }
  if (!isRecord(body)) return { status: 400, body: { error: 'body is not a JSON object' }, messages: [] };
  if (body.type === 'url_verification' && 'challenge' in body) return { status: 200, body: { challenge: body.challenge }, messages: [] };
  if (body.type !== 'event_callback') return { status: 200, messages: [] };
  const incoming = normalizeEvent(body as SlackEventEnvelope);
  return { status: 200, messages: incoming ? [incoming] : [] };
}

export function verifySlackSignature(req: WebhookRequest, signingSecret: string): void {
  const signature = req.headers['x-slack-signature'];
  const timestamp = req.headers['x-slack-request-timestamp'];
  if (signature === undefined || timestamp === undefined) throw new WebhookAuthError('slack', 'missing X-Slack-Signature or X-Slack-Request-Timestamp');
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds) || Math.abs(req.now / 1000 - seconds) > SIGNATURE_WINDOW_SECONDS) {
    throw new WebhookAuthError('slack', 'X-Slack-Request-Timestamp is outside the five-minute window');
  }
  const expected = `v0=${hmacSha256Hex(signingSecret, `v0:${timestamp}:`, req.rawBody)}`;
  if (!safeEqual(signature, expected)) throw new WebhookAuthError('slack', 'wrong X-Slack-Signature');
}

function normalizeEvent(envelope: SlackEventEnvelope): IncomingMessage | null {
  const event = envelope.event;
  if (event.type !== 'message') return null;
  const message = event as SlackMessageEvent;
  if (!USER_SUBTYPES.has(message.subtype) || message.bot_id !== undefined || !message.user) return null;
  const input = messageInput(message);
  if (!input) return null;
  return {
    platform: 'slack',
    chatId: message.channel,
    messageId: envelope.event_id,
    // Message events carry only the user id.
    ...userField({ id: message.user }),
    input,
    sentAt: new Date(Number(message.ts) * 1000).toISOString(),
    ...(message.thread_ts ? { replyContext: { thread_ts: message.thread_ts } } : {}),
  };
}

function messageInput(message: SlackMessageEvent): UserInput | null {
  const text = unescapeSlack(message.text ?? '')
    .replace(/^(?:<@[A-Z0-9]+>\s*)+/, '')
    .trim();
  const file = message.files?.[0];
  const media = isRecord(file) ? fileMedia(file, text) : null;
  if (media) return { kind: 'media', media };
  if (!text) return null;
  const command = parseCommand(text);
  return command ? { kind: 'command', ...command } : { kind: 'text', text };
}

/**
 * Both URLs need the bot token; `url_private_download` serves the bytes itself, where `url_private`
 * may redirect (PDFs), and downloads follow no redirects (src/media/incoming.ts).
 */
function fileMedia(file: SlackFile, caption: string): MediaInput | null {
  return declaredMedia({ id: file.id, url: file.url_private_download ?? file.url_private, mime: file.mimetype, size: file.size, caption });
}

function handleInteraction(payloadText: string): WebhookResult {
  let payload: SlackBlockActionsPayload;
  try {
    payload = JSON.parse(payloadText) as SlackBlockActionsPayload;
  } catch {
    return { status: 400, body: { error: 'payload is not JSON' }, messages: [] };
  }
  // Modal submissions, shortcuts and the like carry nothing a dialog waits for.
  if (payload.type !== 'block_actions') return acknowledge();
  const action = payload.actions?.[0];
  const channel = payload.channel?.id ?? payload.container?.channel_id;
  const value = action?.value ?? action?.selected_option?.value;
  if (!action || !channel || value === undefined) return acknowledge();
  const text = action.text?.text ?? action.selected_option?.text?.text;
  const threadTs = payload.container?.thread_ts ?? payload.message?.thread_ts;
  return {
    ...acknowledge(),
    messages: [
      {
        platform: 'slack',
        chatId: channel,
        // Unique per press; Slack does not redeliver interactions, so no event_id exists for them.
        messageId: payload.trigger_id,
        ...userField({ id: payload.user?.id, name: payload.user?.name, username: payload.user?.username }),
        input: { kind: 'button', value, ...(text ? { text } : {}) },
        sentAt: new Date(Number(action.action_ts) * 1000).toISOString(),
        ...(threadTs ? { replyContext: { thread_ts: threadTs } } : {}),
      },
    ],
  };
}

function handleSlashCommand(command: SlackSlashCommand): WebhookResult {
  const name = command.command.replace(/^\//, '').toLowerCase();
  const args = command.text?.trim();
  return {
    ...acknowledge(),
    messages: [
      {
        platform: 'slack',
        chatId: command.channel_id,
        messageId: command.trigger_id,
        ...userField({ id: command.user_id, username: command.user_name }),
        input: { kind: 'command', command: name, ...(args ? { args } : {}) },
      },
    ],
  };
}

/** Slack escapes `&`, `<` and `>` in message text. */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
