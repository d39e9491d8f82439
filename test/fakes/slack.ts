import { createHmac, randomBytes } from 'node:crypto';
import { signedRequest, startFakeServer, type FakeResponse, type FakeServer, type RecordedCall, type SignedRequest } from './server';

export interface FakeSlackOptions {
  /** When set, other tokens answer `invalid_auth`. */
  botToken?: string;
  /** When set, other channels answer `channel_not_found`. */
  channels?: string[];
}

/** A file object as Slack puts it in a message event's `files[]`. */
export interface SlackFileObject {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  mode: 'hosted';
  url_private: string;
  url_private_download: string;
  permalink: string;
}

export interface FakeSlack extends FakeServer {
  /**
   * Serve a file a user "shared" as files.slack.com does (`downloadFile`): to the bot token only;
   * without it (or with another workspace's token: `readableBy`), like Slack, a 200 HTML sign-in
   * page. Returns the file object for the event.
   */
  putFile(bytes: Buffer, name: string, mimetype: string, readableBy?: string): SlackFileObject;
}

const SIGN_IN_PAGE = Buffer.from('<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>Sign in to GET INN Test</body></html>');

/**
 * Fake Slack Web API: `POST /chat.postMessage`, `POST /auth.test`, and file downloads under
 * `/files-pri/` (`putFile`). Like Slack, logical errors are HTTP 200 `{"ok":false,"error":...}`
 * (`failNext({status: 200, code: 'channel_not_found'})`), rate limits HTTP 429 with `Retry-After`.
 */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  let counter = 0;
  const files = new Map<string, { bytes: Buffer; readableBy?: string }>();
  const failed = (error: string, status = 200, headers?: Record<string, string>): FakeResponse => ({
    status,
    ...(headers ? { headers } : {}),
    body: { ok: false, error },
  });

  const checkAuth = (call: RecordedCall): FakeResponse | null => {
    const header = call.headers.authorization;
    if (!header?.startsWith('Bearer ')) return failed('not_authed');
    if (options.botToken !== undefined && header.slice('Bearer '.length) !== options.botToken) return failed('invalid_auth');
    return null;
  };

  const invalidBlocks = (blocks: unknown): boolean => {
    if (blocks === undefined) return false;
    if (!Array.isArray(blocks) || blocks.length > 50) return true;
    return (blocks as { type: string; text?: { text?: string }; elements?: { text?: { text?: string }; value?: string }[]; image_url?: string }[]).some(
      (block) => {
        if (block.type === 'section') return !block.text?.text || block.text.text.length > 3000;
        if (block.type === 'actions') {
          const elements = block.elements ?? [];
          return (
            elements.length === 0 ||
            elements.length > 25 ||
            elements.some((element) => !element.text?.text || element.text.text.length > 75 || (element.value ?? '').length > 2000)
          );
        }
        if (block.type === 'image') return !block.image_url;
        return false;
      },
    );
  };

  const download = (call: RecordedCall): FakeResponse => {
    const file = files.get(call.path.split('/')[2] ?? '');
    const reader = file?.readableBy ?? options.botToken;
    const token = call.headers.authorization?.startsWith('Bearer ') ? call.headers.authorization.slice('Bearer '.length) : undefined;
    if (file && token !== undefined && (reader === undefined || token === reader)) {
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.bytes };
    }
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: SIGN_IN_PAGE };
  };

  const server = await startFakeServer({
    name: 'slack',
    methodOf: (httpMethod, path) => {
      if (httpMethod === 'POST' && (path === '/chat.postMessage' || path === '/auth.test')) return path.slice(1);
      if (httpMethod === 'GET' && path.startsWith('/files-pri/')) return 'downloadFile';
      return null;
    },
    handle: (call) => {
      if (call.method === 'downloadFile') return download(call);
      const denied = checkAuth(call);
      if (denied) return denied;
      if (call.method === 'auth.test') {
        return {
          status: 200,
          body: {
            ok: true,
            url: 'https://getinn-test.slack.com/',
            team: 'GET INN Test',
            user: 'getinn_bot',
            team_id: 'T0GETINN1',
            user_id: 'U0BOTUSER',
            bot_id: 'B0BOTID01',
            is_enterprise_install: false,
          },
        };
      }
      const body = call.body as { channel?: string; text?: string; blocks?: unknown; thread_ts?: string };
      if (!body.channel || (options.channels && !options.channels.includes(body.channel))) return failed('channel_not_found');
      if (!body.text && body.blocks === undefined) return failed('no_text');
      if ((body.text ?? '').length > 40_000) return failed('msg_too_long');
      if (invalidBlocks(body.blocks)) return failed('invalid_blocks');
      counter += 1;
      const ts = `${Math.floor(Date.now() / 1000)}.${String(counter).padStart(6, '0')}`;
      return {
        status: 200,
        body: {
          ok: true,
          channel: body.channel,
          ts,
          message: {
            type: 'message',
            subtype: 'bot_message',
            text: body.text ?? '',
            user: 'U0BOTUSER',
            bot_id: 'B0BOTID01',
            ts,
            team: 'T0GETINN1',
            ...(body.blocks !== undefined ? { blocks: body.blocks } : {}),
            ...(body.thread_ts ? { thread_ts: body.thread_ts } : {}),
          },
        },
      };
    },
    renderFailure: (spec) => {
      if (spec.status === 429) return failed('ratelimited', 429, { 'retry-after': String(spec.retryAfter ?? 1) });
      const error = typeof spec.code === 'string' ? spec.code : (spec.description ?? (spec.status >= 500 ? 'internal_error' : 'channel_not_found'));
      return failed(error, spec.status);
    },
    notFound: () => failed('unknown_method', 404),
    isSuccess: (answer) =>
      Buffer.isBuffer(answer.body)
        ? answer.status === 200 && answer.headers?.['content-type'] === 'application/octet-stream'
        : answer.status < 300 && (answer.body as { ok?: boolean } | undefined)?.ok === true,
  });

  return Object.assign(server, {
    putFile(bytes: Buffer, name: string, mimetype: string, readableBy?: string): SlackFileObject {
      const id = `F0${randomBytes(5).toString('hex').toUpperCase()}`;
      const key = `T0GETINN1-${id}`;
      files.set(key, { bytes, ...(readableBy !== undefined ? { readableBy } : {}) });
      return {
        id,
        name,
        title: name,
        mimetype,
        filetype: name.split('.').pop() ?? 'binary',
        size: bytes.length,
        mode: 'hosted',
        url_private: `${server.url}/files-pri/${key}/${encodeURIComponent(name)}`,
        url_private_download: `${server.url}/files-pri/${key}/download/${encodeURIComponent(name)}`,
        permalink: `https://getinn-test.slack.com/files/U0ANNA/${id}/${encodeURIComponent(name)}`,
      };
    },
  });
}

// ---- Inbound requests, as Slack sends them ----

/** `v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`: the `X-Slack-Signature` value. */
export function signSlack(body: string, signingSecret: string, timestamp: number): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackSigningOptions {
  /** Omit for an unsigned request. */
  signingSecret?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** `X-Slack-Retry-Num` (with reason `http_timeout`), as on a redelivery. */
  retryNum?: number;
}

export function slackRequest(body: string, contentType: string, options: SlackSigningOptions = {}): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return signedRequest(body, {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    ...(options.signingSecret !== undefined ? { 'x-slack-signature': signSlack(body, options.signingSecret, timestamp) } : {}),
    ...(options.retryNum !== undefined ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
  });
}

/** An Events API envelope (`event_callback`) around any event. */
export function slackEventPayload(event: Record<string, unknown>, eventId?: string): Record<string, unknown> {
  return {
    token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
    team_id: 'T0GETINN1',
    api_app_id: 'A0GETINNAP',
    event,
    type: 'event_callback',
    event_id: eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: 'T0GETINN1', user_id: 'U0BOTUSER', is_bot: true }],
    is_ext_shared_channel: false,
  };
}

export interface SlackMessageOptions extends SlackSigningOptions {
  channel: string;
  user: string;
  text: string;
  eventId?: string;
  ts?: string;
}

/** A user's direct message to the app, as an Events API request. */
export function slackMessageWebhook(options: SlackMessageOptions): SignedRequest {
  const ts = options.ts ?? `${Math.floor(Date.now() / 1000)}.${String(randomBytes(3).readUIntBE(0, 3)).padStart(6, '0')}`;
  const event = {
    type: 'message',
    channel: options.channel,
    user: options.user,
    text: options.text,
    ts,
    event_ts: ts,
    channel_type: 'im',
    client_msg_id: `${randomBytes(4).toString('hex')}-0000-4000-8000-${randomBytes(6).toString('hex')}`,
  };
  return slackRequest(JSON.stringify(slackEventPayload(event, options.eventId)), 'application/json', options);
}

export interface SlackButtonOptions extends SlackSigningOptions {
  channel: string;
  user: string;
  value: string;
  /** The button's label. */
  text?: string;
  triggerId?: string;
}

export interface SlackFileShareOptions extends SlackSigningOptions {
  channel: string;
  user: string;
  files: object[];
  /** The message typed with the files (may be empty). */
  text?: string;
  eventId?: string;
}

/** A user's message sharing files (`subtype: file_share`), as an Events API request. */
export function slackFileShareWebhook(options: SlackFileShareOptions): SignedRequest {
  const ts = `${Math.floor(Date.now() / 1000)}.${String(randomBytes(3).readUIntBE(0, 3)).padStart(6, '0')}`;
  const event = {
    type: 'message',
    subtype: 'file_share',
    channel: options.channel,
    user: options.user,
    text: options.text ?? '',
    files: options.files,
    upload: false,
    display_as_bot: false,
    ts,
    event_ts: ts,
    channel_type: 'im',
  };
  return slackRequest(JSON.stringify(slackEventPayload(event, options.eventId)), 'application/json', options);
}

/** A Block Kit button press, as the interactivity request (`payload=` form field). */
export function slackButtonWebhook(options: SlackButtonOptions): SignedRequest {
  const now = Date.now() / 1000;
  const payload = {
    type: 'block_actions',
    user: { id: options.user, username: 'anna', name: 'anna', team_id: 'T0GETINN1' },
    api_app_id: 'A0GETINNAP',
    token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
    container: { type: 'message', message_ts: (now - 5).toFixed(6), channel_id: options.channel, is_ephemeral: false },
    trigger_id: options.triggerId ?? `${Math.floor(now)}.${randomBytes(4).readUInt32BE(0)}.${randomBytes(16).toString('hex')}`,
    team: { id: 'T0GETINN1', domain: 'getinn-test' },
    channel: { id: options.channel, name: 'directmessage' },
    message: { type: 'message', ts: (now - 5).toFixed(6), text: 'Choose', bot_id: 'B0BOTID01' },
    response_url: 'https://hooks.slack.com/actions/T0GETINN1/000/xyz',
    actions: [
      {
        action_id: 'choice_0',
        block_id: 'b1',
        text: { type: 'plain_text', text: options.text ?? options.value, emoji: true },
        value: options.value,
        type: 'button',
        action_ts: now.toFixed(6),
      },
    ],
  };
  return slackRequest(`payload=${encodeURIComponent(JSON.stringify(payload))}`, 'application/x-www-form-urlencoded', options);
}

/** The `url_verification` handshake Slack sends when the Request URL is saved. */
export function slackUrlVerification(challenge: string, options: SlackSigningOptions = {}): SignedRequest {
  return slackRequest(JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' }), 'application/json', options);
}
