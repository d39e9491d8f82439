import type { DialogSnapshot } from '../dialog/contract';
import type { ChatUser, DialogStatus, JsonValue } from '../engine/types';
import type { DialogPlatform } from '../platforms/types';
import { type Db, fromJson, toIso, toJson } from './index';

export interface DialogKey {
  bot_id: string;
  platform: DialogPlatform;
  chat_id: string;
}

/** The dialog's row: exactly the workflow's snapshot, which it projects. */
export type DialogRecord = DialogSnapshot;

/** A dialog as lists show it: its row, with the size and length of its conversation. */
export interface DialogListItem extends DialogRecord {
  /** Rows of its transcript: the user's messages, the bot's and the system's. */
  message_count: number;
  /** Seconds from the start of its conversation to its last interaction. */
  duration_s: number;
}

export type MessageType = 'user' | 'bot' | 'system';

export interface TranscriptEntry {
  message_type: MessageType;
  text: string | null;
  payload?: JsonValue;
  step: string | null;
  platform_message_id?: string | null;
  dedupe_key: string;
  created_at: string;
}

export interface DialogEventEntry {
  kind: string;
  step: string | null;
  data?: JsonValue;
  dedupe_key: string;
  created_at: string;
}

export interface HistoryItem {
  id: string;
  message_type: MessageType;
  text: string | null;
  payload: JsonValue;
  step: string | null;
  created_at: string;
}

/** A row as knex returns it. */
type Row = Record<string, unknown>;

function toDialog(row: Row): DialogRecord {
  return {
    bot_id: row.bot_id as string,
    platform: row.platform as DialogPlatform,
    chat_id: row.chat_id as string,
    workflow_id: row.workflow_id as string,
    status: row.status as DialogStatus,
    current_step: (row.current_step as string | null) ?? null,
    collected_data: fromJson(row.collected_data, {}),
    scenario_id: (row.scenario_id as string | null) ?? null,
    scenario_version: row.scenario_version === null || row.scenario_version === undefined ? null : Number(row.scenario_version),
    version: Number(row.version),
    started_at: toIso(row.started_at) as string,
    last_interaction_at: toIso(row.last_interaction_at) as string,
    user: fromJson<ChatUser | null>(row.user, null),
  };
}

function toListItem(row: Record<string, unknown>): DialogListItem {
  const dialog = toDialog(row);
  const seconds = (Date.parse(dialog.last_interaction_at) - Date.parse(dialog.started_at)) / 1000;
  return { ...dialog, message_count: Number(row.message_count ?? 0), duration_s: Math.max(0, Math.round(seconds)) };
}

function toHistoryItem(r: Record<string, unknown>): HistoryItem {
  return {
    id: String(r.id),
    message_type: r.message_type as HistoryItem['message_type'],
    text: (r.text as string | null) ?? null,
    payload: fromJson(r.payload, null),
    step: (r.step as string | null) ?? null,
    created_at: toIso(r.created_at) as string,
  };
}

/** Adds every string `media_id` in a JSON value to `ids`; a loop, as JSON nests deep. */
function collectMediaIds(value: unknown, ids: Set<string>): void {
  const pending: unknown[] = [value];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (typeof item !== 'object' || item === null) continue;
    const mediaId = (item as Record<string, unknown>).media_id;
    if (typeof mediaId === 'string') ids.add(mediaId);
    pending.push(...Object.values(item as Record<string, unknown>));
  }
}

export function dialogsRepository(db: Db) {
  return {
    /** Writes the workflow's state; an older revision never overwrites a newer one (retries can reorder). */
    async saveProjection(dialog: DialogRecord): Promise<void> {
      const row = {
        ...dialog,
        collected_data: toJson(dialog.collected_data),
        user: dialog.user ? toJson(dialog.user) : null,
        updated_at: new Date().toISOString(),
      };
      await db('dialogs').insert(row).onConflict(['bot_id', 'platform', 'chat_id']).merge().where('dialogs.version', '<=', dialog.version);
    },

    async get(key: DialogKey): Promise<DialogRecord | undefined> {
      const row = (await db('dialogs').where(key).first()) as Row | undefined;
      return row ? toDialog(row) : undefined;
    },

    async list(
      botId: string,
      filter: { platform?: string; status?: string; from_date?: string; to_date?: string; scenario_id?: string; limit: number; offset: number },
    ) {
      const query = db('dialogs')
        .where({ bot_id: botId })
        .modify((q) => {
          if (filter.platform) q.where('platform', filter.platform);
          if (filter.status) q.where('status', filter.status);
          if (filter.scenario_id) q.where('scenario_id', filter.scenario_id);
          if (filter.from_date) q.where('last_interaction_at', '>=', new Date(filter.from_date).toISOString());
          if (filter.to_date) q.where('last_interaction_at', '<=', new Date(filter.to_date).toISOString());
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      // Counted per row of the page only, on the transcript's (bot_id, platform, chat_id, ...) index.
      const messageCount = db('dialog_messages')
        .count('*')
        .where('dialog_messages.bot_id', db.ref('dialogs.bot_id'))
        .where('dialog_messages.platform', db.ref('dialogs.platform'))
        .where('dialog_messages.chat_id', db.ref('dialogs.chat_id'))
        .as('message_count');
      const rows = (await query.select('dialogs.*', messageCount).orderBy('last_interaction_at', 'desc').limit(filter.limit).offset(filter.offset)) as Row[];
      return { items: rows.map(toListItem), total: Number(total) };
    },

    async countByStatus(botId: string): Promise<Record<string, number>> {
      const rows = await db('dialogs').where({ bot_id: botId }).groupBy('status').select('status').count({ n: '*' });
      return Object.fromEntries((rows as { status: string; n: string | number }[]).map((r) => [r.status, Number(r.n)]));
    },

    /** Idempotent: an entry whose dedupe key is already stored is skipped. */
    async appendTranscript(key: DialogKey, entries: TranscriptEntry[]): Promise<void> {
      if (entries.length === 0) return;
      const rows = entries.map((e) => ({
        ...key,
        message_type: e.message_type,
        text: e.text,
        payload: e.payload === undefined ? null : toJson(e.payload),
        step: e.step,
        platform_message_id: e.platform_message_id ?? null,
        dedupe_key: e.dedupe_key,
        created_at: e.created_at,
      }));
      await db('dialog_messages').insert(rows).onConflict('dedupe_key').ignore();
    },

    async findTranscriptEntry(dedupeKey: string): Promise<{ platform_message_id: string | null } | undefined> {
      return db('dialog_messages').where({ dedupe_key: dedupeKey }).first('platform_message_id');
    },

    async appendEvents(key: DialogKey, scenarioId: string | null, events: DialogEventEntry[]): Promise<void> {
      if (events.length === 0) return;
      const rows = events.map((e) => ({
        ...key,
        scenario_id: scenarioId,
        kind: e.kind,
        step: e.step,
        data: e.data === undefined ? null : toJson(e.data),
        dedupe_key: e.dedupe_key,
        created_at: e.created_at,
      }));
      await db('dialog_events').insert(rows).onConflict('dedupe_key').ignore();
    },

    async activeWorkflowIds(botId: string): Promise<string[]> {
      const rows = await db('dialogs').where({ bot_id: botId, status: 'active' }).select('workflow_id');
      return rows.map((r: { workflow_id: string }) => r.workflow_id);
    },

    /** Dialogs still running on any of these scenario versions. */
    async countActiveOn(scenarioIds: string[]): Promise<number> {
      if (scenarioIds.length === 0) return 0;
      const [{ n }] = await db('dialogs').whereIn('scenario_id', scenarioIds).where('status', 'active').count<{ n: string | number }[]>({ n: '*' });
      return Number(n);
    },

    /**
     * Our media ids of the files the dialog's user sent: in the user rows of its transcript and in
     * its collected data (a stored file is `{"media_id": ...}` there).
     */
    async userMediaIds(key: DialogKey): Promise<string[]> {
      const [dialog, rows] = (await Promise.all([
        db('dialogs').where(key).first('collected_data'),
        db('dialog_messages')
          .where({ ...key, message_type: 'user' })
          .whereNotNull('payload')
          .select('payload'),
      ])) as [{ collected_data: unknown } | undefined, { payload: unknown }[]];
      const ids = new Set<string>();
      for (const value of [fromJson(dialog?.collected_data, null), ...rows.map((r) => fromJson(r.payload, null))]) collectMediaIds(value, ids);
      return [...ids];
    },

    /** Which of these media ids another dialog of the bot still refers to, in its transcript or data. */
    async mediaIdsUsedByOthers(key: DialogKey, mediaIds: readonly string[]): Promise<Set<string>> {
      const used = new Set<string>();
      const others = (table: string) =>
        db(table)
          .where({ bot_id: key.bot_id })
          .whereNot((q) => {
            q.where({ platform: key.platform, chat_id: key.chat_id });
          });
      for (const id of mediaIds) {
        const pattern = `%${id.replace(/[\\%_]/g, '')}%`;
        const [message, dialog] = (await Promise.all([
          others('dialog_messages').whereRaw('CAST(payload AS TEXT) LIKE ?', [pattern]).first('id'),
          others('dialogs').whereRaw('CAST(collected_data AS TEXT) LIKE ?', [pattern]).first('chat_id'),
        ])) as [Row | undefined, Row | undefined];
        if (message || dialog) used.add(id);
      }
      return used;
    },

    /** Every row of one dialog (its row, transcript and events), in one transaction; how many of each went. */
    async deleteDialog(key: DialogKey): Promise<{ dialogs: number; messages: number; events: number }> {
      return db.transaction(async (trx) => ({
        messages: Number(await trx('dialog_messages').where(key).delete()),
        events: Number(await trx('dialog_events').where(key).delete()),
        dialogs: Number(await trx('dialogs').where(key).delete()),
      }));
    },

    /**
     * The whole filtered history, oldest first, read in pages by key (not by offset), so an export of
     * any length holds one page in memory at a time.
     */
    async *historyPages(
      key: DialogKey,
      filter: { message_type?: MessageType; from_timestamp?: string; to_timestamp?: string },
      pageSize = 500,
    ): AsyncGenerator<HistoryItem[]> {
      let after: { created_at: unknown; id: unknown } | undefined;
      for (;;) {
        const rows = (await db('dialog_messages')
          .where(key)
          .modify((q) => {
            if (filter.message_type) q.where('message_type', filter.message_type);
            if (filter.from_timestamp) q.where('created_at', '>=', new Date(filter.from_timestamp).toISOString());
            if (filter.to_timestamp) q.where('created_at', '<=', new Date(filter.to_timestamp).toISOString());
            if (after) {
              const last = after;
              q.where((w) => {
                w.where('created_at', '>', last.created_at as string).orWhere((x) => {
                  x.where('created_at', last.created_at as string).where('id', '>', last.id as number);
                });
              });
            }
          })
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .limit(pageSize)) as Row[];
        if (rows.length === 0) return;
        yield rows.map(toHistoryItem);
        if (rows.length < pageSize) return;
        after = { created_at: rows[rows.length - 1].created_at, id: rows[rows.length - 1].id };
      }
    },

    async history(
      key: DialogKey,
      filter: { message_type?: MessageType; from_timestamp?: string; to_timestamp?: string; limit: number; offset: number },
    ): Promise<{ items: HistoryItem[]; total: number }> {
      const query = db('dialog_messages')
        .where(key)
        .modify((q) => {
          if (filter.message_type) q.where('message_type', filter.message_type);
          if (filter.from_timestamp) q.where('created_at', '>=', new Date(filter.from_timestamp).toISOString());
          if (filter.to_timestamp) q.where('created_at', '<=', new Date(filter.to_timestamp).toISOString());
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = (await query.orderBy('created_at', 'asc').orderBy('id', 'asc').limit(filter.limit).offset(filter.offset)) as Row[];
      return { total: Number(total), items: rows.map(toHistoryItem) };
    },
  };
}

export type DialogsRepository = ReturnType<typeof dialogsRepository>;
