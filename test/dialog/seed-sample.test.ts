import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from '../fakes';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

/** The product spec's sample scenario: no start_step, a metadata key. */
const seedSampleText = readFileSync(join(__dirname, '../engine/fixtures/seed-sample.json'), 'utf8');
const seedSample = JSON.parse(seedSampleText);

describe.each(DB_KINDS)("the product spec's sample scenario on the real stack (%s)", (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  it('is stored with a warning naming the start step it takes, and metadata kept', async () => {
    const headers = stack.auth('operator', ['acme']);
    const bot = await stack.http.post('/v1/accounts/acme/bots').set(headers).send({ name: 'seed-sample' });
    expect(bot.status).toBe(201);

    const created = await stack.http.post(`/v1/bots/${bot.body.id}/scenarios`).set(headers).send({ name: 'onboarding', scenario_data: seedSample });
    expect(created.status).toBe(201);
    expect(created.body.warnings).toContainEqual({
      path: '/start_step',
      line: expect.any(Number),
      column: expect.any(Number),
      message: 'no "start_step": dialogs start at "welcome", the first step of "steps"',
      suggestion: 'add "start_step": "welcome"',
    });

    const stored = await stack.db('scenarios').where({ id: created.body.id }).first();
    const storedData = typeof stored.scenario_data === 'string' ? JSON.parse(stored.scenario_data) : stored.scenario_data;
    expect(storedData).toMatchObject({ start_step: 'welcome', metadata: seedSample.metadata });

    const exported = await stack.http.get(`/v1/scenarios/${created.body.id}?format=export`).set(headers);
    expect(exported.status).toBe(200);
    expect(JSON.parse(exported.text)).toEqual(seedSample);

    // Uploaded as a file, the warning points at the step taken, in that file.
    const uploaded = await stack.http
      .post(`/v1/bots/${bot.body.id}/scenarios/upload`)
      .set(headers)
      .field('name', 'onboarding')
      .attach('file', Buffer.from(seedSampleText), { filename: 'seed-sample.json', contentType: 'application/json' });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.scenario_data.start_step).toBe('welcome');
    expect(uploaded.body.warnings).toContainEqual(expect.objectContaining({ path: '/start_step', line: 8, column: 5 }));
  });

  it('runs a dialog from the first step', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000001:AAH-test-token' }, scenario: seedSample });
    const chat = 2201;
    const secret = bot.webhookSecret as string;
    const post = (updateId: number, text: string) => {
      const update = telegramUpdate({ updateId, chatId: chat, text, secret });
      return stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(update.headers).send(update.body);
    };
    const textsTo = () =>
      tg
        .callsTo('sendMessage')
        .filter((c) => String(c.body.chat_id) === String(chat))
        .map((c) => c.body.text);

    expect((await post(1, '/start')).status).toBe(200);
    await eventually(() => textsTo().length >= 2 || undefined, 20_000, 'the welcome and the name question');
    expect((await post(2, 'John Doe')).status).toBe(200);
    await eventually(() => textsTo().length >= 3 || undefined, 15_000, 'the greeting');
    expect(textsTo()).toEqual(['Welcome to GET INN!', 'What is your name?', 'Hello John Doe!']);

    const state = await stack.http.get(`/v1/bots/${bot.id}/dialogs/telegram/${chat}`).set(bot.headers);
    expect(state.body).toMatchObject({ status: 'completed', collected_data: { user_name: 'John Doe' }, scenario_id: bot.scenarioId });
  });
});
