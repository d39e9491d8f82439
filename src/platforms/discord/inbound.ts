import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { type GatewayMessageCreateDispatchData, MessageType } from 'discord-api-types/v10';
import { cutText } from '../../engine/bounds';
import type { UserInput } from '../../engine/types';
import { WebhookAuthError } from '../errors';
import { isRecord } from '../shared/http';
import { parseCommand } from '../shared/text';
import { userField } from '../shared/user';
import type { IncomingMessage, WebhookRequest, WebhookResult } from '../types';
import { attachmentInput } from './attachments';
import { CommandOptionType, ComponentType, InteractionResponseType, InteractionType, type DiscordInteraction } from './wire';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** How far `X-Signature-Timestamp` may be from now: a captured request cannot be replayed later (as Slack's window). */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;
/** Interaction tokens are valid for 15 minutes; a minute of margin covers clock skew and retries. */
const INTERACTION_TOKEN_TTL_MS = 14 * 60 * 1000;
/**
 * The application command whose `text` option is a free-text answer (Discord has no plain messages
 * over HTTP), and whose `file` attachment option is a file the user sends.
 */
export const ANSWER_COMMAND = 'answer';

const keys = new Map<string, KeyObject>();

function publicKey(hex: string): KeyObject {
  let key = keys.get(hex);
  if (!key) {
    const raw = Buffer.from(hex, 'hex');
    if (raw.length !== 32) throw new WebhookAuthError('discord', 'the stored public key is not a 32-byte Ed25519 key');
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    keys.set(hex, key);
  }
  return key;
}

/** Ed25519 over `X-Signature-Timestamp + raw body` with the application's public key, the timestamp within five minutes of `req.now`. */
export function verifyDiscordSignature(req: WebhookRequest, publicKeyHex: string): void {
  const signature = req.headers['x-signature-ed25519'];
  const timestamp = req.headers['x-signature-timestamp'];
  if (signature === undefined || timestamp === undefined) throw new WebhookAuthError('discord', 'missing X-Signature-Ed25519 or X-Signature-Timestamp');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(req.now / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) {
    throw new WebhookAuthError('discord', 'X-Signature-Timestamp is outside the five-minute window');
  }
  if (!/^[0-9a-f]{128}$/i.test(signature)) throw new WebhookAuthError('discord', 'malformed X-Signature-Ed25519');
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), req.rawBody]);
  if (!verify(null, signed, publicKey(publicKeyHex), Buffer.from(signature, 'hex'))) throw new WebhookAuthError('discord', 'wrong X-Signature-Ed25519');
}

/**
 * Verify, then answer within Discord's 3 seconds: PING with PONG; a command with a deferred
 * response ("thinking…"); a button press with a deferred update. The dialog's messages follow
 * through the interaction webhook, whose token travels in `replyContext`.
 */
export function handleDiscordWebhook(req: WebhookRequest, publicKeyHex: string): WebhookResult {
  verifyDiscordSignature(req, publicKeyHex);
  let interaction: DiscordInteraction;
  try {
    const parsed: unknown = JSON.parse(req.rawBody.toString('utf8'));
    if (!isRecord(parsed) || typeof parsed.type !== 'number') throw new Error('not an interaction');
    interaction = parsed as unknown as DiscordInteraction;
  } catch {
    return { status: 400, body: { error: 'not a Discord interaction' }, messages: [] };
  }

  switch (interaction.type) {
    case InteractionType.Ping:
      return { status: 200, body: { type: InteractionResponseType.Pong }, messages: [] };
    case InteractionType.ApplicationCommand:
      return respond(interaction, InteractionResponseType.DeferredChannelMessageWithSource, commandInput(interaction), req.now);
    case InteractionType.MessageComponent:
      return respond(interaction, InteractionResponseType.DeferredUpdateMessage, componentInput(interaction), req.now);
    case InteractionType.ModalSubmit:
      return respond(interaction, InteractionResponseType.DeferredChannelMessageWithSource, modalInput(interaction), req.now);
    case InteractionType.Autocomplete:
      return { status: 200, body: { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [] } }, messages: [] };
    default:
      return { status: 400, body: { error: `unknown interaction type ${interaction.type}` }, messages: [] };
  }
}

function respond(interaction: DiscordInteraction, responseType: number, input: UserInput | null, now: number): WebhookResult {
  const body = { type: responseType };
  const chatId = interaction.channel_id ?? interaction.channel?.id;
  if (!input || !chatId) return { status: 200, body, messages: [] };
  // In a server the user comes inside `member`, with the nickname they go by there.
  const user = interaction.member?.user ?? interaction.user;
  const message: IncomingMessage = {
    platform: 'discord',
    chatId,
    messageId: interaction.id,
    ...userField({
      id: user?.id,
      name: interaction.member?.nick || user?.global_name || user?.username,
      username: user?.username,
      language: interaction.locale,
    }),
    input,
    ...sentAt(interaction.id),
    replyContext: { interaction_token: interaction.token, interaction_expires_at: String(now + INTERACTION_TOKEN_TTL_MS) },
  };
  return { status: 200, body, messages: [message] };
}

function commandInput(interaction: DiscordInteraction): UserInput | null {
  const name = interaction.data?.name;
  if (!name) return null;
  const options = interaction.data?.options ?? [];
  if (name === ANSWER_COMMAND) {
    const text = options.find((option) => option.name === 'text')?.value;
    const file = options.find((option) => option.type === CommandOptionType.Attachment)?.value;
    const attachments = interaction.data?.resolved?.attachments;
    if (typeof file === 'string' && isRecord(attachments) && Object.hasOwn(attachments, file)) {
      return attachmentInput(attachments[file], typeof text === 'string' ? text : undefined);
    }
    return typeof text === 'string' ? { kind: 'text', text } : null;
  }
  const args = options
    .map((option) => option.value)
    .filter((value) => value !== undefined)
    .join(' ');
  return { kind: 'command', command: name.toLowerCase(), ...(args ? { args } : {}) };
}

function componentInput(interaction: DiscordInteraction): UserInput | null {
  const data = interaction.data;
  if (!data?.custom_id) return null;
  if (data.component_type === ComponentType.StringSelect) {
    const value = data.values?.[0];
    return value === undefined ? null : { kind: 'button', value };
  }
  const label = interaction.message?.components?.flatMap((row) => row.components).find((component) => component.custom_id === data.custom_id)?.label;
  return { kind: 'button', value: data.custom_id, ...(label ? { text: label } : {}) };
}

function modalInput(interaction: DiscordInteraction): UserInput | null {
  const value = interaction.data?.components?.flatMap((row) => row.components).find((component) => component.value !== undefined)?.value;
  return value === undefined ? null : { kind: 'text', text: value };
}

/** What makes a Gateway message input to a dialog, besides being a direct message. */
export interface GatewayListening {
  /** The bot's own user id (READY `user.id`): its messages, and a leading mention of it, are not input. */
  selfId?: string;
  /** Guild channels and threads (connection setting `channel_ids`) whose messages are input. */
  channelIds: ReadonlySet<string>;
}

/** What a person writes: a message or a reply; joins, pins, thread starts and the like are not. */
const PERSON_MESSAGE_TYPES: ReadonlySet<unknown> = new Set([MessageType.Default, MessageType.Reply]);
const SNOWFLAKE = /^\d{1,20}$/;

/**
 * A Gateway `MESSAGE_CREATE` as a user message: a direct message, or one in a listed channel or
 * thread; never a bot's (this one's included), a webhook's or a system message. The chat is the
 * channel (everyone in a listed channel shares its dialog); the message id is the dedupe key.
 */
export function normalizeGatewayMessage(message: GatewayMessageCreateDispatchData, listening: GatewayListening): IncomingMessage | null {
  if (!isRecord(message) || !isRecord(message.author)) return null;
  const { id, channel_id: channelId, author } = message;
  if (typeof id !== 'string' || !SNOWFLAKE.test(id) || typeof channelId !== 'string' || !SNOWFLAKE.test(channelId)) return null;
  if (author.bot === true || message.webhook_id !== undefined || author.id === listening.selfId) return null;
  if (!PERSON_MESSAGE_TYPES.has(message.type)) return null;
  if (message.guild_id !== undefined && !listening.channelIds.has(channelId)) return null;
  const input = gatewayInput(message, listening.selfId);
  if (!input) return null;
  const member = isRecord(message.member) ? message.member : undefined;
  return {
    platform: 'discord',
    chatId: channelId,
    messageId: id,
    ...userField({ id: author.id, name: member?.nick || author.global_name || author.username, username: author.username }),
    input,
    ...sentAt(id),
  };
}

function gatewayInput(message: GatewayMessageCreateDispatchData, selfId: string | undefined): UserInput | null {
  let text = typeof message.content === 'string' ? cutText(message.content).trim() : '';
  // In a channel people address the bot as `@bot Anna`; the mention is not part of the answer.
  if (selfId && SNOWFLAKE.test(selfId)) text = text.replace(new RegExp(`^(?:<@!?${selfId}>\\s*)+`), '');
  const attachment: unknown = Array.isArray(message.attachments) ? message.attachments[0] : undefined;
  if (isRecord(attachment)) return attachmentInput(attachment, text || undefined);
  if (!text) return null;
  const command = parseCommand(text);
  return command ? { kind: 'command', ...command } : { kind: 'text', text };
}

/** Discord ids are snowflakes: milliseconds since 2015-01-01 in the high bits. */
function sentAt(id: string): { sentAt?: string } {
  if (!/^\d{1,20}$/.test(id)) return {};
  return { sentAt: new Date(Number((BigInt(id) >> 22n) + 1_420_070_400_000n)).toISOString() };
}
