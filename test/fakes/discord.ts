import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { signedRequest, startFakeServer, type FakeResponse, type FakeServer, type RecordedCall, type SignedRequest } from './server';

/** An attachment object as Discord puts it on a message or in `data.resolved.attachments`. */
export interface DiscordAttachmentObject {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type: string;
  width?: number;
  height?: number;
}

export interface FakeDiscord extends FakeServer {
  /** Make an interaction token dead: its follow-ups answer 404 Unknown Webhook (code 10015). */
  expireInteraction(token: string): void;
  /** What the last `PATCH /applications/@me` set as the Interactions Endpoint URL (null: none). */
  readonly interactionsEndpointUrl: string | null;
  /**
   * Serve a file a user attached as the CDN does (`downloadAttachment`, at
   * `/attachments/{channel}/{id}/{name}` signed with `ex`, `is`, `hm`; no credentials needed, a
   * wrong signature answers 404). Returns the attachment object.
   */
  putAttachment(bytes: Buffer, filename: string, contentType: string, channelId: string): DiscordAttachmentObject;
}

export interface FakeDiscordOptions {
  /** When set, other bot tokens answer 401. */
  botToken?: string;
  /** When set, other channels answer 404 Unknown Channel. */
  channels?: string[];
  applicationId?: string;
  /** What `GET /gateway/bot` answers as `url` (a `startFakeDiscordGateway`'s). */
  gatewayUrl?: string;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
let sequence = 0n;

/** A fresh snowflake id, as Discord mints them. */
export function snowflake(at = Date.now()): string {
  sequence = (sequence + 1n) & 0xfffn;
  return String(((BigInt(at) - DISCORD_EPOCH) << 22n) | sequence);
}

/**
 * Fake Discord REST API (v10): `POST /channels/{id}/messages`, `POST /channels/{id}/typing`,
 * `POST /webhooks/{application_id}/{token}` (interaction follow-ups), `GET /users/@me`,
 * `GET /gateway/bot` and `PUT /applications/{application_id}/commands`.
 */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const applicationId = options.applicationId ?? '1160000000000000001';
  const deadTokens = new Set<string>();
  let interactionsEndpointUrl: string | null = null;
  const attachments = new Map<string, { bytes: Buffer; hm: string }>();
  const error = (status: number, message: string, code: number, extra: Record<string, unknown> = {}, headers?: Record<string, string>): FakeResponse => ({
    status,
    ...(headers ? { headers } : {}),
    body: { message, code, ...extra },
  });
  const invalidForm = (path: string, code: string, message: string): FakeResponse =>
    error(400, 'Invalid Form Body', 50035, { errors: { [path]: { _errors: [{ code, message }] } } });

  const checkBot = (call: RecordedCall): FakeResponse | null => {
    const header = call.headers.authorization;
    if (!header?.startsWith('Bot ') || (options.botToken !== undefined && header.slice(4) !== options.botToken)) return error(401, '401: Unauthorized', 0);
    return null;
  };

  const validateMessage = (body: Record<string, unknown>): FakeResponse | null => {
    const content = typeof body.content === 'string' ? body.content : '';
    const embeds = Array.isArray(body.embeds) ? body.embeds : [];
    if (content.length > 2000) return invalidForm('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
    if (content === '' && embeds.length === 0) return error(400, 'Cannot send an empty message', 50006);
    const rows = (Array.isArray(body.components) ? body.components : []) as { type: number; components?: { label?: string; custom_id?: string }[] }[];
    if (rows.length > 5) return invalidForm('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
    const ids = new Set<string>();
    for (const row of rows) {
      const buttons = row.components ?? [];
      if (row.type !== 1 || buttons.length === 0 || buttons.length > 5)
        return invalidForm('components.0.components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
      for (const button of buttons) {
        if ((button.label ?? '').length > 80) return invalidForm('components.0.components.0.label', 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.');
        const id = button.custom_id ?? '';
        if (id.length === 0 || id.length > 100)
          return invalidForm('components.0.components.0.custom_id', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
        if (ids.has(id))
          return invalidForm('components.0.components.0.custom_id', 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
        ids.add(id);
      }
    }
    return null;
  };

  const message = (channelId: string, body: Record<string, unknown>, webhook: boolean): Record<string, unknown> => ({
    id: snowflake(),
    type: 0,
    content: typeof body.content === 'string' ? body.content : '',
    channel_id: channelId,
    author: { id: applicationId, username: 'GET INN', discriminator: '0000', global_name: null, avatar: null, bot: true },
    attachments: [],
    embeds: Array.isArray(body.embeds) ? body.embeds : [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: 0,
    components: Array.isArray(body.components) ? body.components : [],
    ...(webhook ? { webhook_id: applicationId, application_id: applicationId } : {}),
  });

  const server = await startFakeServer({
    name: 'discord',
    methodOf: (httpMethod, path) => {
      if (httpMethod === 'POST' && /^\/channels\/[^/]+\/messages$/.test(path)) return 'createMessage';
      if (httpMethod === 'POST' && /^\/channels\/[^/]+\/typing$/.test(path)) return 'triggerTypingIndicator';
      if (httpMethod === 'POST' && /^\/webhooks\/[^/]+\/[^/]+$/.test(path)) return 'createFollowupMessage';
      if (httpMethod === 'GET' && path === '/users/@me') return 'getCurrentUser';
      if (httpMethod === 'PATCH' && path === '/applications/@me') return 'editCurrentApplication';
      if (httpMethod === 'GET' && path === '/gateway/bot') return 'getGatewayBot';
      if (httpMethod === 'PUT' && /^\/applications\/[^/]+\/commands$/.test(path)) return 'bulkOverwriteGlobalApplicationCommands';
      if (httpMethod === 'GET' && /^\/attachments\/\d+\/\d+\/[^/]+$/.test(path)) return 'downloadAttachment';
      return null;
    },
    handle: (call) => {
      const segments = call.path.split('/');
      if (call.method === 'downloadAttachment') {
        const file = attachments.get(segments[3] ?? '');
        return file && call.query.hm === file.hm
          ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.bytes }
          : { status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from('This content is no longer available.') };
      }
      if (call.method === 'createFollowupMessage') {
        const token = decodeURIComponent(segments[3] ?? '');
        if (deadTokens.has(token) || segments[2] !== applicationId) return error(404, 'Unknown Webhook', 10015);
        return validateMessage(call.body) ?? { status: 200, body: message('followup-channel', call.body, true) };
      }
      const denied = checkBot(call);
      if (denied) return denied;
      if (call.method === 'getCurrentUser') {
        return {
          status: 200,
          body: {
            id: applicationId,
            username: 'getinn_bot',
            discriminator: '0000',
            global_name: 'GET INN',
            avatar: null,
            bot: true,
            flags: 0,
            mfa_enabled: false,
          },
        };
      }
      if (call.method === 'editCurrentApplication') {
        // The real API also sends a signed PING to a new URL and refuses it unless answered {"type":1}.
        const url = call.body.interactions_endpoint_url;
        if (url !== undefined && url !== null && (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)))
          return invalidForm('interactions_endpoint_url', 'URL_TYPE_INVALID_URL', 'Not a well formed URL.');
        if (url !== undefined) interactionsEndpointUrl = url;
        return {
          status: 200,
          body: {
            id: applicationId,
            name: 'GET INN',
            description: '',
            bot_public: true,
            bot_require_code_grant: false,
            flags: 0,
            interactions_endpoint_url: interactionsEndpointUrl,
          },
        };
      }
      if (call.method === 'getGatewayBot') {
        return {
          status: 200,
          body: {
            url: options.gatewayUrl ?? 'wss://gateway.discord.gg',
            shards: 1,
            session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
          },
        };
      }
      if (call.method === 'bulkOverwriteGlobalApplicationCommands') {
        if (options.applicationId !== undefined && segments[2] !== options.applicationId) return error(403, 'Missing Access', 50001);
        return validateCommands(call.body.value) ?? { status: 200, body: registeredCommands(segments[2] ?? '', call.body.value as Record<string, unknown>[]) };
      }
      const channelId = decodeURIComponent(segments[2] ?? '');
      if (options.channels && !options.channels.includes(channelId)) return error(404, 'Unknown Channel', 10003);
      if (call.method === 'triggerTypingIndicator') return { status: 204 };
      return validateMessage(call.body) ?? { status: 200, body: message(channelId, call.body, false) };
    },
    renderFailure: (spec) => {
      if (spec.status === 429) {
        const retryAfter = spec.retryAfter ?? 1;
        return error(
          429,
          spec.description ?? 'You are being rate limited.',
          typeof spec.code === 'number' ? spec.code : 0,
          { retry_after: retryAfter, global: false },
          {
            'retry-after': String(Math.ceil(retryAfter)),
            'x-ratelimit-scope': 'user',
          },
        );
      }
      if (spec.status >= 500)
        return error(spec.status, spec.description ?? `${spec.status}: Internal Server Error`, typeof spec.code === 'number' ? spec.code : 0);
      const defaults: Record<number, [string, number]> = {
        400: ['Invalid Form Body', 50035],
        401: ['401: Unauthorized', 0],
        403: ['Missing Access', 50001],
        404: ['Unknown Channel', 10003],
      };
      const [message, code] = defaults[spec.status] ?? ['Bad Request', 0];
      return error(spec.status, spec.description ?? message, typeof spec.code === 'number' ? spec.code : code);
    },
    notFound: () => error(404, '404: Not Found', 0),
  });

  return {
    ...server,
    get interactionsEndpointUrl() {
      return interactionsEndpointUrl;
    },
    expireInteraction(token) {
      deadTokens.add(token);
    },
    putAttachment(bytes, filename, contentType, channelId) {
      const id = snowflake();
      const hm = randomBytes(32).toString('hex');
      attachments.set(id, { bytes, hm });
      const now = Math.floor(Date.now() / 1000);
      const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
      const query = `?ex=${(now + 86_400).toString(16)}&is=${now.toString(16)}&hm=${hm}&`;
      return {
        id,
        filename,
        size: bytes.length,
        url: `${server.url}${path}${query}`,
        proxy_url: `${server.url}/proxy${path}${query}`,
        content_type: contentType,
      };
    },
  };
}

/** `PUT /applications/{id}/commands` takes an array of at most 100 commands, each checked as Discord checks it. */
function validateCommands(body: unknown): FakeResponse | null {
  const invalid = (path: string, message: string): FakeResponse => ({
    status: 400,
    body: { message: 'Invalid Form Body', code: 50035, errors: { [path]: { _errors: [{ code: 'INVALID', message }] } } },
  });
  if (!Array.isArray(body) || body.length > 100) return invalid('_errors', 'Must be an array of 100 or fewer commands.');
  const names = new Set<string>();
  for (const [index, command] of (body as Record<string, unknown>[]).entries()) {
    const name = command?.name;
    if (typeof name !== 'string' || !/^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u.test(name)) return invalid(`${index}.name`, 'Command name is invalid');
    if (names.has(name)) return invalid(`${index}.name`, 'Application command names must be unique');
    names.add(name);
    const description = command.description;
    if (typeof description !== 'string' || description.length < 1 || description.length > 100)
      return invalid(`${index}.description`, 'Must be between 1 and 100 in length.');
    const options = (command.options ?? []) as Record<string, unknown>[];
    if (!Array.isArray(options) || options.length > 25) return invalid(`${index}.options`, 'Must be 25 or fewer in length.');
    let optionalSeen = false;
    for (const [position, option] of options.entries()) {
      if (typeof option?.type !== 'number' || typeof option.name !== 'string' || typeof option.description !== 'string') {
        return invalid(`${index}.options.${position}`, 'Option type, name and description are required.');
      }
      if (option.required === true && optionalSeen)
        return invalid(`${index}.options.${position}.required`, 'Required options must be placed before non-required options');
      if (option.required !== true) optionalSeen = true;
    }
  }
  return null;
}

function registeredCommands(applicationId: string, commands: Record<string, unknown>[]): Record<string, unknown>[] {
  return commands.map((command) => ({
    id: snowflake(),
    application_id: applicationId,
    version: snowflake(),
    default_member_permissions: null,
    type: 1,
    nsfw: false,
    integration_types: [0],
    contexts: null,
    ...command,
  }));
}

// ---- Inbound interactions, signed as Discord signs them ----

export interface DiscordKeys {
  /** 64 hex characters: what the developer portal shows as the application's public key. */
  publicKeyHex: string;
  privateKey: KeyObject;
}

/** A fresh Ed25519 key pair standing in for an application's. */
export function discordKeyPair(): DiscordKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { publicKeyHex: Buffer.from(x, 'base64url').toString('hex'), privateKey };
}

/** Hex Ed25519 signature of `timestamp + body`: the `X-Signature-Ed25519` value. */
export function signDiscord(body: string, timestamp: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(timestamp + body, 'utf8'), privateKey).toString('hex');
}

/** Wrap an interaction in a request signed with the keys (omit them for an unsigned one). */
export function discordRequest(interaction: object, keys?: DiscordKeys, timestamp = String(Math.floor(Date.now() / 1000))): SignedRequest {
  const body = JSON.stringify(interaction);
  return signedRequest(body, {
    'content-type': 'application/json',
    'x-signature-timestamp': timestamp,
    ...(keys ? { 'x-signature-ed25519': signDiscord(body, timestamp, keys.privateKey) } : {}),
  });
}

export interface DiscordInteractionOptions {
  applicationId: string;
  channelId: string;
  userId: string;
  /** Interaction id (the dedupe key); default a fresh snowflake. */
  id?: string;
  /** Interaction token for follow-ups; default random. */
  token?: string;
  guildId?: string;
}

function interactionBase(options: DiscordInteractionOptions, type: number): Record<string, unknown> {
  const user = { id: options.userId, username: 'anna', discriminator: '0', global_name: 'Anna', avatar: null };
  return {
    id: options.id ?? snowflake(),
    application_id: options.applicationId,
    type,
    token: options.token ?? `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`,
    version: 1,
    channel_id: options.channelId,
    channel: { id: options.channelId, type: options.guildId ? 0 : 1 },
    locale: 'en-US',
    app_permissions: '442368',
    entitlements: [],
    ...(options.guildId
      ? { guild_id: options.guildId, member: { user, nick: null, roles: [], joined_at: '2024-01-01T00:00:00.000000+00:00', permissions: '2147483647' } }
      : { user }),
  };
}

export function discordPing(applicationId: string): Record<string, unknown> {
  return {
    id: snowflake(),
    application_id: applicationId,
    type: 1,
    token: randomBytes(32).toString('base64url'),
    version: 1,
    user: { id: '0', username: 'discord' },
  };
}

/** A slash command (`/start`, `/answer text:...`; `/answer file:...` with the attachment in `resolved`). */
export function discordCommand(
  options: DiscordInteractionOptions & {
    name: string;
    options?: { name: string; type: number; value: string | number | boolean }[];
    resolved?: { attachments: Record<string, object> };
  },
): Record<string, unknown> {
  return {
    ...interactionBase(options, 2),
    data: {
      id: snowflake(),
      name: options.name,
      type: 1,
      ...(options.options ? { options: options.options } : {}),
      ...(options.resolved ? { resolved: options.resolved } : {}),
    },
  };
}

/** A button press on one of the bot's messages. */
export function discordButton(options: DiscordInteractionOptions & { customId: string; label?: string }): Record<string, unknown> {
  return {
    ...interactionBase(options, 3),
    data: { custom_id: options.customId, component_type: 2 },
    message: {
      id: snowflake(),
      channel_id: options.channelId,
      content: 'Choose',
      components: [{ type: 1, components: [{ type: 2, style: 1, label: options.label ?? options.customId, custom_id: options.customId }] }],
    },
  };
}
