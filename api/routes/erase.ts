import { z } from 'zod';
import { notFound } from '../../src/errors';
import type { DialogKey } from '../../src/db/dialogs';
import { mediaService } from '../../src/media';
import { isDialogPlatform } from '../../src/platforms';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { confirmation, parseQuery } from '../validation';

const eraseQuery = z.object({
  confirm: confirmation('Erasing a dialog deletes its state, history, events, the files its user sent and its Temporal histories for good'),
});

/** What the audit log keeps of a dialog's paths instead of its chat id. */
const ERASED_CHAT = '[erased]';

/** What an erasure removed: counts only, nothing that names the person. */
export interface Erasure {
  workflow_runs: number;
  dialogs: number;
  messages: number;
  events: number;
  files: number;
  audit_paths: number;
}

/**
 * Erases one customer's dialog for good. Order matters for a message arriving meanwhile: the
 * workflow is stopped first, so nothing writes the old state again; then the rows and files go;
 * last the stopped runs are deleted. A message after the stop starts a fresh dialog (a new run, left
 * running), which holds nothing of before.
 */
export async function eraseDialog(s: Services, accountId: string, key: DialogKey, requestId: string): Promise<Erasure> {
  const stoppedRunId = await s.workflows.stop(key.bot_id, key.platform, key.chat_id, `dialog erased (request ${requestId})`);

  const media = mediaService(s);
  const sent = await s.dialogs.userMediaIds(key);
  const keptForOthers = await s.dialogs.mediaIdsUsedByOthers(key, sent);
  const rows = await s.dialogs.deleteDialog(key);
  const files = await media.removeUserFiles(
    key.bot_id,
    sent.filter((id) => !keptForOthers.has(id)),
  );

  // Files users send are processed inside the dialog's turn; a processing workflow of one goes too.
  const workflowRuns = await s.workflows.deleteHistories(key.bot_id, key.platform, key.chat_id, stoppedRunId, files);

  const dialogPath = `/v1/bots/${key.bot_id}/dialogs/${key.platform}`;
  const forms = new Set([key.chat_id, encodeURIComponent(key.chat_id)]);
  let auditPaths = 0;
  for (const chat of forms) auditPaths += await s.audit.replacePathPrefix(accountId, `${dialogPath}/${chat}`, `${dialogPath}/${ERASED_CHAT}`);

  return { workflow_runs: workflowRuns, ...rows, files: files.length, audit_paths: auditPaths };
}

export function eraseRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();
  router.op(
    'post',
    '/v1/bots/:botId/dialogs/:platform/:chatId/erase',
    {
      summary:
        'Erase the customer’s data for good (needs ?confirm=true): the dialog’s workflow runs, its row, history, events and the files its user sent; the audit log keeps the erasure without the chat id',
      tag: 'dialogs',
      query: eraseQuery,
      success: { status: 204 },
      errors: [400, 403, 404, 429],
    },
    async (ctx, next) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const { platform, chatId } = ctx.params as { platform: string; chatId: string };
      if (!isDialogPlatform(platform)) throw notFound('Dialog');
      ctx.state.dialogKey = { bot_id: bot.id, platform, chat_id: chatId };
      // Set before anything can fail, so no record of this request names the chat.
      ctx.state.auditPath = `/v1/bots/${bot.id}/dialogs/${platform}/${ERASED_CHAT}/erase`;
      await next();
    },
    s.rateLimit('dialog_operations'),
    async (ctx) => {
      parseQuery(ctx, eraseQuery);
      const key = ctx.state.dialogKey as DialogKey;
      const erased = await eraseDialog(s, ctx.state.accountId as string, key, ctx.state.requestId);
      ctx.state.log.info({ bot_id: key.bot_id, platform: key.platform, erased }, 'dialog erased');
      ctx.status = 204;
    },
  );
  return router;
}
