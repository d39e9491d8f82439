import type { Db } from '../db';
import type { DialogKey } from '../db/dialogs';

/**
 * Copies one dialog's transcript under another dialog's key, keeping each row's time (so the merged
 * history reads in order) and deriving each copy's dedupe key from the original's: copying again
 * adds nothing. Returns how many rows the source has.
 */
export async function copyTranscript(db: Db, from: DialogKey, to: DialogKey, dedupePrefix: string): Promise<number> {
  const rows = await db('dialog_messages')
    .where({ bot_id: from.bot_id, platform: from.platform, chat_id: from.chat_id })
    .orderBy('id')
    .select<Record<string, unknown>[]>('message_type', 'text', 'payload', 'step', 'platform_message_id', 'dedupe_key', 'created_at');
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200).map((row) => ({
      ...row,
      payload: row.payload === null || typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
      bot_id: to.bot_id,
      platform: to.platform,
      chat_id: to.chat_id,
      dedupe_key: `${dedupePrefix}${String(row.dedupe_key)}`.slice(0, 400),
    }));
    await db('dialog_messages').insert(chunk).onConflict('dedupe_key').ignore();
  }
  return rows.length;
}
