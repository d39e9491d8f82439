/**
 * Who the guest is, end to end: a Telegram user writes through the webhook, and their profile
 * reaches the reply's template, the dialog's state, the dialog list and the exports, but no search
 * attribute.
 */
import type { IncomingMessage } from '../../src/platforms/types';
import { dialogWorkflowId, userMessageSignal } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram, telegramRequest } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';
import { connectTemporal, type Harness, startHarness } from './harness';

const greeting = {
  version: '1.0',
  name: 'Greeting',
  start_step: 'hello',
  steps: {
    hello: {
      id: 'hello',
      type: 'message',
      message: { text: 'Hello, {{user.name|guest}}! Your table?' },
      expected_input: { type: 'text', variable: 'table' },
      next_step: 'booked',
    },
    booked: { id: 'booked', type: 'message', message: { text: 'Table {{table}} is yours, {{user.name|guest}}.' } },
  },
};

const CHAT = 4242;
const ada = { id: CHAT, is_bot: false, first_name: 'Ada', username: 'ada_l', language_code: 'en' };

describe.each(DB_KINDS)('the guest’s profile in a dialog (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: Awaited<ReturnType<Stack['createBot']>>;
  let updateId = 700;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-user-profile' }, scenario: greeting });
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
  });

  const write = async (from: object | undefined, text: string, chat = CHAT) => {
    updateId += 1;
    const message = { message_id: updateId, ...(from ? { from } : {}), chat: { id: chat, type: 'private' }, date: Math.floor(Date.now() / 1000), text };
    const request = telegramRequest({ update_id: updateId, message }, bot.webhookSecret);
    const response = await stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(request.headers).send(request.body);
    expect(response.status).toBe(200);
  };
  const texts = (chat = CHAT) =>
    tg
      .callsTo('sendMessage')
      .filter((call) => String(call.body.chat_id) === String(chat) && call.ok)
      .map((call) => call.body.text as string);
  const dialogPath = () => `/v1/bots/${bot.id}/dialogs/telegram/${CHAT}`;
  /** An export's body as text, whatever its type. */
  const exported = async (format: string): Promise<string> => {
    const response = await stack.http
      .get(`${dialogPath()}/export?format=${format}`)
      .set(bot.headers)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      });
    expect(response.status).toBe(200);
    return response.body as string;
  };

  it('greets Ada by name, and shows her in the state, the list and the exports, never in search attributes', async () => {
    await write(ada, 'hi');
    await eventually(() => texts().length >= 1 || undefined, 20_000, 'the greeting');
    expect(texts()).toEqual(['Hello, Ada! Your table?']);
    // A message without a sender keeps the profile the platform gave before.
    await write(undefined, '7');
    await eventually(() => texts().length >= 2 || undefined, 20_000, 'the booking');
    expect(texts()).toEqual(['Hello, Ada! Your table?', 'Table 7 is yours, Ada.']);

    const user = { id: String(CHAT), name: 'Ada', username: 'ada_l', language: 'en' };
    const state = await stack.http.get(dialogPath()).set(bot.headers);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ status: 'completed', collected_data: { table: '7' }, user });
    expect(state.body.collected_data).not.toHaveProperty('user');

    // The list is read from the rows the turn's activity wrote: wait for the last one.
    const list = await eventually(
      async () => {
        const response = await stack.http.get(`/v1/bots/${bot.id}/dialogs`).set(bot.headers);
        return response.body.items?.[0]?.status === 'completed' ? response.body : undefined;
      },
      10_000,
      'the completed dialog in the list',
    );
    const stored: unknown[] = await stack.db('dialog_messages').where({ bot_id: bot.id, platform: 'telegram', chat_id: String(CHAT) });
    expect(stored).toHaveLength(4);
    const item = list.items[0];
    expect(item).toMatchObject({ chat_id: String(CHAT), user, current_step: null, message_count: 4 });
    expect(item.duration_s).toBe(Math.round((Date.parse(item.last_interaction_at) - Date.parse(item.started_at)) / 1000));
    expect(item.duration_s).toBeGreaterThanOrEqual(0);

    const json = await exported('json');
    expect(JSON.parse(json).dialog.user).toEqual(user);
    const csv = await exported('csv');
    const [header, ...rows] = csv.trim().split('\r\n');
    expect(header).toBe('id,created_at,message_type,step,text,payload,user_id,user_name,user_username');
    expect(rows.filter((row) => row.includes(',user,')).map((row) => row.split(',').slice(-3))).toEqual([
      [String(CHAT), 'Ada', 'ada_l'],
      [String(CHAT), 'Ada', 'ada_l'],
    ]);
    expect(rows.filter((row) => row.includes(',bot,')).map((row) => row.split(',').slice(-3))).toEqual([
      ['', '', ''],
      ['', '', ''],
    ]);
    const xml = await exported('xml');
    expect(xml).toContain(`<user id="${CHAT}" name="Ada" username="ada_l" language="en"/>`);

    const description = await stack.temporal.workflow.getHandle(dialogWorkflowId(bot.id, 'telegram', String(CHAT))).describe();
    const attributes = JSON.stringify(description.typedSearchAttributes.getAll().map((pair) => pair.value));
    expect(attributes).toContain('completed');
    expect(attributes).not.toMatch(/Ada|ada_l/);
  });

  it('a sender the platform does not describe is greeted by the fallback and has no user', async () => {
    const chat = 4343;
    await write(undefined, 'hi', chat);
    await eventually(() => texts(chat).length >= 1 || undefined, 20_000, 'the greeting');
    expect(texts(chat)).toEqual(['Hello, guest! Your table?']);
    const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    expect(state.body).toMatchObject({ chat_id: String(chat), current_step: 'hello', user: null });
  });
});

describe('the profile across continue-as-new', () => {
  const echo = {
    version: '1.0',
    start_step: 'echo',
    steps: {
      echo: {
        id: 'echo',
        type: 'message',
        message: { text: '{{user.name|guest}}: {{last|-}}' },
        expected_input: { type: 'any', variable: 'last' },
        next_step: 'echo',
      },
    },
  };
  let tg: FakeTelegram;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let h: Harness;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    temporal = await connectTemporal();
    h = await startHarness({ telegram: tg, scenario: echo, dbKind: 'sqlite', temporal, historyLimit: 40 });
  });
  afterAll(async () => {
    await h?.close();
    await temporal?.close();
    await tg?.close();
  });

  it('keeps the last profile in the carried state, through runs whose messages name no one', async () => {
    const chat = 5151;
    await h.send(chat, 'first');
    const fromAda: IncomingMessage = {
      platform: 'telegram',
      chatId: String(chat),
      messageId: 'ada',
      user: { id: String(chat), name: 'Ada' },
      input: { kind: 'text', text: 'ada' },
    };
    await h.client.workflow.getHandle(h.workflowId(chat)).signal(userMessageSignal, fromAda);
    await eventually(() => h.textsTo(chat).length >= 2 || undefined, 20_000, 'the answer to Ada');
    for (let i = 1; i <= 20; i += 1) await h.send(chat, `m${i}`, `m${i}`);
    await eventually(() => h.textsTo(chat).length >= 22 || undefined, 60_000, 'every answer');

    const runs = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${h.workflowId(chat)}'` })) runs.push(run);
    expect(runs.length).toBeGreaterThan(1);
    // The first message starts the scenario: its start step asks before anyone is named.
    expect(h.textsTo(chat).slice(0, 2)).toEqual(['guest: -', 'Ada: ada']);
    expect(h.textsTo(chat).at(-1)).toBe('Ada: m20');
    expect((await h.state(chat)).user).toEqual({ id: String(chat), name: 'Ada' });
  });
});
