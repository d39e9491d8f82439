import { randomBytes } from 'node:crypto';
import { signedRequest, startFakeServer, type FakeResponse, type FakeServer, type RecordedCall, type SignedRequest } from './server';
import { parseTelegramHtml, type ParsedHtml } from './telegram-html';

/** Fake Telegram Bot API: `$url/bot<token>/<method>`, answering like api.telegram.org. */
export interface FakeTelegram extends FakeServer {
  /** What the last `setWebhook` registered. */
  readonly webhook: { url: string; secret_token?: string; allowed_updates?: unknown } | null;
  readonly bot: { id: number; username: string; first_name: string };
  /** Make a file a user "sent" downloadable (`getFile`, then `/file/bot<token>/<path>`); returns its file_id. */
  putFile(bytes: Buffer, fileName: string): string;
}

export interface FakeTelegramOptions {
  /** When set, any other token is answered `401 Unauthorized`, as Telegram does. */
  token?: string;
  bot?: { id: number; username: string; first_name: string };
}

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

/** A text as Telegram reads it: plain, or parsed with `parse_mode: "HTML"` (the only mode this project sends). */
function parseText(text: string, parseMode: unknown): ParsedHtml {
  if (parseMode === undefined) return { ok: true, text, entities: [] };
  if (parseMode !== 'HTML') return { ok: false, description: 'Bad Request: unsupported parse_mode' };
  return parseTelegramHtml(text);
}

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const bot = options.bot ?? { id: 7000001, username: 'getinn_test_bot', first_name: 'GET INN' };
  let nextMessageId = 1;
  let webhook: FakeTelegram['webhook'] = null;
  const files = new Map<string, { path: string; bytes: Buffer }>();

  const error = (status: number, description: string, retryAfter?: number): FakeResponse => ({
    status,
    body: { ok: false, error_code: status, description, ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}) },
  });
  const ok = (result: unknown, description?: string): FakeResponse => ({
    status: 200,
    body: { ok: true, result, ...(description ? { description } : {}) },
  });

  const message = (call: RecordedCall, extra: Record<string, unknown>): Record<string, unknown> => {
    const chatId = Number(call.body.chat_id);
    return {
      message_id: nextMessageId++,
      from: { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username },
      chat: chatId < 0 ? { id: chatId, title: 'Test group', type: 'group' } : { id: chatId, first_name: 'Test', type: 'private' },
      date: Math.floor(Date.now() / 1000),
      ...extra,
    };
  };

  const fileOf = (kind: string): Record<string, unknown> => ({
    file_id: `${kind}-${randomBytes(6).toString('hex')}`,
    file_unique_id: randomBytes(4).toString('hex'),
    file_size: 1024,
  });

  const mediaFields = (type: string): Record<string, unknown> => {
    switch (type) {
      case 'photo':
        return {
          photo: [
            { ...fileOf('photo'), width: 90, height: 90 },
            { ...fileOf('photo'), width: 800, height: 800 },
          ],
        };
      case 'video':
        return { video: { ...fileOf('video'), width: 640, height: 360, duration: 5, mime_type: 'video/mp4' } };
      case 'audio':
        return { audio: { ...fileOf('audio'), duration: 5, mime_type: 'audio/mpeg' } };
      default:
        return { document: { ...fileOf('document'), file_name: 'file.pdf', mime_type: 'application/pdf' } };
    }
  };

  const validateChat = (call: RecordedCall): FakeResponse | null =>
    call.body.chat_id === undefined || call.body.chat_id === '' ? error(400, 'Bad Request: chat_id is empty') : null;

  const validateKeyboard = (call: RecordedCall): FakeResponse | null => {
    const markup = call.body.reply_markup as { inline_keyboard?: { text?: string; callback_data?: string }[][] } | undefined;
    for (const row of markup?.inline_keyboard ?? []) {
      for (const button of row) {
        if (!button.text) return error(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
        if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data, 'utf8') > 64) {
          return error(400, 'Bad Request: BUTTON_DATA_INVALID');
        }
      }
    }
    return null;
  };

  const captionOf = (call: RecordedCall): Record<string, unknown> => {
    const caption = call.body.caption;
    return typeof caption === 'string' ? { caption } : {};
  };

  const handlers: Record<string, (call: RecordedCall) => FakeResponse> = {
    getMe: () =>
      ok({
        id: bot.id,
        is_bot: true,
        first_name: bot.first_name,
        username: bot.username,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
      }),
    setWebhook: (call) => {
      if (typeof call.body.url !== 'string' || call.body.url === '') return error(400, 'Bad Request: bad webhook: URL must be provided');
      webhook = {
        url: call.body.url,
        ...(typeof call.body.secret_token === 'string' ? { secret_token: call.body.secret_token } : {}),
        allowed_updates: call.body.allowed_updates,
      };
      return ok(true, 'Webhook was set');
    },
    deleteWebhook: () => {
      webhook = null;
      return ok(true, 'Webhook was deleted');
    },
    getWebhookInfo: () => ok({ url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 }),
    sendMessage: (call) => {
      if (typeof call.body.text !== 'string') return error(400, 'Bad Request: message text is empty');
      const parsed = parseText(call.body.text, call.body.parse_mode);
      if (!parsed.ok) return error(400, parsed.description);
      const { text, entities } = parsed;
      if (text.length === 0) return error(400, 'Bad Request: message text is empty');
      if (text.length > TEXT_LIMIT) return error(400, 'Bad Request: message is too long');
      const markup = call.body.reply_markup;
      return ok(message(call, { text, ...(entities.length > 0 ? { entities } : {}), ...(markup ? { reply_markup: markup } : {}) }));
    },
    sendChatAction: () => ok(true),
    getFile: (call) => {
      const file = files.get(String(call.body.file_id));
      if (!file) return error(400, 'Bad Request: invalid file_id');
      return ok({ file_id: call.body.file_id, file_unique_id: String(call.body.file_id).slice(-8), file_size: file.bytes.length, file_path: file.path });
    },
    downloadFile: (call) => {
      const file = [...files.values()].find((f) => call.path.endsWith(`/${f.path}`));
      return file ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.bytes } : error(404, 'Not Found');
    },
    answerCallbackQuery: () => ok(true),
    sendMediaGroup: (call) => {
      const media = call.body.media;
      if (!Array.isArray(media) || media.length < 2 || media.length > 10) return error(400, 'Bad Request: wrong number of media items in the group');
      const groupId = String(Date.now()) + String(nextMessageId);
      return ok(
        (media as { type: string; caption?: string }[]).map((item) =>
          message(call, { media_group_id: groupId, ...mediaFields(item.type), ...(item.caption ? { caption: item.caption } : {}) }),
        ),
      );
    },
  };
  for (const [method, type] of [
    ['sendPhoto', 'photo'],
    ['sendVideo', 'video'],
    ['sendAudio', 'audio'],
    ['sendDocument', 'document'],
  ] as const) {
    handlers[method] = (call) => {
      if (typeof call.body[type] !== 'string' || call.body[type] === '') return error(400, 'Bad Request: there is no ' + type + ' in the request');
      if (typeof call.body.caption === 'string' && call.body.caption.length > CAPTION_LIMIT) return error(400, 'Bad Request: message caption is too long');
      return ok(message(call, { ...mediaFields(type), ...captionOf(call) }));
    };
  }

  const server = await startFakeServer({
    name: 'telegram',
    methodOf: (_httpMethod, path) => {
      if (/^\/file\/bot[^/]+\/.+/.test(path)) return 'downloadFile';
      const match = /^\/bot[^/]+\/([A-Za-z]+)$/.exec(path);
      return match?.[1] && handlers[match[1]] ? match[1] : null;
    },
    handle: (call) => {
      const token = /^(?:\/file)?\/bot([^/]+)\//.exec(call.path)?.[1];
      if (options.token !== undefined && token !== options.token) return error(401, 'Unauthorized');
      const handler = handlers[call.method];
      if (call.method.startsWith('send')) return validateChat(call) ?? validateKeyboard(call) ?? handler(call);
      return handler(call);
    },
    renderFailure: (spec) => {
      const status = spec.status;
      const description =
        spec.description ??
        (status === 429 ? `Too Many Requests: retry after ${spec.retryAfter ?? 1}` : status >= 500 ? 'Internal Server Error' : 'Bad Request');
      return error(status, description, status === 429 ? (spec.retryAfter ?? 1) : spec.retryAfter);
    },
    notFound: () => error(404, 'Not Found'),
  });

  return {
    ...server,
    get webhook() {
      return webhook;
    },
    bot,
    putFile(bytes, fileName) {
      const fileId = `AgAC${randomBytes(12).toString('hex')}`;
      files.set(fileId, { path: `documents/${fileName}`, bytes });
      return fileId;
    },
  };
}

// ---- Inbound updates, as Telegram posts them to the webhook ----

export interface TelegramUpdateOptions {
  updateId: number;
  chatId: number | string;
  /** Text message (a leading `/command` gets its `bot_command` entity). */
  text?: string;
  /** A button press instead: the callback data of the pressed inline button. */
  callbackData?: string;
  /** Label of the pressed button (put into the message's keyboard). */
  buttonText?: string;
  userId?: number;
  firstName?: string;
  /** Unix seconds. */
  date?: number;
  /** Secret token header value; omit for a request without one. */
  secret?: string;
}

/** Build a Telegram update (text or button press) and the request that carries it. */
export function telegramUpdate(options: TelegramUpdateOptions): SignedRequest {
  const userId = options.userId ?? Number(options.chatId);
  const from = { id: userId, is_bot: false, first_name: options.firstName ?? 'Anna', language_code: 'en' };
  const chat = { id: Number(options.chatId), first_name: options.firstName ?? 'Anna', type: 'private' };
  const date = options.date ?? Math.floor(Date.now() / 1000);
  let update: Record<string, unknown>;
  if (options.callbackData !== undefined) {
    update = {
      update_id: options.updateId,
      callback_query: {
        id: `${userId}${options.updateId}`,
        from,
        message: {
          message_id: options.updateId,
          from: { id: 7000001, is_bot: true, first_name: 'GET INN', username: 'getinn_test_bot' },
          chat,
          date,
          text: 'Choose',
          reply_markup: { inline_keyboard: [[{ text: options.buttonText ?? options.callbackData, callback_data: options.callbackData }]] },
        },
        chat_instance: '-5196428359219540431',
        data: options.callbackData,
      },
    };
  } else {
    const text = options.text ?? '';
    const command = /^\/\S+/.exec(text);
    update = {
      update_id: options.updateId,
      message: {
        message_id: options.updateId,
        from,
        chat,
        date,
        text,
        ...(command ? { entities: [{ offset: 0, length: command[0].length, type: 'bot_command' }] } : {}),
      },
    };
  }
  return telegramRequest(update, options.secret);
}

/** Wrap any update object (e.g. one copied from the Bot API docs) in a webhook request. */
export function telegramRequest(update: object, secret?: string): SignedRequest {
  return signedRequest(JSON.stringify(update), {
    'content-type': 'application/json',
    ...(secret !== undefined ? { 'x-telegram-bot-api-secret-token': secret } : {}),
  });
}
