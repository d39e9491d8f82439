/**
 * A bot's own life through the API: deactivation unregisters its webhook and silences its running
 * dialogs durably (a reminder due meanwhile is not sent, then or later in a burst), activation
 * re-arms their timers from then, and deletion removes their Temporal executions.
 * Timers run on Temporal's time-skipping test server; deletion on the run's dev server.
 */
import request from 'supertest';
import { signToken } from '../../api/auth';
import { createApp } from '../../api/app';
import { createLogger } from '../../src/log';
import { botsRepository } from '../../src/db/bots';
import { botActivatedSignal, dialogWorkflowId } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { type Harness, startHarness } from './harness';
import { bookingScenario } from './scenarios';

const withReminder = {
  ...bookingScenario,
  settings: { ...bookingScenario.settings, timeout: { after: '30m', action: 'remind', message: 'Still there?', max_reminders: 3, then: 'abandon' } },
};

describe.each(DB_KINDS)('deactivating and activating a bot with dialogs waiting (%s, time-skipping)', (dbKind) => {
  let tg: FakeTelegram;
  let h: Harness;
  let http: ReturnType<typeof request>;
  let headers: Record<string, string>;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    h = await startHarness({ telegram: tg, scenario: withReminder, dbKind });
    const app = createApp({ db: h.db, config: h.config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), temporal: h.client });
    http = request(app.callback());
    headers = { Authorization: `Bearer ${signToken(h.config.jwtSecret, { sub: 'test-operator', role: 'operator', account_ids: ['acme'] })}` };
  });
  afterAll(async () => {
    await h?.close();
    await tg?.close();
  });

  /** The dialog's history, an event a line of JSON with payloads as text, to see what the workflow did. */
  const historyOf = async (chat: number) => {
    const history = await h.client.workflow.getHandle(h.workflowId(chat)).fetchHistory();
    const readable = (key: string, value: unknown) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value);
    return (history.events ?? []).map((event) => JSON.stringify(event, readable));
  };

  it('unregisters the webhook, holds a reminder due while inactive, and sends it once an interval after activation', async () => {
    const chat = 5001;
    await h.send(chat, '/start');
    await eventually(() => h.textsTo(chat).length >= 2, 20_000, 'the first question');

    const deactivated = await http.post(`/v1/bots/${h.botId}/deactivate`).set(headers);
    expect(deactivated.status).toBe(200);
    expect(deactivated.body).toMatchObject({ status: 'inactive', webhooks: [{ platform: 'telegram', unregistered: true }] });
    expect(tg.callsTo('deleteWebhook')).toHaveLength(1);

    // The reminder comes due while the bot is inactive: the workflow asks, and holds it.
    await h.env!.sleep('31 minutes');
    await eventually(async () => (await historyOf(chat)).some((line) => line.includes('botIsActive')), 20_000, 'the bot asked about');
    // Hours of reminders that would have been due: none is sent, now or later.
    await h.env!.sleep('3 hours');
    expect(h.textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?']);
    expect((await h.events(chat)).map((e: { kind: string }) => e.kind)).not.toContain('timeout_fired');

    // What `POST /activate` does after registering webhooks (the route lists dialogs through visibility,
    // which the time-skipping server lacks; the test below calls the route on the dev server).
    await botsRepository(h.db).update(h.botId, { status: 'active' });
    await h.client.workflow.getHandle(h.workflowId(chat)).signal(botActivatedSignal);
    // The signal re-arms the timer from the activation: nothing is sent at once.
    await eventually(
      async () => {
        const lines = await historyOf(chat);
        const signalled = lines.findIndex((line) => line.includes('"signalName":"botActivated"'));
        return signalled >= 0 && lines.slice(signalled).some((line) => line.includes('timerStartedEventAttributes'));
      },
      20_000,
      'the timer armed again',
    );
    expect(h.textsTo(chat)).toHaveLength(2);

    await h.env!.sleep('31 minutes');
    await eventually(() => h.textsTo(chat).length >= 3, 20_000, 'the reminder');
    expect(h.textsTo(chat)).toEqual(['Welcome to Chez Anna!', 'Your name?', 'Still there?']);
    const kinds = (await h.events(chat)).map((e: { kind: string }) => e.kind);
    expect(kinds.filter((kind: string) => kind === 'timeout_fired')).toHaveLength(1);
    expect(kinds.filter((kind: string) => kind === 'reminder_sent')).toHaveLength(1);
    expect((await h.state(chat)).status).toBe('active');
  }, 120_000);
});

describe.each(DB_KINDS)('deactivating, activating and deleting a bot through the API (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
  });

  it('deactivation unregisters the webhook; activation registers it again and signals the running dialogs', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000006:AAH-activate' }, scenario: bookingScenario });
    const chat = 5201;
    const req = telegramUpdate({ updateId: 1, chatId: chat, text: '/start', secret: bot.webhookSecret });
    expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body)).status).toBe(200);
    await eventually(() => tg.callsTo('sendMessage').filter((c) => String(c.body.chat_id) === String(chat)).length >= 2, 20_000, 'the dialog started');
    // Activation finds running dialogs by their rows, written in the same turn just after the sends.
    await eventually(
      () =>
        stack
          .db('dialogs')
          .where({ bot_id: bot.id, chat_id: String(chat) })
          .first(),
      20_000,
      'the dialog row',
    );

    const deactivated = await stack.http.post(`/v1/bots/${bot.id}/deactivate`).set(bot.headers);
    expect(deactivated.body).toMatchObject({ status: 'inactive', webhooks: [{ platform: 'telegram', unregistered: true }] });
    expect(tg.webhook).toBeNull();
    // A webhook still arriving is acknowledged and starts nothing.
    const late = telegramUpdate({ updateId: 2, chatId: 5202, text: '/start', secret: bot.webhookSecret });
    expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(late.headers).send(late.body)).status).toBe(200);

    const activated = await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers);
    expect(activated.body).toMatchObject({ status: 'active', webhooks: [{ platform: 'telegram', registered: true }] });
    expect(tg.webhook?.secret_token).toBe(bot.webhookSecret);
    const history = await stack.temporal.workflow.getHandle(dialogWorkflowId(bot.id, 'telegram', String(chat))).fetchHistory();
    const signals = (history.events ?? []).flatMap((event) => event.workflowExecutionSignaledEventAttributes?.signalName ?? []);
    expect(signals).toEqual(['userMessage', 'botActivated']);
    await expect(stack.temporal.workflow.getHandle(dialogWorkflowId(bot.id, 'telegram', '5202')).describe()).rejects.toMatchObject({
      name: 'WorkflowNotFoundError',
    });
  }, 60_000);

  it('deletion terminates its dialogs and deletes their executions', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000005:AAH-delete' }, scenario: bookingScenario });
    const chats = [5101, 5102];
    for (const [i, chat] of chats.entries()) {
      const req = telegramUpdate({ updateId: i + 1, chatId: chat, text: '/start', secret: bot.webhookSecret });
      expect((await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body)).status).toBe(200);
    }
    await eventually(() => tg.callsTo('sendMessage').length >= 4, 20_000, 'both dialogs started');

    const res = await stack.http.delete(`/v1/bots/${bot.id}?confirm=true`).set(bot.headers);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ deleted: true, workflows_terminated: 2 });
    expect(res.body.workflow_runs_deleted).toBeGreaterThanOrEqual(2);

    for (const chat of chats) {
      const workflowId = dialogWorkflowId(bot.id, 'telegram', String(chat));
      await eventually(
        () =>
          stack.temporal.workflow
            .getHandle(workflowId)
            .describe()
            .then(
              () => false,
              (error: Error) => error.name === 'WorkflowNotFoundError',
            ),
        // The server deletes in the background: on the dev server a run just closed goes within some 20 s.
        60_000,
        `${workflowId} deleted`,
      );
    }
    await eventually(
      async () => {
        const listed = [];
        for await (const run of stack.temporal.workflow.list({ query: `BotId = '${bot.id}'` })) listed.push(run);
        return listed.length === 0;
      },
      60_000,
      'no execution of the bot listed',
    );
  }, 180_000);
});
