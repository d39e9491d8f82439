/**
 * Meta's 24-hour window: a reminder sent more than 24 hours after the guest last wrote goes to
 * WhatsApp as an approved template (the step's, else the connection's) and to Messenger with a
 * message tag, or is skipped with a `send_skipped` event when nothing is configured. The fakes
 * refuse free-form messages to a recipient the test puts outside the window, as Meta does. Time is
 * skipped by Temporal's time-skipping test server (workflow clock); everything else is real.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signToken } from '../../api/auth';
import type { Config } from '../../src/config';
import { botsRepository } from '../../src/db/bots';
import { platformsRepository } from '../../src/db/platforms';
import { scenariosRepository } from '../../src/db/scenarios';
import type { Scenario } from '../../src/engine/types';
import { createLogger } from '../../src/log';
import type { IncomingMessage } from '../../src/platforms/types';
import { DIALOG_WORKFLOW_TASK_TIMEOUT, DIALOG_WORKFLOW_TYPE, type DialogWorkflowInput, dialogWorkflowId, userMessageSignal } from '../../workflows/messages';
import { type FakeMessenger, type FakeWhatsApp, type RecordedCall, startFakeMessenger, startFakeWhatsApp } from '../fakes';
import { createTestDb, createTestWorker, eventually, type TestDb, testConfig } from '../support/stack';
import { createTimeSkippingEnv } from './harness';

const scenario = {
  version: '1.0',
  name: 'Window',
  start_step: 'ask_name',
  steps: {
    ask_name: {
      id: 'ask_name',
      type: 'message',
      message: { text: 'Your name?' },
      expected_input: { type: 'text', variable: 'user_name' },
      next_step: 'ask_day',
      timeout: { after: '25h', action: 'remind', message: 'Still there, {{user.name|friend}}?\nTell us your name to book.' },
    },
    ask_day: {
      id: 'ask_day',
      type: 'message',
      message: { text: 'Which day, {{user_name}}?' },
      expected_input: { type: 'text', variable: 'day' },
      next_step: 'ask_size',
      timeout: { after: '25h', action: 'remind', message: 'Which day would suit you, {{user_name}}?' },
      whatsapp_template: { name: 'booking_follow_up', language: 'en_US', parameters: ['{{user_name}}', '{{restaurant|Chez Anna}}'] },
    },
    ask_size: {
      id: 'ask_size',
      type: 'message',
      message: { text: 'For how many?' },
      expected_input: { type: 'number', variable: 'guests' },
      next_step: null,
      timeout: { after: '23h', action: 'remind', message: 'For how many guests, {{user_name}}?' },
    },
  },
};

type Channel = 'whatsapp' | 'messenger';

describe('the 24-hour window of WhatsApp and Messenger (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let testDb: TestDb;
  let wa: FakeWhatsApp;
  let ms: FakeMessenger;
  let worker: Worker;
  let running: Promise<void>;
  /** A bot with settings that let sends through the window, and one without. */
  let configured: string;
  let bare: string;
  let config: Config;

  const seedBot = async (settings: Record<Channel, Record<string, unknown>>) => {
    const bots = botsRepository(testDb.db);
    const bot = await bots.create({ account_id: 'acme', name: `bot-${randomUUID().slice(0, 8)}` });
    await bots.update(bot.id, { status: 'active' });
    await scenariosRepository(testDb.db).createVersion({
      bot_id: bot.id,
      name: 'main',
      scenario_data: scenario as unknown as Scenario,
      warnings: [],
      activate: true,
    });
    const platforms = platformsRepository(testDb.db, { current: config.encryptionKey });
    const secrets = { app_secret: 'app-secret', verify_token: 'verify' };
    await platforms.create({
      bot_id: bot.id,
      platform: 'whatsapp',
      credentials: { phone_number_id: '106540352242922', access_token: 'EAAG-wa', ...secrets },
      settings: settings.whatsapp,
    });
    await platforms.create({
      bot_id: bot.id,
      platform: 'messenger',
      credentials: { page_id: '104560000000001', page_access_token: 'EAAG-ms', ...secrets },
      settings: settings.messenger,
    });
    return bot.id;
  };

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    testDb = await createTestDb('sqlite');
    wa = await startFakeWhatsApp({
      templates: [
        { name: 'booking_reminder', language: 'en', parameters: 1 },
        { name: 'booking_follow_up', language: 'en_US', parameters: 2 },
      ],
    });
    ms = await startFakeMessenger();
    config = testConfig({ apiBases: { whatsapp: wa.url, messenger: ms.url } });
    configured = await seedBot({
      whatsapp: { whatsapp_template: { name: 'booking_reminder', language: 'en' } },
      messenger: { messenger_tag: 'CONFIRMED_EVENT_UPDATE' },
    });
    bare = await seedBot({ whatsapp: {}, messenger: {} });
    worker = await createTestWorker({ connection: env.nativeConnection, db: testDb.db, config, log: createLogger('silent') });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await testDb?.drop();
    await env?.teardown();
    await wa?.close();
    await ms?.close();
  });

  let nextId = 1;
  /** A guest's message, as the webhook signals it. */
  const write = async (botId: string, platform: Channel, chatId: string, text: string) => {
    const messageId = platform === 'whatsapp' ? `wamid.test${nextId++}` : `m_test${nextId++}`;
    const message: IncomingMessage = {
      platform,
      chatId,
      messageId,
      input: { kind: 'text', text },
      user: platform === 'whatsapp' ? { id: chatId, name: 'Sheena Nelson' } : { id: chatId },
      ...(platform === 'whatsapp' ? { replyContext: { message_id: messageId } } : {}),
    };
    const args: [DialogWorkflowInput] = [{ botId, platform, chatId }];
    await env.client.workflow.signalWithStart(DIALOG_WORKFLOW_TYPE, {
      workflowId: dialogWorkflowId(botId, platform, chatId),
      taskQueue: config.temporal.taskQueue,
      workflowTaskTimeout: DIALOG_WORKFLOW_TASK_TIMEOUT,
      args,
      signal: userMessageSignal,
      signalArgs: [message],
    });
  };

  /** The messages the platform took for `chatId` (refused ones excluded). */
  const sentTo = (platform: Channel, chatId: string): RecordedCall[] =>
    platform === 'whatsapp'
      ? wa.callsTo('messages').filter((call) => call.body.to === chatId && call.status === 200)
      : ms.callsTo('messages').filter((call) => (call.body.recipient as { id: string }).id === chatId && call.status === 200);
  const waitSent = (platform: Channel, chatId: string, count: number) =>
    eventually(() => (sentTo(platform, chatId).length >= count ? sentTo(platform, chatId) : undefined), 20_000, `${count} messages to ${chatId}`);
  const events = (botId: string, platform: Channel, chatId: string): Promise<{ kind: string; step: string; data: string | Record<string, unknown> }[]> =>
    testDb.db('dialog_events').where({ bot_id: botId, platform, chat_id: chatId }).orderBy('id').select('kind', 'step', 'data');
  const dataOf = (event: { data: string | Record<string, unknown> }) =>
    (typeof event.data === 'string' ? JSON.parse(event.data) : event.data) as Record<string, unknown>;
  const skipped = async (botId: string, platform: Channel, chatId: string) =>
    (await events(botId, platform, chatId)).filter((event) => event.kind === 'error' && dataOf(event).code === 'send_skipped');

  it("WhatsApp: a reminder 25 hours after the guest wrote arrives as the connection's template, the reminder its parameter", async () => {
    const chat = '447700900001';
    await write(configured, 'whatsapp', chat, 'Hello');
    await waitSent('whatsapp', chat, 1);
    wa.setOutsideWindow(chat);

    await env.sleep('25 hours');
    const [question, reminder] = await waitSent('whatsapp', chat, 2);
    expect(question.body).toMatchObject({ type: 'text', text: { body: 'Your name?' } });
    expect(reminder.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: chat,
      type: 'template',
      template: {
        name: 'booking_reminder',
        language: { code: 'en' },
        // A line break is not allowed in a parameter: it becomes a space.
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Still there, Sheena Nelson? Tell us your name to book.' }] }],
      },
    });
    expect(await skipped(configured, 'whatsapp', chat)).toEqual([]);
  });

  it("WhatsApp: a step's own whatsapp_template goes instead, its parameters rendered", async () => {
    const chat = '447700900002';
    await write(configured, 'whatsapp', chat, 'Hello');
    await waitSent('whatsapp', chat, 1);
    await write(configured, 'whatsapp', chat, 'Anna');
    await waitSent('whatsapp', chat, 2);
    wa.setOutsideWindow(chat);

    await env.sleep('25 hours');
    const sent = await waitSent('whatsapp', chat, 3);
    expect(sent[1].body).toMatchObject({ type: 'text', text: { body: 'Which day, Anna?' } });
    expect(sent[2].body).toMatchObject({
      type: 'template',
      template: {
        name: 'booking_follow_up',
        language: { code: 'en_US' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Anna' },
              { type: 'text', text: 'Chez Anna' },
            ],
          },
        ],
      },
    });
  });

  it('WhatsApp: a reminder 23 hours after the guest wrote is sent as plain text', async () => {
    const chat = '447700900003';
    for (const [count, text] of [
      [1, 'Hello'],
      [2, 'Anna'],
      [3, 'Friday'],
    ] as const) {
      await write(configured, 'whatsapp', chat, text);
      await waitSent('whatsapp', chat, count);
    }
    await env.sleep('23 hours');
    const sent = await waitSent('whatsapp', chat, 4);
    expect(sent[3].body).toMatchObject({ type: 'text', text: { body: 'For how many guests, Anna?' } });
    expect(sent.filter((call) => call.body.type === 'template')).toEqual([]);
  });

  it('Messenger: a reminder 25 hours later goes with MESSAGE_TAG and the configured tag', async () => {
    const chat = '6245861937';
    await write(configured, 'messenger', chat, 'Hello');
    const [question] = await waitSent('messenger', chat, 1);
    expect(question.body).toMatchObject({ messaging_type: 'RESPONSE', message: { text: 'Your name?' } });
    ms.setOutsideWindow(chat);

    await env.sleep('25 hours');
    const [, reminder] = await waitSent('messenger', chat, 2);
    expect(reminder.body).toEqual({
      recipient: { id: chat },
      messaging_type: 'MESSAGE_TAG',
      tag: 'CONFIRMED_EVENT_UPDATE',
      message: { text: 'Still there, friend?\nTell us your name to book.' },
    });
  });

  it('with nothing configured the reminder is not sent: a send_skipped event says why, and the dialog goes on', async () => {
    const whatsappChat = '447700900004';
    const messengerChat = '6245861938';
    await write(bare, 'whatsapp', whatsappChat, 'Hello');
    await write(bare, 'messenger', messengerChat, 'Hello');
    await waitSent('whatsapp', whatsappChat, 1);
    await waitSent('messenger', messengerChat, 1);
    wa.setOutsideWindow(whatsappChat);
    ms.setOutsideWindow(messengerChat);

    await env.sleep('25 hours');
    const [whatsappSkip] = await eventually(
      async () => {
        const found = await skipped(bare, 'whatsapp', whatsappChat);
        return found.length > 0 ? found : undefined;
      },
      20_000,
      'the WhatsApp skip event',
    );
    const [messengerSkip] = await eventually(
      async () => {
        const found = await skipped(bare, 'messenger', messengerChat);
        return found.length > 0 ? found : undefined;
      },
      20_000,
      'the Messenger skip event',
    );
    expect(whatsappSkip.step).toBe('ask_name');
    expect(dataOf(whatsappSkip)).toEqual({
      code: 'send_skipped',
      reason: 'outside_24h_window',
      platform: 'whatsapp',
      message: expect.stringContaining('set "whatsapp_template" {"name","language"} in the WhatsApp connection\'s settings'),
    });
    expect(dataOf(messengerSkip)).toMatchObject({ code: 'send_skipped', reason: 'outside_24h_window', platform: 'messenger' });
    expect(dataOf(messengerSkip).message).toContain('"messenger_tag" (CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE, ACCOUNT_UPDATE)');
    // Nothing reached the platforms, not even a refused attempt: the reply was not tried.
    expect(wa.callsTo('messages').filter((call) => call.body.to === whatsappChat)).toHaveLength(1);
    expect(ms.callsTo('messages').filter((call) => (call.body.recipient as { id: string }).id === messengerChat)).toHaveLength(1);
    const kinds = (await events(bare, 'whatsapp', whatsappChat)).map((event) => event.kind);
    expect(kinds).toContain('reminder_sent');

    // The guest writes again: the window is open and the dialog answers as usual.
    wa.setOutsideWindow(whatsappChat, false);
    await write(bare, 'whatsapp', whatsappChat, 'Anna');
    const sent = await waitSent('whatsapp', whatsappChat, 2);
    expect(sent[1].body).toMatchObject({ type: 'text', text: { body: 'Which day, Anna?' } });
  });

  it("the platform's own refusal (131047) is recorded as the same skip, not as send_failed", async () => {
    // Meta counts from the message's own time; here it says the window has closed although the
    // workflow saw the guest write 23 hours ago.
    const chat = '447700900005';
    for (const [count, text] of [
      [1, 'Hello'],
      [2, 'Anna'],
      [3, 'Friday'],
    ] as const) {
      await write(bare, 'whatsapp', chat, text);
      await waitSent('whatsapp', chat, count);
    }
    wa.setOutsideWindow(chat);
    await env.sleep('23 hours');
    const [skip] = await eventually(
      async () => {
        const found = await skipped(bare, 'whatsapp', chat);
        return found.length > 0 ? found : undefined;
      },
      20_000,
      'the skip event',
    );
    expect(dataOf(skip)).toMatchObject({ code: 'send_skipped', reason: 'outside_24h_window', platform: 'whatsapp' });
    expect(dataOf(skip).message).toContain('131047');
    const refused = wa.callsTo('messages').filter((call) => call.body.to === chat && call.status !== 200);
    expect(refused).toHaveLength(1);
    const failed = (await events(bare, 'whatsapp', chat)).filter((event) => event.kind === 'error' && dataOf(event).code === 'send_failed');
    expect(failed).toEqual([]);
  });

  it('the API checks the connection settings the window reads', async () => {
    const http = request(createApp({ db: testDb.db, config, log: createLogger('silent'), temporal: env.client }).callback());
    const headers = { Authorization: `Bearer ${signToken(config.jwtSecret, { sub: 'window-operator', role: 'operator', account_ids: ['acme'] })}` };
    const put = (platform: Channel, settings: Record<string, unknown>) => http.put(`/v1/bots/${bare}/platforms/${platform}`).set(headers).send({ settings });

    // HUMAN_AGENT is for a person's replies during a handoff, never a bot's setting.
    const tag = await put('messenger', { messenger_tag: 'HUMAN_AGENT' });
    expect(tag.status).toBe(400);
    expect(tag.body.error.details.map((detail: { path: string }) => detail.path)).toEqual(['/settings/messenger_tag']);
    const template = await put('whatsapp', { whatsapp_template: { name: 'Booking Reminder', language: 'en' } });
    expect(template.status).toBe(400);
    expect(template.body.error.details.map((detail: { path: string }) => detail.path)).toEqual(['/settings/whatsapp_template/name']);

    const stored = await put('whatsapp', { whatsapp_template: { name: 'booking_reminder', language: 'en' }, note: 'kept as given' });
    expect(stored.status).toBe(200);
    expect(stored.body.settings).toEqual({ whatsapp_template: { name: 'booking_reminder', language: 'en' }, note: 'kept as given' });
  });
});
