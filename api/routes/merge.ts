import { z } from 'zod';
import { copyTranscript } from '../../src/analytics/merge';
import type { DialogKey } from '../../src/db/dialogs';
import { AppError, notFound, unprocessable } from '../../src/errors';
import type { CollectedData } from '../../src/engine/types';
import { PLATFORMS } from '../../src/platforms/types';
import { dialogWorkflowId } from '../../workflows/messages';
import type { Services } from '../deps';
import { ApiRouter } from '../openapi';
import { parseBody } from '../validation';

const side = z.object({ platform: z.enum(PLATFORMS), chat_id: z.string().min(1).max(128) });

/**
 * One customer on two platforms (CONTRACT.md §2 merge). The primary dialog gets the combined
 * collected data (through its workflow, the only writer of its state) and a copy of the secondary's
 * transcript under its own key; the secondary's conversation is closed by its workflow. Every part
 * is idempotent, so a retried request completes a merge that failed half-way.
 */
const mergeInput = z.object({ primary: side, secondary: side, strategy: z.enum(['prefer_primary', 'prefer_latest']).default('prefer_primary') });

export function mergeRoutes(s: Services): ApiRouter {
  const router = new ApiRouter();

  router.op(
    'post',
    '/v1/bots/:botId/dialogs/merge',
    {
      summary: 'Merge two dialogs of one customer: combined collected data and history on the primary, the secondary closed',
      tag: 'dialogs',
      body: mergeInput,
      success: { status: 200 },
      errors: [403, 404, 409, 422],
    },
    async (ctx) => {
      const bot = await s.botFor(ctx, ctx.params.botId, 'write');
      const input = parseBody(ctx, mergeInput);
      if (input.primary.platform === input.secondary.platform && input.primary.chat_id === input.secondary.chat_id) {
        throw unprocessable('same_dialog', 'The primary and the secondary are the same dialog.');
      }
      const primaryKey: DialogKey = { bot_id: bot.id, ...input.primary };
      const secondaryKey: DialogKey = { bot_id: bot.id, ...input.secondary };
      const [primaryRow, secondaryRow] = await Promise.all([s.dialogs.get(primaryKey), s.dialogs.get(secondaryKey)]);
      if (!primaryRow || !secondaryRow) throw notFound('Dialog');

      // Collected data: the live state of both workflows, combined by the strategy; retried when the
      // primary moved on between reading and writing (a user message in between).
      let primary;
      for (let attempt = 0; ; attempt++) {
        const [p, sec] = await Promise.all([
          s.workflows.state(bot.id, primaryKey.platform, primaryKey.chat_id),
          s.workflows.state(bot.id, secondaryKey.platform, secondaryKey.chat_id),
        ]);
        const secondaryWins = input.strategy === 'prefer_latest' && Date.parse(sec.last_interaction_at) > Date.parse(p.last_interaction_at);
        const combined: CollectedData = secondaryWins ? { ...p.collected_data, ...sec.collected_data } : { ...sec.collected_data, ...p.collected_data };
        try {
          primary = await s.workflows.update(bot.id, primaryKey.platform, primaryKey.chat_id, { collected_data: combined, expected_version: p.version });
          break;
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'stale_version') || attempt >= 4) throw error;
        }
      }

      const primaryId = dialogWorkflowId(bot.id, primaryKey.platform, primaryKey.chat_id);
      const secondaryId = dialogWorkflowId(bot.id, secondaryKey.platform, secondaryKey.chat_id);
      const copied = await copyTranscript(s.db, secondaryKey, primaryKey, `merge:${primaryId}:`);
      await s.dialogs.appendTranscript(primaryKey, [
        {
          message_type: 'system',
          text: `Merged the history of ${secondaryKey.platform} chat ${secondaryKey.chat_id} into this dialog.`,
          payload: { merged_from: { platform: secondaryKey.platform, chat_id: secondaryKey.chat_id }, strategy: input.strategy },
          step: null,
          dedupe_key: `merge:${primaryId}:from:${secondaryId}`,
          created_at: new Date(s.now()).toISOString(),
        },
      ]);
      const secondary = await s.workflows.close(bot.id, secondaryKey.platform, secondaryKey.chat_id, { reason: 'merged', merged_into: primaryId });
      ctx.state.log?.info(
        { event: 'STATE_CHANGE', bot_id: bot.id, workflow_id: secondaryId, merged_into: primaryId, copied_messages: copied },
        'dialogs merged',
      );
      ctx.body = { primary, secondary, copied_messages: copied, strategy: input.strategy };
    },
  );

  return router;
}
