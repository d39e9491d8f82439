import type { Context } from 'koa';
import { z } from 'zod';
import { checkData, TooLarge } from '../../src/engine/bounds';
import { AppError, notFound } from '../../src/errors';
import { mediaService } from '../../src/media';
import { isDialogPlatform } from '../../src/platforms';
import type { JsonValue } from '../../src/engine/types';
import type { DialogPlatform } from '../../src/platforms/types';
import type { Services } from '../deps';
import { dialogJson, dialogPdf, dialogXml, historyCsv } from '../dialog-export';
import { ApiRouter } from '../openapi';
import { dialogListItemSchema, dialogPlatformName, dialogSchema, historyItemSchema, jsonValue, pageOf } from '../schemas';
import { confirmation, isoDate, page, pagination, parseBody, parseQuery } from '../validation';

const DIALOG_STATUSES = ['active', 'completed', 'abandoned', 'handoff', 'failed'] as const;

const listQuery = pagination.extend({
  platform: dialogPlatformName.optional(),
  status: z.enum(DIALOG_STATUSES).optional(),
  from_date: isoDate.optional().describe('last interaction at or after'),
  to_date: isoDate.optional().describe('last interaction at or before'),
});
const updateInput = z.object({
  current_step: z.string().min(1).optional(),
  collected_data: z.record(z.string(), jsonValue).optional().describe('merged into the data (a key set to null is removed) unless replace_data is true'),
  replace_data: z.boolean().default(false).describe('true: collected_data replaces the whole data'),
  expected_version: z.number().int().min(0),
});
const resetQuery = z.object({
  confirm: confirmation('Resetting a dialog starts it again'),
  to_checkpoint: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .transform((v) => (v === undefined || v === 'false' ? false : v === 'true' ? true : v))
    .describe('true: the last checkpoint; a step id: that checkpoint step; absent or false: the beginning, with fresh data'),
});
const historyFilter = z.object({
  message_type: z.enum(['user', 'bot', 'system']).optional(),
  from_timestamp: isoDate.optional(),
  to_timestamp: isoDate.optional(),
});
const historyQuery = pagination
  .merge(historyFilter)
  .extend({ format: z.enum(['json', 'csv']).default('json').describe('csv: every matching message, streamed; limit/offset ignored') });
const exportQuery = z.object({ format: z.enum(['json', 'csv', 'xml', 'pdf']).default('json') });

/** PDF's built-in fonts have no Cyrillic, Greek or accents beyond Latin-1: ship a Unicode font. */
const PDF_FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

const EXPORT_TYPES = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  pdf: 'application/pdf',
} as const;

/**
 * Data over the dialog bounds (64 KiB a value, 256 KiB in all) is 413 before it reaches Temporal.
 * Merged, every value that is not `null` ends up in the data, so those alone must fit; the
 * workflow checks the merged result.
 */
function refuseOverBounds(data: Record<string, JsonValue>, replace: boolean): void {
  try {
    checkData(replace ? data : Object.fromEntries(Object.entries(data).filter(([, value]) => value !== null)));
  } catch (error) {
    if (error instanceof TooLarge) throw new AppError(413, error.code, `collected_data is too large: ${error.message}.`);
    throw error;
  }
}

export function dialogRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  const limited = s.rateLimit('dialog_operations');
  // Files the dialog's user sent are answered with signed, expiring URLs (docs/media.md).
  const media = mediaService(s);
  const path = '/v1/bots/:botId/dialogs/:platform/:chatId';

  const dialogKey = async (ctx: Context, access: 'read' | 'write') => {
    const bot = await s.botFor(ctx, ctx.params.botId, access);
    const { platform, chatId } = ctx.params as { platform: string; chatId: string };
    if (!isDialogPlatform(platform)) throw notFound('Dialog');
    return { bot_id: bot.id, platform, chat_id: chatId };
  };
  /** Authorizes first, so another account's caller learns nothing, not even its rate limit. */
  const access = (level: 'read' | 'write') => async (ctx: Context, next: () => Promise<unknown>) => {
    ctx.state.dialogKey = await dialogKey(ctx, level);
    return next();
  };
  const keyOf = (ctx: Context) => ctx.state.dialogKey as { bot_id: string; platform: DialogPlatform; chat_id: string };

  router.op(
    'get',
    '/v1/bots/:botId/dialogs',
    {
      summary: 'List dialogs (from the dialog rows), most recent interaction first',
      tag: 'dialogs',
      query: listQuery,
      success: { status: 200, schema: pageOf(dialogListItemSchema) },
      errors: [400, 404, 429],
    },
    async (ctx, next) => {
      await s.botFor(ctx, ctx.params.botId, 'read');
      await next();
    },
    limited,
    async (ctx) => {
      const q = parseQuery(ctx, listQuery);
      const { items, total } = await s.dialogs.list(ctx.params.botId, q);
      ctx.body = page(items, total, q);
    },
  );

  router.op(
    'get',
    path,
    {
      summary: 'Get a dialog’s state (the dialog is started at the start step if there is none)',
      tag: 'dialogs',
      success: { status: 200, schema: dialogSchema },
      errors: [404, 429],
    },
    access('read'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      ctx.body = await media.signUserFiles(key.bot_id, await s.workflows.state(key.bot_id, key.platform, key.chat_id), s.now());
    },
  );

  router.op(
    'put',
    path,
    {
      summary:
        'Change the step or merge into (or replace) the collected data through the workflow (409 on a stale expected_version, 422 for an unknown step, 413 when the data would be too large)',
      tag: 'dialogs',
      body: updateInput,
      success: { status: 200, schema: dialogSchema },
      errors: [400, 403, 404, 409, 413, 422, 429],
    },
    access('write'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      const input = parseBody(ctx, updateInput);
      if (input.collected_data) refuseOverBounds(input.collected_data, input.replace_data);
      ctx.body = await media.signUserFiles(key.bot_id, await s.workflows.update(key.bot_id, key.platform, key.chat_id, input), s.now());
    },
  );

  router.op(
    'delete',
    path,
    {
      summary:
        'Reset the dialog to the beginning (needs ?confirm=true), or to the last or a named checkpoint (&to_checkpoint=true|<step_id>, 422 if not a checkpoint); history is kept',
      tag: 'dialogs',
      query: resetQuery,
      success: { status: 200, schema: dialogSchema },
      errors: [400, 403, 404, 409, 422, 429],
    },
    access('write'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      const q = parseQuery(ctx, resetQuery);
      ctx.body = await media.signUserFiles(
        key.bot_id,
        await s.workflows.reset(key.bot_id, key.platform, key.chat_id, { to_checkpoint: q.to_checkpoint }),
        s.now(),
      );
    },
  );

  router.op(
    'post',
    `${path}/close`,
    {
      summary: 'Close the dialog’s conversation (status completed, no step); a later message starts a new one; history is kept',
      tag: 'dialogs',
      success: { status: 200, schema: dialogSchema },
      errors: [403, 404, 409, 429],
    },
    access('write'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      ctx.body = await media.signUserFiles(key.bot_id, await s.workflows.close(key.bot_id, key.platform, key.chat_id, { reason: 'operator' }), s.now());
    },
  );

  router.op(
    'get',
    `${path}/history`,
    {
      summary: 'Messages of the dialog, oldest first; format=csv streams every matching message',
      tag: 'dialogs',
      query: historyQuery,
      success: { status: 200, schema: pageOf(historyItemSchema), mediaTypes: ['application/json', 'text/csv'] },
      errors: [400, 404, 429],
    },
    access('read'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      const q = parseQuery(ctx, historyQuery);
      if (q.format === 'csv') {
        ctx.type = EXPORT_TYPES.csv;
        ctx.set('Content-Disposition', `attachment; filename="history-${key.platform}-${safeName(key.chat_id)}.csv"`);
        ctx.body = historyCsv(media.signUserFilesInPages(key.bot_id, s.dialogs.historyPages(key, q), s.now()));
        return;
      }
      const { items, total } = await s.dialogs.history(key, q);
      ctx.body = page(await media.signUserFiles(key.bot_id, items, s.now()), total, q);
    },
  );

  router.op(
    'get',
    `${path}/export`,
    {
      summary: 'The dialog and its whole history as json, csv (history), xml or pdf',
      tag: 'dialogs',
      query: exportQuery,
      success: { status: 200, mediaTypes: Object.values(EXPORT_TYPES).map((t) => t.split(';')[0]) },
      errors: [400, 404, 429],
    },
    access('read'),
    limited,
    async (ctx) => {
      const key = keyOf(ctx);
      const { format } = parseQuery(ctx, exportQuery);
      const found = await s.dialogs.get(key);
      if (!found) throw notFound('Dialog');
      const dialog = await media.signUserFiles(key.bot_id, found, s.now());
      const pages = media.signUserFilesInPages(key.bot_id, s.dialogs.historyPages(key, {}), s.now());
      ctx.type = EXPORT_TYPES[format];
      ctx.set('Content-Disposition', `attachment; filename="dialog-${key.platform}-${safeName(key.chat_id)}.${format}"`);
      ctx.body =
        format === 'csv'
          ? historyCsv(pages, dialog.user)
          : format === 'xml'
            ? dialogXml(dialog, pages)
            : format === 'pdf'
              ? dialogPdf(dialog, pages, PDF_FONT)
              : dialogJson(dialog, pages);
    },
  );

  return router;
}

function safeName(value: string): string {
  return value.replace(/[^\w.-]+/g, '_').slice(0, 100);
}
