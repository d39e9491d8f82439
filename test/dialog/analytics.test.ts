/**
 * Analytics and merge through the HTTP API, on dialogs that really ran (webhooks → workflow →
 * activities → events), on both databases.
 */
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { bookingScenario } from './scenarios';

const scenario = {
  ...bookingScenario,
  steps: {
    ...bookingScenario.steps,
    ask_guests: { ...bookingScenario.steps.ask_guests, conditions: [{ condition: 'guests > 8', next_step: 'large_party' }] },
    large_party: { id: 'large_party', type: 'message', message: { text: 'A manager will call you.' }, next_step: null },
  },
};

describe.each(DB_KINDS)('analytics and merge (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let update = 1;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario });
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
  /** Sends the messages one by one, each after the dialog answered the one before. */
  const talk = async (chat: number, messages: string[], expectedReplies: number) => {
    for (const text of messages) {
      const req = telegramUpdate({ updateId: update++, chatId: chat, text, secret: bot.webhookSecret });
      const res = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);
      expect(res.status).toBe(200);
    }
    await eventually(() => textsTo(chat).length >= expectedReplies || undefined, 20_000, `${expectedReplies} replies to ${chat}`);
    await eventually(
      async () => {
        const row = await stack
          .db('dialogs')
          .where({ bot_id: bot.id, chat_id: String(chat) })
          .first('version');
        return row && Number(row.version) >= messages.length ? row : undefined;
      },
      10_000,
      `dialog ${chat} recorded`,
    );
  };

  it('counts conversations, steps, drop-off, paths, input errors and condition outcomes of a scenario version', async () => {
    await talk(5001, ['/start', 'Anna', 'many', '4', '18'], 6);
    await talk(5002, ['/start', 'Bob'], 3);
    await talk(5003, ['/start', 'Cy', '12'], 4);

    const res = await stack.http.get(`/v1/scenarios/${bot.scenarioId}/analytics`).set(bot.headers);
    expect(res.status).toBe(200);
    const a = res.body;
    expect(a.dialogs).toMatchObject({ started: 3, completed: 2, abandoned: 0, in_progress: 1, completion_rate: 0.667 });
    expect(a.dialogs.average_completion_seconds).toBeGreaterThanOrEqual(0);
    const step = (id: string) => a.steps.find((s: { step: string }) => s.step === id);
    expect(step('welcome')).toMatchObject({ entered: 3, completed: 3, drop_off: 0 });
    expect(step('ask_name')).toMatchObject({ entered: 3, completed: 3, drop_off: 0 });
    expect(step('ask_guests')).toMatchObject({ entered: 3, completed: 2, drop_off: 1, drop_off_rate: 0.333, input_errors: 1 });
    expect(step('pick_time')).toMatchObject({ entered: 1, completed: 1 });
    expect(step('large_party')).toMatchObject({ entered: 1, completed: 1 });
    expect(a.input_errors).toEqual([{ step: 'ask_guests', count: 1 }]);
    expect(a.conditions).toEqual([{ step: 'ask_guests', condition: 'guests > 8', true: 1, false: 1 }]);
    expect(a.paths).toHaveLength(3);
    expect(a.paths).toEqual(
      expect.arrayContaining([
        { steps: ['welcome', 'ask_name', 'ask_guests', 'pick_time', 'confirm'], count: 1, completed: 1 },
        { steps: ['welcome', 'ask_name', 'ask_guests'], count: 1, completed: 0 },
        { steps: ['welcome', 'ask_name', 'ask_guests', 'large_party'], count: 1, completed: 1 },
      ]),
    );

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const empty = await stack.http.get(`/v1/scenarios/${bot.scenarioId}/analytics?from=${encodeURIComponent(future)}`).set(bot.headers);
    expect(empty.body.dialogs).toMatchObject({ started: 0, completed: 0, completion_rate: 0 });
    expect(empty.body.steps).toEqual([]);

    expect((await stack.http.get(`/v1/scenarios/${bot.scenarioId}/analytics`).set(stack.auth('viewer'))).status).toBe(200);
    const other = await stack.http.get(`/v1/scenarios/${bot.scenarioId}/analytics`).set(stack.auth('operator', ['someone-else']));
    expect(other.status).toBe(404);
    expect((await stack.http.get(`/v1/scenarios/${bot.scenarioId}/analytics?from=yesterday`).set(bot.headers)).status).toBe(400);
  });

  it('describes one dialog: duration, response times, steps timeline, errors and variables', async () => {
    const res = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/5001/analytics`).set(bot.headers);
    expect(res.status).toBe(200);
    const d = res.body;
    expect(d.messages).toEqual({ user: 5, bot: 6 });
    expect(d.conversations).toBe(1);
    expect(d.response_times.count).toBe(5);
    expect(d.response_times.max_ms).toBeGreaterThanOrEqual(d.response_times.median_ms);
    expect(d.duration_seconds).toBeGreaterThanOrEqual(0);
    expect(d.steps.map((s: { step: string }) => s.step)).toEqual(['welcome', 'ask_name', 'ask_guests', 'pick_time', 'confirm']);
    expect(d.steps[0].left_at).not.toBeNull();
    expect(d.steps.at(-1).left_at).not.toBeNull();
    expect(d.errors).toEqual([expect.objectContaining({ kind: 'input_invalid', step: 'ask_guests', code: 'input_invalid' })]);
    expect(d.variables.map((v: { variable: string }) => v.variable)).toEqual(['user_name', 'guests', 'time', 'booked']);
    expect(d.collected_data).toEqual({ user_name: 'Anna', guests: 4, time: '18', booked: true });

    expect((await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/9999/analytics`).set(bot.headers)).status).toBe(404);
    expect((await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/5001/analytics`).set(stack.auth('operator', ['someone-else']))).status).toBe(404);
  });

  it('merges a secondary dialog into the primary: data by strategy, history copied once, secondary closed', async () => {
    await talk(6001, ['/start', 'Dana'], 3);
    await talk(6002, ['/start', 'Eve', '3'], 4);
    const body = { primary: { platform: 'telegram', chat_id: '6001' }, secondary: { platform: 'telegram', chat_id: '6002' }, strategy: 'prefer_primary' };

    const res = await stack.http.post(`/v1/bots/${bot.id}/dialogs/merge`).set(bot.headers).send(body);
    expect(res.status).toBe(200);
    expect(res.body.primary).toMatchObject({ chat_id: '6001', status: 'active', current_step: 'ask_guests', collected_data: { user_name: 'Dana', guests: 3 } });
    expect(res.body.secondary).toMatchObject({ chat_id: '6002', status: 'completed', current_step: null });
    expect(res.body.copied_messages).toBe(7);

    const history = async () => (await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/6001/history?limit=100`).set(bot.headers)).body;
    const merged = await history();
    expect(merged.total).toBe(5 + 7 + 1);
    expect(merged.items.filter((i: { message_type: string }) => i.message_type === 'system')).toHaveLength(1);
    expect(merged.items.map((i: { text: string }) => i.text)).toEqual(expect.arrayContaining(['Eve', 'Dana']));

    // Retried: nothing is copied twice.
    const again = await stack.http.post(`/v1/bots/${bot.id}/dialogs/merge`).set(bot.headers).send(body);
    expect(again.status).toBe(200);
    expect((await history()).total).toBe(13);

    // The user of the closed dialog writes again: a new conversation starts there.
    await talk(6002, ['hello'], 6);
    expect(textsTo(6002).slice(4)).toEqual(['Welcome to Chez Anna!', 'Your name?']);

    // The primary goes on with what the secondary had collected.
    await talk(6001, ['20'], 4);
    const latest = await stack.http
      .post(`/v1/bots/${bot.id}/dialogs/merge`)
      .set(bot.headers)
      .send({ ...body, strategy: 'prefer_latest' });
    expect(latest.status).toBe(200);

    expect(
      (
        await stack.http
          .post(`/v1/bots/${bot.id}/dialogs/merge`)
          .set(bot.headers)
          .send({ ...body, secondary: body.primary })
      ).status,
    ).toBe(422);
    expect(
      (
        await stack.http
          .post(`/v1/bots/${bot.id}/dialogs/merge`)
          .set(bot.headers)
          .send({ ...body, secondary: { platform: 'telegram', chat_id: '404' } })
      ).status,
    ).toBe(404);
    expect((await stack.http.post(`/v1/bots/${bot.id}/dialogs/merge`).set(stack.auth('viewer')).send(body)).status).toBe(403);
    expect(
      (
        await stack.http
          .post(`/v1/bots/${bot.id}/dialogs/merge`)
          .set(stack.auth('operator', ['someone-else']))
          .send(body)
      ).status,
    ).toBe(404);
  });
});
