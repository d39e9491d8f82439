/**
 * Chat commands as the spec says them, and an operator's edits and resets that cannot wipe data by
 * accident (CONTRACT §2 Dialogs PUT/DELETE, §3 commands), through the HTTP API, the webhook and a
 * real worker.
 */
import { dialogsRepository } from '../../src/db/dialogs';
import { MAX_VALUE_BYTES } from '../../src/engine/bounds';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { bookingScenario } from './scenarios';

/** The booking with a second checkpoint, so "the last checkpoint" and a named one differ. */
const scenario = {
  ...bookingScenario,
  steps: { ...bookingScenario.steps, ask_guests: { ...bookingScenario.steps.ask_guests, checkpoint: true } },
};
const HELP = bookingScenario.settings.help_message;

interface HistoryItem {
  message_type: string;
  text: string | null;
  payload: unknown;
}

describe.each(DB_KINDS)('operator edits, resets and chat commands (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let updateId = 1;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000005:AAH-operator' }, scenario });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
  });

  const dialogPath = (chat: number) => `/v1/bots/${bot.id}/dialogs/telegram/${chat}`;
  const state = async (chat: number) => (await stack.http.get(dialogPath(chat)).set(bot.headers)).body;
  const put = (chat: number, body: object) => stack.http.put(dialogPath(chat)).set(bot.headers).send(body);
  const reset = (chat: number, query = '') => stack.http.delete(`${dialogPath(chat)}?confirm=true${query}`).set(bot.headers);
  const history = async (chat: number, query = ''): Promise<HistoryItem[]> =>
    (await stack.http.get(`${dialogPath(chat)}/history?limit=500${query}`).set(bot.headers)).body.items;
  const repliesTo = (chat: number) =>
    tg
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chat))
      .map((c) => c.body.text as string);

  /** Sends a message and waits until the dialog has recorded its turn (replies are sent before that). */
  async function send(chat: number, message: { text: string } | { callbackData: string }) {
    const before = (await state(chat)).version as number;
    const req = telegramUpdate({ updateId: updateId++, chatId: chat, secret: bot.webhookSecret, ...message });
    expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body)).status).toBe(200);
    return eventually(
      async () => {
        const after = await state(chat);
        return after.version > before ? after : undefined;
      },
      20_000,
      `the turn of "${JSON.stringify(message)}" in chat ${chat}`,
    );
  }
  const say = (chat: number, text: string) => send(chat, { text });

  /** A booking at the time question: name and guests answered, last checkpoint ask_guests. */
  async function atPickTime(chat: number) {
    await say(chat, '/start');
    await say(chat, 'Anna');
    const at = await say(chat, '4');
    expect(at).toMatchObject({ current_step: 'pick_time', collected_data: { user_name: 'Anna', guests: 4 } });
    return at;
  }

  it('PUT merges into the data, removes a key set to null, replaces on request, moves last_interaction_at, and refuses a stale version', async () => {
    const chat = 5101;
    const start = await atPickTime(chat);

    const merged = (await put(chat, { collected_data: { guests: 6, note: 'window seat' }, expected_version: start.version }).expect(200)).body;
    expect(merged).toMatchObject({ current_step: 'pick_time', version: start.version + 1 });
    expect(merged.collected_data).toEqual({ user_name: 'Anna', guests: 6, note: 'window seat' });
    expect(Date.parse(merged.last_interaction_at)).toBeGreaterThan(Date.parse(start.last_interaction_at));

    const removed = (await put(chat, { collected_data: { note: null }, expected_version: merged.version }).expect(200)).body;
    expect(removed.collected_data).toEqual({ user_name: 'Anna', guests: 6 });
    expect(Date.parse(removed.last_interaction_at)).toBeGreaterThan(Date.parse(merged.last_interaction_at));

    const stale = (await put(chat, { collected_data: { guests: 1 }, expected_version: merged.version }).expect(409)).body;
    expect(stale.error.code).toBe('stale_version');
    expect((await state(chat)).collected_data).toEqual({ user_name: 'Anna', guests: 6 });

    const replaced = (await put(chat, { collected_data: { vip: true }, replace_data: true, expected_version: removed.version }).expect(200)).body;
    expect(replaced).toMatchObject({ current_step: 'pick_time', collected_data: { vip: true } });
    expect(replaced.collected_data).toEqual({ vip: true });

    // The rows the API lists from say the same.
    const row = await dialogsRepository(stack.db).get({ bot_id: bot.id, platform: 'telegram', chat_id: String(chat) });
    expect(row).toMatchObject({ collected_data: { vip: true }, last_interaction_at: replaced.last_interaction_at });

    // The dialog goes on from there with the data the operator left.
    const booked = await send(chat, { callbackData: '18' });
    expect(booked).toMatchObject({ status: 'completed', collected_data: { vip: true, time: '18', booked: true } });
  });

  it('refuses, with 413 and no change, data that would pass the bounds only once merged', async () => {
    const chat = 5102;
    let current = await atPickTime(chat);
    const big = 'x'.repeat(MAX_VALUE_BYTES - 1000);
    for (const key of ['a', 'b', 'c']) current = (await put(chat, { collected_data: { [key]: big }, expected_version: current.version }).expect(200)).body;

    // Two more values: each and both together are under the bounds, the merged data is not.
    const refused = (await put(chat, { collected_data: { d: big, e: big }, expected_version: current.version }).expect(413)).body;
    expect(refused.error.code).toBe('data_too_large');
    const after = await state(chat);
    expect(after.version).toBe(current.version);
    expect(Object.keys(after.collected_data).sort()).toEqual(['a', 'b', 'c', 'guests', 'user_name']);

    // Removing keys in the same change makes room.
    const swapped = (await put(chat, { collected_data: { a: null, b: null, d: big, e: big }, expected_version: current.version }).expect(200)).body;
    expect(Object.keys(swapped.collected_data).sort()).toEqual(['c', 'd', 'e', 'guests', 'user_name']);
    // A change that is over the bounds by itself never reaches the workflow.
    expect((await put(chat, { collected_data: { f: 'x'.repeat(MAX_VALUE_BYTES + 1) }, expected_version: swapped.version }).expect(413)).body.error.code).toBe(
      'value_too_large',
    );
  });

  it('DELETE resets to the last checkpoint or a named one keeping the data, or to the beginning with fresh data; history is kept', async () => {
    const chat = 5103;
    await atPickTime(chat);

    const last = (await reset(chat, '&to_checkpoint=true').expect(200)).body;
    expect(last).toMatchObject({ status: 'active', current_step: 'ask_guests', collected_data: { user_name: 'Anna', guests: 4 } });
    expect(repliesTo(chat).at(-1)).toBe('How many guests, Anna?');

    const named = (await reset(chat, '&to_checkpoint=ask_name').expect(200)).body;
    expect(named).toMatchObject({ current_step: 'ask_name', collected_data: { user_name: 'Anna', guests: 4 } });
    expect(repliesTo(chat).at(-1)).toBe('Your name?');

    expect((await reset(chat, '&to_checkpoint=pick_time').expect(422)).body.error.code).toBe('not_a_checkpoint');
    expect((await reset(chat, '&to_checkpoint=no_such_step').expect(422)).body.error.code).toBe('unknown_step');
    expect((await reset(chat, '&to_checkpoint=constructor').expect(422)).body.error.code).toBe('unknown_step');
    expect((await state(chat)).version).toBe(named.version);

    const fresh = (await reset(chat).expect(200)).body;
    expect(fresh).toMatchObject({ status: 'active', current_step: 'ask_name', collected_data: {} });
    expect(Date.parse(fresh.started_at)).toBeGreaterThan(Date.parse(named.started_at));
    expect(repliesTo(chat).slice(-2)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

    const rows = await history(chat);
    expect(rows.filter((r) => r.message_type === 'user').map((r) => r.text)).toEqual(['start', 'Anna', '4']);
    expect((await history(chat, '&message_type=system')).map((r) => r.text)).toEqual([
      'An operator reset the dialog to the last checkpoint.',
      'An operator reset the dialog to checkpoint "ask_name".',
      'An operator reset the dialog to the beginning.',
    ]);
  });

  it('POST close ends the conversation keeping its data and history; the next message starts a new one; an unknown dialog is 404', async () => {
    const chat = 5104;
    const at = await atPickTime(chat);
    const closed = await stack.http.post(`${dialogPath(chat)}/close`).set(bot.headers);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'completed', current_step: null, collected_data: { user_name: 'Anna', guests: 4 } });
    expect(closed.body.version).toBeGreaterThan(at.version);
    const events: { kind: string; data: unknown }[] = await stack.db('dialog_events').where({ bot_id: bot.id, chat_id: String(chat), kind: 'dialog_closed' });
    expect(events.map((event) => (typeof event.data === 'string' ? JSON.parse(event.data) : event.data))).toEqual([
      expect.objectContaining({ reason: 'operator' }),
    ]);
    expect((await history(chat, '&message_type=user')).map((item) => item.text)).toEqual(['start', 'Anna', '4']);

    const again = await say(chat, 'hello');
    expect(again).toMatchObject({ status: 'active', current_step: 'ask_name' });
    expect((await stack.http.post(`/v1/bots/${bot.id}/dialogs/telegram/5999/close`).set(bot.headers)).status).toBe(404);
  });

  it('/reset from the chat starts over with fresh data and leaves a system history row', async () => {
    const chat = 5104;
    await atPickTime(chat);
    const sentBefore = repliesTo(chat).length;

    const after = await say(chat, '/reset');
    expect(after).toMatchObject({ status: 'active', current_step: 'ask_name', collected_data: {} });
    expect(repliesTo(chat).slice(sentBefore)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

    const system = await history(chat, '&message_type=system');
    expect(system).toEqual([
      expect.objectContaining({
        message_type: 'system',
        text: 'The user reset the dialog to the beginning.',
        payload: { reset_by: 'user', to_checkpoint: false },
      }),
    ]);
    // In the whole history it comes after the user's /reset (a command is written by its name) and before the replies to it.
    const texts = (await history(chat)).map((r) => r.text);
    expect(texts.slice(texts.indexOf('reset'))).toEqual(['reset', 'The user reset the dialog to the beginning.', 'Welcome to Chez Anna!', 'Your name?']);
  });

  it('/help sends the help message and starts nothing, on a new dialog and on a finished one', async () => {
    const fresh = 5105;
    const helped = await say(fresh, '/help');
    expect(repliesTo(fresh)).toEqual([HELP]);
    expect(helped).toMatchObject({ status: 'active', current_step: null, collected_data: {} });

    const done = 5106;
    await atPickTime(done);
    const completed = await send(done, { callbackData: '20' });
    expect(completed).toMatchObject({ status: 'completed', collected_data: { user_name: 'Anna', guests: 4, time: '20', booked: true } });
    const sentBefore = repliesTo(done).length;
    const afterHelp = await say(done, '/help');
    expect(repliesTo(done).slice(sentBefore)).toEqual([HELP]);
    expect(afterHelp).toMatchObject({ status: 'completed', current_step: null, started_at: completed.started_at, collected_data: completed.collected_data });

    // The next message after the help starts the conversation as before.
    const started = await say(done, 'hello');
    expect(started).toMatchObject({ status: 'active', current_step: 'ask_name', collected_data: {} });
  });
});
