import { createHash, createHmac, randomBytes } from 'node:crypto';
import { signedRequest, startFakeServer, type FailureSpec, type FakeResponse, type FakeServer, type RecordedCall, type SignedRequest } from './server';

// ---- Graph API errors, shared by the WhatsApp and Messenger fakes ----

function graphError(status: number, code: number, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): FakeResponse {
  return {
    status,
    ...(headers ? { headers } : {}),
    body: { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: `A${randomBytes(8).toString('base64url')}` } },
  };
}

function renderGraphFailure(
  spec: FailureSpec,
  defaults: { rateLimitCode: number; rateLimitMessage: string; serverCode: number; serverMessage: string },
): FakeResponse {
  const retryAfter = spec.retryAfter !== undefined ? { 'retry-after': String(spec.retryAfter) } : undefined;
  const code = typeof spec.code === 'number' ? spec.code : undefined;
  if (spec.status === 429) return graphError(429, code ?? defaults.rateLimitCode, spec.description ?? defaults.rateLimitMessage, {}, retryAfter);
  if (spec.status >= 500) return graphError(spec.status, code ?? defaults.serverCode, spec.description ?? defaults.serverMessage, {}, retryAfter);
  const subcode = spec.subcode !== undefined ? { error_subcode: spec.subcode } : {};
  return graphError(spec.status, code ?? 100, spec.description ?? '(#100) Invalid parameter', subcode, retryAfter);
}

function bearer(call: RecordedCall): string | undefined {
  const header = call.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  return call.query.access_token;
}

function checkToken(call: RecordedCall, expected: string | undefined): FakeResponse | null {
  const token = bearer(call);
  if (!token) return graphError(400, 2500, 'An active access token must be used to query information about the current user.');
  if (expected !== undefined && token !== expected) return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
  return null;
}

const missingObject = (id: string): FakeResponse =>
  graphError(
    400,
    100,
    `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    { error_subcode: 33 },
  );

// ---- Webhook subscriptions, shared by the WhatsApp and Messenger fakes ----

/** A Meta app: its id and secret make the app access token `{id}|{secret}`. */
export interface FakeMetaApp {
  id: string;
  secret: string;
}

/** What the registration endpoints set, kept as Meta keeps it. */
export interface MetaSubscriptions {
  /** `POST /{app_id}/subscriptions`, by webhook object (`page`, `whatsapp_business_account`). */
  app: Record<string, { callback_url: string; verify_token: string; fields: string[] }>;
  /** `POST /{page_id or waba_id}/subscribed_apps`; null when unsubscribed (or never subscribed). */
  account: { subscribed_fields?: string[]; override_callback_uri?: string } | null;
}

/** `POST /{app_id}/subscriptions` with the app access token; Meta answers `{"success":true}`. */
function subscribeApp(call: RecordedCall, app: FakeMetaApp | undefined, subscriptions: MetaSubscriptions): FakeResponse {
  const appId = call.path.split('/')[1] ?? '';
  const token = typeof call.body.access_token === 'string' ? call.body.access_token : bearer(call);
  if (!token) return graphError(400, 2500, 'An access token is required to request this resource.');
  const [tokenApp, tokenSecret] = token.split('|');
  if (tokenApp !== appId || tokenSecret === undefined || (app && (appId !== app.id || tokenSecret !== app.secret))) {
    return graphError(401, 190, 'Invalid OAuth access token signature.');
  }
  const { object, callback_url: callbackUrl, verify_token: verifyToken, fields } = call.body;
  for (const [name, value] of Object.entries({ object, callback_url: callbackUrl, verify_token: verifyToken, fields })) {
    if (typeof value !== 'string' || value === '') return graphError(400, 100, `(#100) The parameter ${name} is required`);
  }
  subscriptions.app[object as string] = { callback_url: callbackUrl as string, verify_token: verifyToken as string, fields: (fields as string).split(',') };
  return { status: 200, body: { success: true } };
}

// ---- WhatsApp Cloud API ----

export interface FakeWhatsAppOptions {
  /** When set, other ids answer "object does not exist". */
  phoneNumberId?: string;
  /** When set, other tokens answer 401 code 190. */
  accessToken?: string;
  /** The approved templates (name, language, count of body parameters); when set, others answer 132001. */
  templates?: { name: string; language: string; parameters: number }[];
  /** When set, other business account ids answer "object does not exist". */
  businessAccountId?: string;
  /** When set, other app tokens answer 401 code 190. */
  app?: FakeMetaApp;
}

export interface FakeWhatsApp extends FakeServer {
  /** The app's subscriptions, and the business account's subscription to the app (with its callback override). */
  readonly subscriptions: MetaSubscriptions;
  /** Make a file a user "sent" downloadable (`GET /{media-id}`, then its URL); returns the media id. */
  putMedia(bytes: Buffer, mime: string): string;
  /** The user last wrote more than 24 hours ago (or again not): free-form messages to them answer 131047. */
  setOutsideWindow(to: string, outside?: boolean): void;
}

/**
 * Fake WhatsApp Cloud API: `POST /{phone_number_id}/messages`, `GET /{phone_number_id}`, and the
 * media of user messages: `GET /{media-id}` (`getMedia`) and the URL it answers (`downloadMedia`).
 */
export async function startFakeWhatsApp(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
  const media = new Map<string, { bytes: Buffer; mime: string }>();
  const subscriptions: MetaSubscriptions = { app: {}, account: null };
  const outsideWindow = new Set<string>();
  const invalid = (details: string): FakeResponse =>
    graphError(400, 131009, '(#131009) Parameter value is not valid', { error_data: { messaging_product: 'whatsapp', details } });

  const validateInteractive = (interactive: Record<string, unknown>): FakeResponse | null => {
    const body = (interactive.body as { text?: string } | undefined)?.text;
    if (!body) return invalid('Interactive message body is required');
    if (body.length > 1024) return invalid('Interactive body text length invalid. Max length 1024');
    const action = interactive.action as {
      buttons?: { reply: { id: string; title: string } }[];
      button?: string;
      sections?: { rows: { id: string; title: string }[] }[];
    };
    if (interactive.type === 'button') {
      const buttons = action.buttons ?? [];
      if (buttons.length < 1 || buttons.length > 3) return invalid('Interactive buttons count is invalid. Min 1, max 3');
      if (buttons.some((button) => button.reply.title.length > 20)) return invalid('Button title length is too long. Max length 20');
    } else if (interactive.type === 'list') {
      const rows = (action.sections ?? []).flatMap((section) => section.rows);
      if (rows.length < 1 || rows.length > 10) return invalid('Total row count exceed max allowed count: 10');
      if (rows.some((row) => row.title.length > 24)) return invalid('Row title length is too long. Max length 24');
      if (!action.button || action.button.length > 20) return invalid('Button label length invalid. Max length 20');
    }
    return null;
  };

  /** As Meta checks a template message: the shape, an approved name and language, and its parameters. */
  const validateTemplate = (template: Record<string, unknown>): FakeResponse | null => {
    const language = (template.language as { code?: unknown } | undefined)?.code;
    if (typeof template.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(template.name)) return graphError(400, 100, '(#100) Invalid parameter: template[name]');
    if (typeof language !== 'string') return graphError(400, 100, '(#100) The parameter template[language][code] is required.');
    const components = (template.components ?? []) as { type?: string; parameters?: { type?: string; text?: unknown }[] }[];
    if (!Array.isArray(components) || components.some((component) => component.type !== 'body' || !Array.isArray(component.parameters))) {
      return graphError(400, 100, '(#100) Invalid parameter: template[components]');
    }
    const parameters = components.flatMap((component) => component.parameters ?? []);
    const badText = (text: unknown) => typeof text !== 'string' || text.length === 0 || /[\n\t]| {5,}/.test(text);
    if (parameters.some((parameter) => parameter.type !== 'text' || badText(parameter.text))) {
      return graphError(400, 132018, '(#132018) There was an issue with the parameters in your template.', {
        error_data: { messaging_product: 'whatsapp', details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces' },
      });
    }
    if (!options.templates) return null;
    const approved = options.templates.find((known) => known.name === template.name && known.language === language);
    if (!approved) {
      return graphError(404, 132001, '(#132001) Template name does not exist in the translation', {
        error_data: { messaging_product: 'whatsapp', details: `template name (${template.name}) does not exist in ${language}` },
      });
    }
    if (approved.parameters !== parameters.length) {
      return graphError(400, 132000, '(#132000) Number of parameters does not match the expected number of params', {
        error_data: {
          messaging_product: 'whatsapp',
          details: `body: number of localizable_params (${parameters.length}) does not match the expected number of params (${approved.parameters})`,
        },
      });
    }
    return null;
  };

  const server = await startFakeServer({
    name: 'whatsapp',
    // The typing indicator (a read receipt) shares the endpoint; it is told apart so tests can fail one or the other.
    methodOf: (httpMethod, path, body) => {
      if (httpMethod === 'POST' && /^\/[^/]+\/messages$/.test(path)) return body.status === 'read' ? 'markRead' : 'messages';
      if (httpMethod === 'GET' && media.has(path.slice(1))) return 'getMedia';
      if (httpMethod === 'GET' && path === '/whatsapp_business/attachments/') return 'downloadMedia';
      if (httpMethod === 'GET' && /^\/\d+$/.test(path)) return 'getPhoneNumber';
      if (httpMethod === 'POST' && /^\/\d+\/subscriptions$/.test(path)) return 'subscribeApp';
      if (httpMethod === 'POST' && /^\/\d+\/subscribed_apps$/.test(path)) return 'subscribeBusinessAccount';
      if (httpMethod === 'DELETE' && /^\/\d+\/subscribed_apps$/.test(path)) return 'unsubscribeBusinessAccount';
      return null;
    },
    handle: (call) => {
      const id = call.path.split('/')[1] ?? '';
      if (call.method === 'subscribeApp') return subscribeApp(call, options.app, subscriptions);
      const denied = checkToken(call, options.accessToken);
      if (denied) return denied;
      if (call.method === 'subscribeBusinessAccount' || call.method === 'unsubscribeBusinessAccount') {
        if (options.businessAccountId !== undefined && id !== options.businessAccountId) return missingObject(id);
        if (call.method === 'unsubscribeBusinessAccount') {
          subscriptions.account = null;
          return { status: 200, body: { success: true } };
        }
        const override = call.body.override_callback_uri;
        if (override !== undefined) {
          if (typeof override !== 'string' || override.length > 200 || !/^https?:\/\/\S+$/.test(override)) {
            return graphError(400, 100, '(#100) Param override_callback_uri must be a valid URL of at most 200 characters');
          }
          if (typeof call.body.verify_token !== 'string' || call.body.verify_token === '') {
            return graphError(400, 100, '(#100) The parameter verify_token is required');
          }
        }
        subscriptions.account = typeof override === 'string' ? { override_callback_uri: override } : {};
        return { status: 200, body: { success: true } };
      }
      if (call.method === 'getMedia') {
        const file = media.get(id) as { bytes: Buffer; mime: string };
        const sha256 = createHash('sha256').update(file.bytes).digest('hex');
        // The real URL is on lookaside.fbsbx.com, valid for 5 minutes, and wants the same bearer token.
        const url = `http://${call.headers.host}/whatsapp_business/attachments/?mid=${id}&ext=${Date.now()}&hash=${sha256.slice(0, 16)}`;
        return { status: 200, body: { url, mime_type: file.mime, sha256, file_size: file.bytes.length, id, messaging_product: 'whatsapp' } };
      }
      if (call.method === 'downloadMedia') {
        const file = media.get(call.query.mid ?? '');
        return file ? { status: 200, headers: { 'content-type': file.mime }, body: file.bytes } : graphError(404, 100, 'Media not found');
      }
      if (options.phoneNumberId !== undefined && id !== options.phoneNumberId) return missingObject(id);
      if (call.method === 'getPhoneNumber') {
        return { status: 200, body: { display_phone_number: '+1 555-078-3881', verified_name: 'GET INN Test', quality_rating: 'GREEN', id } };
      }
      const body = call.body;
      if (body.messaging_product !== 'whatsapp') return graphError(400, 100, '(#100) The parameter messaging_product is required.');
      if (body.status === 'read') {
        return typeof body.message_id === 'string'
          ? { status: 200, body: { success: true } }
          : graphError(400, 100, '(#100) The parameter message_id is required.');
      }
      if (typeof body.to !== 'string' || body.to === '') return graphError(400, 100, '(#100) The parameter to is required.');
      const content = body[String(body.type)];
      if (typeof content !== 'object' || content === null) return graphError(400, 100, `(#100) The parameter ${String(body.type)} is required.`);
      if (body.type === 'text') {
        const text = (content as { body?: string }).body ?? '';
        if (text.length === 0 || text.length > 4096) return graphError(400, 100, "(#100) Param text['body'] must be at most 4096 characters long.");
      }
      if (body.type === 'interactive') {
        const problem = validateInteractive(content as Record<string, unknown>);
        if (problem) return problem;
      }
      if (body.type === 'template') {
        const problem = validateTemplate(content as Record<string, unknown>);
        if (problem) return problem;
      } else if (outsideWindow.has(body.to)) {
        return graphError(400, 131047, '(#131047) Re-engagement message', {
          error_data: {
            messaging_product: 'whatsapp',
            details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
        });
      }
      return {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: body.to, wa_id: body.to.replace(/\D/g, '') }],
          messages: [{ id: `wamid.${randomBytes(24).toString('base64')}` }],
        },
      };
    },
    renderFailure: (spec) =>
      renderGraphFailure(spec, {
        rateLimitCode: 130429,
        rateLimitMessage: '(#130429) Rate limit hit',
        serverCode: 131000,
        serverMessage: 'Something went wrong',
      }),
    notFound: (call) => missingObject(call.path.slice(1)),
  });
  return Object.assign(server, {
    subscriptions,
    putMedia(bytes: Buffer, mime: string) {
      const id = String(1_000_000_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000));
      media.set(id, { bytes, mime });
      return id;
    },
    setOutsideWindow(to: string, outside = true) {
      if (outside) outsideWindow.add(to);
      else outsideWindow.delete(to);
    },
  });
}

// ---- Messenger Send API ----

export interface FakeMessengerOptions {
  pageId?: string;
  pageAccessToken?: string;
  pageName?: string;
  /** When set, other app tokens answer 401 code 190. */
  app?: FakeMetaApp;
}

export interface FakeMessenger extends FakeServer {
  /** The app's subscriptions, and the page's subscription to the app. */
  readonly subscriptions: MetaSubscriptions;
  /** Serve a file a user "sent" as the CDN does; returns the URL to put in an attachment's `payload.url`. */
  putAttachment(bytes: Buffer, fileName: string): string;
  /** The user last wrote more than 24 hours ago (or again not): messages to them without a tag answer code 10, subcode 2018278. */
  setOutsideWindow(psid: string, outside?: boolean): void;
}

const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'];
const MESSAGE_TAGS = ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT'];

/**
 * Fake Messenger Send API: `POST /{page_id}/messages` (or `/me/messages`), `GET /me`, and the CDN
 * URLs of user attachments (`downloadAttachment`, no token, as the signed CDN URLs need none).
 */
export async function startFakeMessenger(options: FakeMessengerOptions = {}): Promise<FakeMessenger> {
  const pageId = options.pageId ?? '104560000000001';
  const attachments = new Map<string, Buffer>();
  const subscriptions: MetaSubscriptions = { app: {}, account: null };
  const outsideWindow = new Set<string>();
  const server = await startFakeServer({
    name: 'messenger',
    // Sender actions (typing) share the endpoint; they are told apart so tests can fail one or the other.
    methodOf: (httpMethod, path, body) => {
      if (httpMethod === 'POST' && /^\/[^/]+\/messages$/.test(path)) return body.sender_action !== undefined ? 'senderAction' : 'messages';
      if (httpMethod === 'GET' && path === '/me') return 'me';
      if (httpMethod === 'GET' && path.startsWith('/attachments/')) return 'downloadAttachment';
      if (httpMethod === 'POST' && /^\/\d+\/subscriptions$/.test(path)) return 'subscribeApp';
      if (httpMethod === 'POST' && /^\/[^/]+\/subscribed_apps$/.test(path)) return 'subscribePage';
      if (httpMethod === 'DELETE' && /^\/[^/]+\/subscribed_apps$/.test(path)) return 'unsubscribePage';
      return null;
    },
    handle: (call) => {
      if (call.method === 'downloadAttachment') {
        const bytes = attachments.get(call.path.split('/')[2] ?? '');
        return bytes && call.query.oh !== undefined
          ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes }
          : { status: 403, body: 'URL signature mismatch' };
      }
      if (call.method === 'subscribeApp') return subscribeApp(call, options.app, subscriptions);
      const denied = checkToken(call, options.pageAccessToken);
      if (denied) return denied;
      if (call.method === 'me') return { status: 200, body: { name: options.pageName ?? 'GET INN Test Page', id: pageId } };
      const id = call.path.split('/')[1] ?? '';
      if (id !== 'me' && options.pageId !== undefined && id !== options.pageId) return missingObject(id);
      if (call.method === 'unsubscribePage') {
        subscriptions.account = null;
        return { status: 200, body: { success: true } };
      }
      if (call.method === 'subscribePage') {
        const fields = call.body.subscribed_fields;
        if (typeof fields !== 'string' || fields === '') return graphError(400, 100, '(#100) The parameter subscribed_fields is required.');
        subscriptions.account = { subscribed_fields: fields.split(',') };
        return { status: 200, body: { success: true } };
      }
      const body = call.body as {
        recipient?: { id?: string };
        sender_action?: string;
        messaging_type?: string;
        tag?: string;
        message?: Record<string, unknown>;
      };
      const recipient = body.recipient?.id;
      if (!recipient) return graphError(400, 100, '(#100) The parameter recipient is required');
      if (body.sender_action) return { status: 200, body: { recipient_id: recipient } };
      const message = body.message;
      if (!message) return graphError(400, 100, '(#100) param message must be non-empty.');
      if (!MESSAGING_TYPES.includes(body.messaging_type ?? '')) {
        return graphError(400, 100, `(#100) param messaging_type must be one of {${MESSAGING_TYPES.join(', ')}}`);
      }
      if (body.messaging_type === 'MESSAGE_TAG' && !MESSAGE_TAGS.includes(body.tag ?? '')) {
        return graphError(400, 100, `(#100) Param tag must be one of {${MESSAGE_TAGS.join(', ')}}`);
      }
      if (body.messaging_type !== 'MESSAGE_TAG' && outsideWindow.has(recipient)) {
        return graphError(400, 10, '(#10) This message is sent outside of allowed window.', { error_subcode: 2018278 });
      }
      if (typeof message.text === 'string' && message.text.length > 2000) {
        return graphError(400, 100, '(#100) Length of param message[text] must be less than or equal to 2000');
      }
      const quickReplies = message.quick_replies as { title?: string }[] | undefined;
      if (quickReplies && quickReplies.length > 13) return graphError(400, 100, '(#100) param message[quick_replies] must have at most 13 items');
      if (quickReplies?.some((reply) => (reply.title ?? '').length > 20)) {
        return graphError(400, 100, '(#100) param message[quick_replies][0][title] must be at most 20 characters');
      }
      return { status: 200, body: { recipient_id: recipient, message_id: `m_${randomBytes(30).toString('base64url')}` } };
    },
    renderFailure: (spec) =>
      renderGraphFailure(spec, {
        rateLimitCode: 613,
        rateLimitMessage: '(#613) Calls to this api have exceeded the rate limit.',
        serverCode: 2,
        serverMessage: 'An unexpected error has occurred. Please retry your request later.',
      }),
    notFound: (call) => missingObject(call.path.slice(1)),
  });
  return Object.assign(server, {
    subscriptions,
    putAttachment(bytes: Buffer, fileName: string) {
      const id = randomBytes(8).toString('hex');
      attachments.set(id, bytes);
      return `${server.url}/attachments/${id}/${encodeURIComponent(fileName)}?_nc_cat=1&oh=${randomBytes(16).toString('hex')}&oe=${Math.floor(Date.now() / 1000) + 3600}`;
    },
    setOutsideWindow(psid: string, outside = true) {
      if (outside) outsideWindow.add(psid);
      else outsideWindow.delete(psid);
    },
  });
}

// ---- Inbound webhooks, as Meta posts them ----

/** `sha256=<hex HMAC-SHA256 of the body with the app secret>`: the `X-Hub-Signature-256` value. */
export function signMeta(body: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** Wrap a webhook payload in a request signed with the app secret (omit the secret for an unsigned one). */
export function metaRequest(payload: object, appSecret?: string): SignedRequest {
  const body = JSON.stringify(payload);
  return signedRequest(body, {
    'content-type': 'application/json',
    ...(appSecret !== undefined ? { 'x-hub-signature-256': signMeta(body, appSecret) } : {}),
  });
}

/** The query of Meta's `GET` subscription handshake. */
export function metaHandshakeQuery(verifyToken: string, challenge = '1158201444'): Record<string, string> {
  return { 'hub.mode': 'subscribe', 'hub.verify_token': verifyToken, 'hub.challenge': challenge };
}

export interface WhatsAppMessageOptions {
  phoneNumberId: string;
  /** The user's wa_id (their phone number, digits only). */
  from: string;
  id?: string;
  text?: string;
  /** A reply-button press (`interactive.button_reply`). */
  buttonReply?: { id: string; title: string };
  /** A list-row pick (`interactive.list_reply`). */
  listReply?: { id: string; title: string };
  name?: string;
  /** Unix seconds. */
  timestamp?: number;
}

/** A `messages` webhook payload carrying one user message (text, button or list reply). */
export function whatsappMessagePayload(options: WhatsAppMessageOptions): Record<string, unknown> {
  const id = options.id ?? `wamid.${randomBytes(24).toString('base64')}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  let message: Record<string, unknown>;
  if (options.buttonReply) message = { type: 'interactive', interactive: { type: 'button_reply', button_reply: options.buttonReply } };
  else if (options.listReply) message = { type: 'interactive', interactive: { type: 'list_reply', list_reply: options.listReply } };
  else message = { type: 'text', text: { body: options.text ?? '' } };
  return whatsappPayload(options.phoneNumberId, {
    contacts: [{ profile: { name: options.name ?? 'Sheena Nelson' }, wa_id: options.from }],
    messages: [{ from: options.from, id, timestamp, ...message }],
  });
}

/** Wrap a `value` (messages, statuses, ...) in the `whatsapp_business_account` envelope. */
export function whatsappPayload(phoneNumberId: string, value: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId }, ...value },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

export function whatsappWebhook(options: WhatsAppMessageOptions & { appSecret?: string }): SignedRequest {
  return metaRequest(whatsappMessagePayload(options), options.appSecret);
}

export interface MessengerEventOptions {
  pageId: string;
  /** The user's page-scoped id. */
  psid: string;
  mid?: string;
  text?: string;
  /** A quick-reply tap: its payload (`text` is the reply's title). */
  quickReply?: string;
  /** A postback button: payload and title. */
  postback?: { payload: string; title?: string };
  /** Milliseconds. */
  timestamp?: number;
}

/** A `page` webhook payload with one messaging event (text, quick reply or postback). */
export function messengerEventPayload(options: MessengerEventOptions): Record<string, unknown> {
  const mid = options.mid ?? `m_${randomBytes(30).toString('base64url')}`;
  const timestamp = options.timestamp ?? Date.now();
  const event: Record<string, unknown> = { sender: { id: options.psid }, recipient: { id: options.pageId }, timestamp };
  if (options.postback) event.postback = { mid, ...options.postback };
  else event.message = { mid, text: options.text ?? '', ...(options.quickReply !== undefined ? { quick_reply: { payload: options.quickReply } } : {}) };
  return messengerPayload(options.pageId, [event]);
}

export function messengerPayload(pageId: string, messaging: Record<string, unknown>[]): Record<string, unknown> {
  return { object: 'page', entry: [{ id: pageId, time: Date.now(), messaging }] };
}

export function messengerWebhook(options: MessengerEventOptions & { appSecret?: string }): SignedRequest {
  return metaRequest(messengerEventPayload(options), options.appSecret);
}
