/**
 * The operator console: its test chat (the built-in `console` platform) and the page itself, static
 * files built by `npm run build:console` into console/dist. The page uses the public `/v1` API with
 * the operator's token like any client; nothing here reads or changes data without one.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Config } from '../../src/config';
import { MAX_INPUT_CHARACTERS } from '../../src/engine/bounds';
import type { UserInput } from '../../src/engine/types';
import { AppError, notFound } from '../../src/errors';
import { chatUser } from '../../src/platforms/shared/user';
import { parseCommand } from '../../src/platforms/shared/text';
import { CONSOLE_PLATFORM, type IncomingMessage } from '../../src/platforms/types';
import { claimsOf } from '../auth';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { parseBody } from '../validation';

const chatId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1 to 64 letters, digits, _ or -')
  .describe('the test chat: its dialog is console/{chat_id}');
const scenarioId = z.string().min(1).max(200).describe('a version of this bot, active or a draft: a conversation this message begins runs on it');
// One of text or button: two closed shapes, so the document says so too.
const messageInput = z.union([
  z.strictObject({ chat_id: chatId, text: z.string().min(1).max(MAX_INPUT_CHARACTERS).describe('what the guest writes'), scenario_id: scenarioId.optional() }),
  z.strictObject({
    chat_id: chatId,
    button: z.string().min(1).max(256).describe('the value of the button the guest presses'),
    scenario_id: scenarioId.optional(),
  }),
]);
const accepted = z.object({ chat_id: z.string(), message_id: z.string() });

/** What the chat user wrote, read as a platform reads a message: `/start` is a command. */
function inputOf(message: z.infer<typeof messageInput>): UserInput {
  if ('button' in message) return { kind: 'button', value: message.button };
  const command = parseCommand(message.text);
  return command ? { kind: 'command', ...command } : { kind: 'text', text: message.text };
}

/** `POST /v1/bots/{bot_id}/console/messages`: the console's test chat, delivered like a webhook's message. */
export function consoleRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  router.op(
    'post',
    '/v1/bots/:botId/console/messages',
    {
      summary:
        'Write to the bot from the operator console’s test chat: the message goes to the dialog console/{chat_id} through the real workflow, even while the bot is inactive; the replies appear in its history',
      tag: 'dialogs',
      body: messageInput,
      success: { status: 202, schema: accepted, description: 'Accepted by the dialog’s workflow' },
      errors: [400, 403, 404, 429],
    },
    async (ctx, next) => {
      ctx.state.bot = await s.botFor(ctx, ctx.params.botId, 'write');
      await next();
    },
    s.rateLimit('dialog_operations'),
    async (ctx) => {
      const botId = ctx.params.botId;
      const input = parseBody(ctx, messageInput);
      if (input.scenario_id && (await s.scenarios.get(input.scenario_id))?.bot_id !== botId) throw notFound('Scenario');
      const message: IncomingMessage = {
        platform: CONSOLE_PLATFORM,
        chatId: input.chat_id,
        messageId: randomUUID(),
        user: chatUser({ id: claimsOf(ctx).sub, name: 'Console' }),
        input: inputOf(input),
        sentAt: new Date(s.now()).toISOString(),
        ...(input.scenario_id ? { scenarioId: input.scenario_id } : {}),
      };
      await s.workflows.deliver(botId, message);
      ctx.status = 202;
      ctx.body = { chat_id: message.chatId, message_id: message.messageId };
    },
  );
  return router;
}

/** Where `npm run build:console` writes the page. */
export const CONSOLE_DIST = path.resolve(__dirname, '..', '..', 'console', 'dist');

const CONSOLE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** A file of the build: a plain name, no folders, no dot files (so no way out of the folder). */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

/**
 * `/console` and `/console/*`: the page's files from `dir`, and `/console/config.json`, what the page
 * links to (the Temporal UI); no data, no token needed. 503 naming the build when it is missing.
 */
export function consolePage(config: Config, dir = CONSOLE_DIST): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) {
      await next();
      return;
    }
    ctx.set(CONSOLE_HEADERS);
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      throw new AppError(
        405,
        'method_not_allowed',
        `${ctx.method} is not allowed on ${ctx.path}; allowed: GET, HEAD.`,
        { allowed: ['GET', 'HEAD'] },
        { Allow: 'GET, HEAD' },
      );
    }
    const name = ctx.path === '/console' || ctx.path === '/console/' ? 'index.html' : ctx.path.slice('/console/'.length);
    if (name === 'config.json') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { temporal_ui_url: config.temporal.uiOrigin ?? null, temporal_namespace: config.temporal.namespace };
      return;
    }
    if (!FILE_NAME.test(name)) throw notFound('Console file');
    let content: Buffer;
    try {
      content = await readFile(path.join(dir, name));
    } catch (error) {
      if (!['ENOENT', 'EISDIR', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      const built = await readFile(path.join(dir, 'index.html')).then(
        () => true,
        () => false,
      );
      if (!built) throw new AppError(503, 'console_not_built', 'The console is not built: run `npm run build:console`.');
      throw notFound('Console file');
    }
    ctx.type = path.extname(name);
    ctx.body = content;
  };
}
