/**
 * Several active scenarios in one bot (CONTRACT §2 Scenarios, §3 triggers), on the real stack:
 * webhooks → workflow → activities → database, on both databases. Booking is the default; a menu
 * scenario starts on `/menu` or the word "menu" in any dialog, except during a handoff.
 */
import { Worker } from '@temporalio/worker';
import { ROUTES_CACHE_TTL_MS } from '../../activities';
import { scenariosRepository } from '../../src/db/scenarios';
import type { Scenario } from '../../src/engine/types';
import { dialogWorkflowId } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack, testWorkflowCode } from '../support/stack';
import { type Harness, startHarness } from './harness';
import { bookingScenario } from './scenarios';

const booking = { ...bookingScenario, settings: { ...bookingScenario.settings, triggers: { commands: ['/book'], keywords: ['book', 'table booking'] } } };

const menu = {
  version: '1.0',
  name: 'Menu',
  start_step: 'show_menu',
  settings: { triggers: { commands: ['/menu'], keywords: ['menu', 'carte'] } },
  steps: {
    show_menu: {
      id: 'show_menu',
      type: 'message',
      message: { text: 'Starters, desserts, or shall I call a waiter?' },
      expected_input: { type: 'text', variable: 'course' },
      conditions: [{ condition: 'course == waiter', next_step: 'call_waiter' }],
      next_step: 'course_reply',
    },
    course_reply: { id: 'course_reply', type: 'message', message: { text: 'Our {{course}} are lovely.' }, next_step: null },
    call_waiter: { id: 'call_waiter', type: 'action', action: { type: 'handoff', reason: 'waiter' }, message: { text: 'A waiter is coming.' } },
  },
};

describe.each(DB_KINDS)('routing between active scenarios (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let menuId: string;
  let update = 1;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: booking });
    const created = await stack.http.post(`/v1/bots/${bot.id}/scenarios`).set(bot.headers).send({ name: 'menu', scenario_data: menu });
    expect(created.status).toBe(201);
    menuId = created.body.id;
    const activated = await stack.http.post(`/v1/scenarios/${menuId}/activate`).set(bot.headers).send({ active: true });
    expect(activated.body).toMatchObject({ is_active: true, is_default: false });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  const textsTo = (chat: number) =>
    tg
      .callsTo('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chat))
      .map((c) => c.body.text as string);
  const dialogRow = (chat: number) =>
    stack
      .db('dialogs')
      .where({ bot_id: bot.id, chat_id: String(chat) })
      .first('version', 'scenario_id', 'current_step', 'status', 'collected_data');
  let sent = new Map<number, number>();
  /** Sends one message and waits until the dialog recorded its turn. */
  const say = async (chat: number, text: string) => {
    const req = telegramUpdate({ updateId: update++, chatId: chat, text, secret: bot.webhookSecret });
    const res = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);
    expect(res.status).toBe(200);
    const count = (sent.get(chat) ?? 0) + 1;
    sent.set(chat, count);
    await eventually(
      async () => {
        const row = await dialogRow(chat);
        return row && Number(row.version) >= count ? row : undefined;
      },
      20_000,
      `turn ${count} of ${chat} recorded`,
    );
  };
  /** The replies a chat got since the last call. */
  const seen = new Map<number, number>();
  const newTexts = (chat: number) => {
    const all = textsTo(chat);
    const fresh = all.slice(seen.get(chat) ?? 0);
    seen.set(chat, all.length);
    return fresh;
  };
  const dataOf = (row: { collected_data: unknown }) => (typeof row.collected_data === 'string' ? JSON.parse(row.collected_data) : row.collected_data);

  beforeEach(() => {
    sent = new Map();
  });

  it('starts the default, switches on a trigger with fresh data, and back on a keyword or /start', async () => {
    const chat = 6001;
    await say(chat, 'hello');
    expect(newTexts(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    await say(chat, 'Anna');
    expect(newTexts(chat)).toEqual(['How many guests, Anna?']);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: bot.scenarioId, current_step: 'ask_guests' });

    // Mid-booking, /menu starts the menu afresh: the command is not an answer to "How many guests?".
    await say(chat, '/menu');
    expect(newTexts(chat)).toEqual(['Starters, desserts, or shall I call a waiter?']);
    const row = await dialogRow(chat);
    expect(row).toMatchObject({ scenario_id: menuId, current_step: 'show_menu', status: 'active' });
    expect(dataOf(row)).toEqual({});
    await say(chat, 'desserts');
    expect(newTexts(chat)).toEqual(['Our desserts are lovely.']);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: menuId, status: 'completed' });

    // A keyword of the booking, as a whole word in a sentence, starts the booking again.
    await say(chat, 'Can I book a table?');
    expect(newTexts(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    await say(chat, 'Bea');
    expect(newTexts(chat)).toEqual(['How many guests, Bea?']);
    // Mid-booking, the booking's own keyword is an answer like any other (here: not a number).
    await say(chat, 'book');
    expect(newTexts(chat)).toHaveLength(1);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: bot.scenarioId, current_step: 'ask_guests' });
    // "Menu?" is the menu's keyword, whatever its case and punctuation.
    await say(chat, 'Menu?');
    expect(newTexts(chat)).toEqual(['Starters, desserts, or shall I call a waiter?']);
    // /start starts the bot's default scenario.
    await say(chat, '/start');
    expect(newTexts(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: bot.scenarioId, current_step: 'ask_name' });

    const events = await stack
      .db('dialog_events')
      .where({ bot_id: bot.id, chat_id: String(chat) })
      .whereIn('kind', ['scenario_switched', 'dialog_started'])
      .orderBy('id')
      .select('kind', 'scenario_id', 'data');
    const parsed = events.map((e: { kind: string; scenario_id: string; data: unknown }) => ({
      kind: e.kind,
      scenario_id: e.scenario_id,
      data: typeof e.data === 'string' ? JSON.parse(e.data) : e.data,
    }));
    expect(parsed.map((e) => [e.kind, e.scenario_id === menuId ? 'menu' : 'booking', e.data.reason ?? e.data.trigger])).toEqual([
      ['dialog_started', 'booking', 'first_message'],
      ['scenario_switched', 'menu', '/menu'],
      ['dialog_started', 'menu', 'trigger'],
      ['scenario_switched', 'booking', 'book'],
      ['dialog_started', 'booking', 'trigger'],
      ['scenario_switched', 'menu', 'menu'],
      ['dialog_started', 'menu', 'trigger'],
      ['dialog_started', 'booking', 'restart'],
    ]);
    expect(parsed[1].data).toMatchObject({ trigger_kind: 'command', from_scenario_id: bot.scenarioId, from_step: 'ask_guests', to_scenario_id: menuId });

    // What a worker that lost the dialog from its cache does: replay it from its history, routing the same way.
    const history = await stack.temporal.workflow.getHandle(dialogWorkflowId(bot.id, 'telegram', String(chat))).fetchHistory();
    await Worker.runReplayHistory(testWorkflowCode(), history);
  });

  it('starts a new dialog on the scenario its first message triggers', async () => {
    const chat = 6002;
    await say(chat, 'What is on the carte today?');
    expect(newTexts(chat)).toEqual(['Starters, desserts, or shall I call a waiter?']);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: menuId, current_step: 'show_menu' });
  });

  it('routes nothing during a handoff', async () => {
    const chat = 6003;
    await say(chat, '/menu');
    await say(chat, 'waiter');
    expect(newTexts(chat)).toEqual(['Starters, desserts, or shall I call a waiter?', 'A waiter is coming.']);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: menuId, status: 'handoff' });
    await say(chat, '/book');
    await say(chat, 'table booking please');
    expect(newTexts(chat)).toEqual([]);
    expect(await dialogRow(chat)).toMatchObject({ scenario_id: menuId, status: 'handoff' });
  });

  it('counts each scenario’s conversations and steps in its own analytics', async () => {
    const analytics = async (id: string) => {
      const res = await stack.http.get(`/v1/scenarios/${id}/analytics`).set(bot.headers);
      expect(res.status).toBe(200);
      return res.body;
    };
    const stepsOf = (a: { steps: { step: string; entered: number }[] }) => Object.fromEntries(a.steps.map((s) => [s.step, s.entered]));
    const bookingStats = await analytics(bot.scenarioId);
    const menuStats = await analytics(menuId);
    // Booking: 6001 three times (first message, "book", /start). Menu: 6001 twice, 6002, 6003.
    expect(bookingStats.dialogs.started).toBe(3);
    expect(stepsOf(bookingStats)).toEqual({ welcome: 3, ask_name: 3, ask_guests: 2 });
    expect(menuStats.dialogs).toMatchObject({ started: 4, completed: 1 });
    expect(stepsOf(menuStats)).toEqual({ show_menu: 4, course_reply: 1, call_waiter: 1 });
  });
});

describe('a running dialog learns of a scenario activated after it started', () => {
  let tg: FakeTelegram;
  let h: Harness;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    h = await startHarness({ telegram: tg, scenario: booking });
  });
  afterAll(async () => {
    await h?.close();
    await tg.close();
  });

  const waitTexts = (chat: number, count: number) =>
    eventually(() => (h.textsTo(chat).length >= count ? h.textsTo(chat) : undefined), 20_000, `${count} texts to ${chat}`);

  it('once its trigger table is over a minute old, at the next message', async () => {
    const chat = 7001;
    await h.send(chat, 'hello');
    await waitTexts(chat, 2);
    await scenariosRepository(h.db).createVersion({ bot_id: h.botId, name: 'menu', scenario_data: menu as unknown as Scenario, warnings: [], activate: true });
    // The worker's activities keep a bot's table for a few seconds of real time; the dialog keeps its
    // own for a minute of workflow time.
    await new Promise((resolve) => setTimeout(resolve, ROUTES_CACHE_TTL_MS + 100));
    await h.env!.sleep('2 minutes');
    await h.send(chat, '/menu');
    expect((await waitTexts(chat, 3))[2]).toBe('Starters, desserts, or shall I call a waiter?');
    expect(await h.state(chat)).toMatchObject({ current_step: 'show_menu', status: 'active' });
  });
});
