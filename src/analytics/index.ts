/**
 * Analytics over what the dialog activities record: `dialog_events` (the engine's facts and the
 * workflow's own: dialog_started, step_entered, step_completed, input_invalid, condition_evaluated,
 * dialog_completed, dialog_abandoned, ...) and `dialog_messages` (the transcript).
 *
 * A *conversation* is one run of a scenario in a chat: it begins with a `dialog_started` event (first
 * message, `/start`, a message after the dialog finished, an operator's full reset) and lasts until
 * the next one. Scenario analytics count conversations, not chats, so a customer who books twice
 * counts twice. Computed in SQL (window functions), the same on PostgreSQL and SQLite.
 */
import { type Db, fromJson, isPostgres, toIso } from '../db';
import type { DialogKey } from '../db/dialogs';
import type { JsonValue } from '../engine/types';

const SEPARATOR = '\u001f';

function dialect(db: Db) {
  const pg = isPostgres(db);
  return {
    seconds: (later: string, earlier: string) =>
      pg ? `EXTRACT(EPOCH FROM (${later} - ${earlier}))` : `((julianday(${later}) - julianday(${earlier})) * 86400.0)`,
    text: (column: string, field: string) => (pg ? `(${column}->>'${field}')` : `json_extract(${column}, '$.${field}')`),
    /** Steps of a conversation in order, joined by SEPARATOR (SQLite keeps the subquery's order). */
    pathAggregate: pg ? `string_agg(step, chr(31) ORDER BY id)` : `group_concat(step, char(31))`,
  };
}

export interface ScenarioAnalytics {
  scenario_id: string;
  from: string | null;
  to: string | null;
  dialogs: {
    started: number;
    completed: number;
    abandoned: number;
    in_progress: number;
    completion_rate: number;
    average_completion_seconds: number | null;
  };
  steps: { step: string; entered: number; completed: number; drop_off: number; drop_off_rate: number; input_errors: number }[];
  paths: { steps: string[]; count: number; completed: number }[];
  input_errors: { step: string; count: number }[];
  conditions: { step: string; condition: string; true: number; false: number }[];
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const asNumber = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
const asBoolean = (value: unknown) => value === true || value === 1 || value === '1' || value === 'true';

/** Per-step counts, drop-off, completion, common paths, input errors and condition outcomes of one scenario version. */
export async function scenarioAnalytics(db: Db, scenarioId: string, window: { from?: string; to?: string } = {}): Promise<ScenarioAnalytics> {
  const d = dialect(db);
  const from = window.from ? new Date(window.from).toISOString() : null;
  const to = window.to ? new Date(window.to).toISOString() : null;

  // Events of this scenario version, numbered by conversation within their chat; and the
  // conversations that began inside the window.
  const prefix = `
    WITH ev AS (
      SELECT id, bot_id, platform, chat_id, kind, step, data, created_at,
             SUM(CASE WHEN kind = 'dialog_started' THEN 1 ELSE 0 END)
               OVER (PARTITION BY bot_id, platform, chat_id ORDER BY id) AS conversation
      FROM dialog_events
      WHERE scenario_id = ?
    ),
    conversations AS (
      SELECT bot_id, platform, chat_id, conversation,
             MIN(created_at) AS started_at,
             MIN(CASE WHEN kind = 'dialog_completed' THEN created_at END) AS completed_at,
             MAX(CASE WHEN kind = 'dialog_abandoned' THEN 1 ELSE 0 END) AS abandoned
      FROM ev
      WHERE conversation > 0
      GROUP BY bot_id, platform, chat_id, conversation
    ),
    chosen AS (
      SELECT * FROM conversations
      WHERE 1 = 1 ${from ? 'AND started_at >= ?' : ''} ${to ? 'AND started_at <= ?' : ''}
    ),
    cev AS (
      SELECT ev.* FROM ev
      JOIN chosen c ON c.bot_id = ev.bot_id AND c.platform = ev.platform AND c.chat_id = ev.chat_id AND c.conversation = ev.conversation
    )`;
  const base = [scenarioId, ...(from ? [from] : []), ...(to ? [to] : [])];
  const run = async <T>(sql: string): Promise<T[]> => {
    // knex leaves a raw answer untyped: PostgreSQL's is a result object, SQLite's the rows themselves.
    const result: unknown = await db.raw(`${prefix} ${sql}`, base);
    return (isPostgres(db) ? (result as { rows: T[] }).rows : result) as T[];
  };

  const [totals] = await run<{ started: unknown; completed: unknown; abandoned: unknown; average_seconds: unknown }>(`
    SELECT COUNT(*) AS started,
           SUM(CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END) AS completed,
           SUM(CASE WHEN completed_at IS NULL AND abandoned = 1 THEN 1 ELSE 0 END) AS abandoned,
           AVG(CASE WHEN completed_at IS NOT NULL THEN ${d.seconds('completed_at', 'started_at')} END) AS average_seconds
    FROM chosen`);

  // A step counts as completed when the conversation moved on from it (to another step or to the end).
  const stepRows = await run<{ step: string; entered: unknown; completed: unknown }>(`
    , flow AS (
      SELECT kind, step, LEAD(kind) OVER (PARTITION BY bot_id, platform, chat_id, conversation ORDER BY id) AS next_kind
      FROM cev
      WHERE kind IN ('step_entered', 'dialog_completed', 'dialog_abandoned', 'dialog_closed')
    )
    SELECT step, COUNT(*) AS entered,
           SUM(CASE WHEN next_kind IN ('step_entered', 'dialog_completed') THEN 1 ELSE 0 END) AS completed
    FROM flow WHERE kind = 'step_entered'
    GROUP BY step`);

  // Drop-off: conversations that did not complete, by the last step they entered.
  const dropRows = await run<{ step: string; n: unknown }>(`
    , last_steps AS (
      SELECT cev.bot_id, cev.platform, cev.chat_id, cev.conversation, cev.step,
             ROW_NUMBER() OVER (PARTITION BY cev.bot_id, cev.platform, cev.chat_id, cev.conversation ORDER BY cev.id DESC) AS rn
      FROM cev WHERE cev.kind = 'step_entered'
    )
    SELECT l.step, COUNT(*) AS n
    FROM last_steps l
    JOIN chosen c ON c.bot_id = l.bot_id AND c.platform = l.platform AND c.chat_id = l.chat_id AND c.conversation = l.conversation
    WHERE l.rn = 1 AND c.completed_at IS NULL
    GROUP BY l.step`);

  const errorRows = await run<{ step: string; n: unknown }>(`
    SELECT step, COUNT(*) AS n FROM cev WHERE kind = 'input_invalid' GROUP BY step`);

  const conditionRows = await run<{ step: string; condition: string; result: unknown; n: unknown }>(`
    SELECT step, ${d.text('data', 'condition')} AS condition, ${d.text('data', 'result')} AS result, COUNT(*) AS n
    FROM cev WHERE kind = 'condition_evaluated'
    GROUP BY step, ${d.text('data', 'condition')}, ${d.text('data', 'result')}`);

  const pathRows = await run<{ path: string; n: unknown; completed: unknown }>(`
    , ordered AS (
      SELECT bot_id, platform, chat_id, conversation, step, id FROM cev WHERE kind = 'step_entered' ORDER BY bot_id, platform, chat_id, conversation, id
    ),
    paths AS (
      SELECT bot_id, platform, chat_id, conversation, ${d.pathAggregate} AS path
      FROM ordered GROUP BY bot_id, platform, chat_id, conversation
    )
    SELECT p.path, COUNT(*) AS n, SUM(CASE WHEN c.completed_at IS NOT NULL THEN 1 ELSE 0 END) AS completed
    FROM paths p
    JOIN chosen c ON c.bot_id = p.bot_id AND c.platform = p.platform AND c.chat_id = p.chat_id AND c.conversation = p.conversation
    GROUP BY p.path
    ORDER BY COUNT(*) DESC, p.path
    LIMIT 10`);

  const started = asNumber(totals?.started);
  const completed = asNumber(totals?.completed);
  const abandoned = asNumber(totals?.abandoned);
  const drops = new Map(dropRows.map((r) => [r.step, asNumber(r.n)]));
  const inputErrors = new Map(errorRows.map((r) => [r.step, asNumber(r.n)]));

  const conditions = new Map<string, ScenarioAnalytics['conditions'][number]>();
  for (const row of conditionRows) {
    const key = `${row.step}${SEPARATOR}${row.condition}`;
    const entry = conditions.get(key) ?? { step: row.step, condition: row.condition, true: 0, false: 0 };
    entry[asBoolean(row.result) ? 'true' : 'false'] += asNumber(row.n);
    conditions.set(key, entry);
  }

  return {
    scenario_id: scenarioId,
    from,
    to,
    dialogs: {
      started,
      completed,
      abandoned,
      in_progress: started - completed - abandoned,
      completion_rate: started === 0 ? 0 : round(completed / started),
      average_completion_seconds: totals?.average_seconds === null || totals?.average_seconds === undefined ? null : round(Number(totals.average_seconds), 1),
    },
    steps: stepRows
      .map((r) => {
        const entered = asNumber(r.entered);
        const dropOff = drops.get(r.step) ?? 0;
        return {
          step: r.step,
          entered,
          completed: asNumber(r.completed),
          drop_off: dropOff,
          drop_off_rate: entered === 0 ? 0 : round(dropOff / entered),
          input_errors: inputErrors.get(r.step) ?? 0,
        };
      })
      .sort((a, b) => b.entered - a.entered || a.step.localeCompare(b.step)),
    paths: pathRows.map((r) => ({ steps: String(r.path).split(SEPARATOR), count: asNumber(r.n), completed: asNumber(r.completed) })),
    input_errors: [...inputErrors].map(([step, count]) => ({ step, count })).sort((a, b) => b.count - a.count || a.step.localeCompare(b.step)),
    conditions: [...conditions.values()].sort((a, b) => a.step.localeCompare(b.step) || a.condition.localeCompare(b.condition)),
  };
}

export interface DialogAnalytics {
  bot_id: string;
  platform: string;
  chat_id: string;
  first_message_at: string | null;
  last_message_at: string | null;
  duration_seconds: number;
  conversations: number;
  messages: { user: number; bot: number };
  response_times: { count: number; average_ms: number | null; median_ms: number | null; max_ms: number | null };
  steps: { step: string; entered_at: string; left_at: string | null; seconds: number | null }[];
  errors: { at: string; step: string | null; kind: string; code: string | null; message: string | null }[];
  variables: { variable: string; value: JsonValue; step: string | null; at: string }[];
  collected_data: Record<string, JsonValue>;
}

/** One dialog's duration, response times, steps timeline, errors and collected variables. */
export async function dialogAnalytics(db: Db, key: DialogKey): Promise<DialogAnalytics> {
  const d = dialect(db);
  const where = { bot_id: key.bot_id, platform: key.platform, chat_id: key.chat_id };

  const [span] = await db('dialog_messages')
    .where(where)
    .select<{ first_at: unknown; last_at: unknown; users: unknown; bots: unknown }[]>(
      db.raw('MIN(created_at) AS first_at'),
      db.raw('MAX(created_at) AS last_at'),
      db.raw(`SUM(CASE WHEN message_type = 'user' THEN 1 ELSE 0 END) AS users`),
      db.raw(`SUM(CASE WHEN message_type = 'bot' THEN 1 ELSE 0 END) AS bots`),
    );

  // Each user message against the first bot message sent after it.
  const answered = await db('dialog_messages as u')
    .where({ 'u.bot_id': key.bot_id, 'u.platform': key.platform, 'u.chat_id': key.chat_id, 'u.message_type': 'user' })
    .select(
      db.raw(
        `${d.seconds(
          `(SELECT MIN(b.created_at) FROM dialog_messages b WHERE b.bot_id = u.bot_id AND b.platform = u.platform AND b.chat_id = u.chat_id AND b.message_type = 'bot' AND b.created_at >= u.created_at)`,
          'u.created_at',
        )} AS seconds`,
      ),
    );
  const responseMs = (answered as { seconds: unknown }[])
    .filter((r) => r.seconds !== null && r.seconds !== undefined)
    .map((r) => Math.round(Number(r.seconds) * 1000))
    .sort((a, b) => a - b);

  const events = await db('dialog_events')
    .where(where)
    .whereIn('kind', ['step_entered', 'dialog_completed', 'dialog_abandoned', 'dialog_closed', 'dialog_started', 'error', 'input_invalid', 'variable_set'])
    .orderBy('id')
    .select<{ kind: string; step: string | null; data: unknown; created_at: unknown }[]>('kind', 'step', 'data', 'created_at');

  const steps: DialogAnalytics['steps'] = [];
  const errors: DialogAnalytics['errors'] = [];
  const variables: DialogAnalytics['variables'] = [];
  let conversations = 0;
  for (const event of events) {
    const at = toIso(event.created_at) as string;
    const data = fromJson<{ code?: string; error?: string; message?: string; variable?: string; value?: JsonValue }>(event.data, {});
    const open = steps.at(-1);
    const closeOpen = () => {
      if (open && open.left_at === null) {
        open.left_at = at;
        open.seconds = round((Date.parse(at) - Date.parse(open.entered_at)) / 1000, 1);
      }
    };
    if (event.kind === 'step_entered' && event.step) {
      closeOpen();
      steps.push({ step: event.step, entered_at: at, left_at: null, seconds: null });
    } else if (event.kind === 'dialog_completed' || event.kind === 'dialog_abandoned' || event.kind === 'dialog_closed' || event.kind === 'dialog_started') {
      closeOpen();
      if (event.kind === 'dialog_started') conversations += 1;
    } else if (event.kind === 'error' || event.kind === 'input_invalid') {
      const code = event.kind === 'input_invalid' ? 'input_invalid' : (data.code ?? null);
      const message = event.kind === 'input_invalid' ? (data.error ?? null) : (data.message ?? null);
      errors.push({ at, step: event.step, kind: event.kind, code, message });
    } else if (event.kind === 'variable_set') {
      variables.push({ variable: String(data.variable), value: data.value ?? null, step: event.step, at });
    }
  }

  const row = await db('dialogs').where(where).first<{ collected_data: unknown } | undefined>('collected_data');
  const firstAt = toIso(span?.first_at);
  const lastAt = toIso(span?.last_at);
  const median =
    responseMs.length === 0
      ? null
      : responseMs.length % 2 === 1
        ? responseMs[(responseMs.length - 1) / 2]
        : Math.round((responseMs[responseMs.length / 2 - 1] + responseMs[responseMs.length / 2]) / 2);
  return {
    ...key,
    first_message_at: firstAt,
    last_message_at: lastAt,
    duration_seconds: firstAt && lastAt ? round((Date.parse(lastAt) - Date.parse(firstAt)) / 1000, 1) : 0,
    conversations,
    messages: { user: asNumber(span?.users), bot: asNumber(span?.bots) },
    response_times: {
      count: responseMs.length,
      average_ms: responseMs.length === 0 ? null : Math.round(responseMs.reduce((a, b) => a + b, 0) / responseMs.length),
      median_ms: median,
      max_ms: responseMs.length === 0 ? null : responseMs[responseMs.length - 1],
    },
    steps,
    errors,
    variables,
    collected_data: fromJson(row?.collected_data, {}),
  };
}
