import request from 'supertest';
import { createApp } from '../../api/app';
import { dialogsRepository } from '../../src/db/dialogs';
import { createLogger } from '../../src/log';
import { type FakeTelegram, startFakeTelegram } from '../fakes';
import { DB_KINDS, type Stack, startStack } from '../support/stack';
import { dialogRow, expectError, expectStatus, makeBot, type TestBot, tokenFor } from './support';

describe.each(DB_KINDS)('dialogs API (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let bot: TestBot;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    bot = await makeBot(stack, { scenario: true, telegram: true });
    expectStatus(await stack.http.post(`/v1/bots/${bot.id}/activate`).set(bot.headers), 200);
  });
  afterAll(async () => {
    await stack.close();
    await tg.close();
  });

  const dialogPath = (chat: string) => `/v1/bots/${bot.id}/dialogs/telegram/${chat}`;

  /** Transcript rows as the worker's activities write them, one second apart. */
  async function seedHistory(chat: string, count: number, text = (i: number) => `message ${i}`) {
    const start = Date.parse('2026-01-01T10:00:00.000Z');
    const rows = Array.from({ length: count }, (_, i) => ({
      bot_id: bot.id,
      platform: 'telegram',
      chat_id: chat,
      message_type: i % 2 === 0 ? 'user' : 'bot',
      text: text(i),
      payload: i === 1 ? JSON.stringify({ buttons: ['a'] }) : null,
      step: i % 2 === 0 ? 'ask_name' : 'welcome',
      dedupe_key: `${bot.id}:${chat}:${i}`,
      created_at: new Date(start + i * 1000).toISOString(),
    }));
    for (let i = 0; i < rows.length; i += 200) await stack.db('dialog_messages').insert(rows.slice(i, i + 200));
  }

  it('gets or creates a dialog, changes it through the workflow Update, and resets it', async () => {
    const chat = '9001';
    const created = expectStatus(await stack.http.get(dialogPath(chat)).set(bot.headers), 200).body;
    expect(created).toMatchObject({
      bot_id: bot.id,
      platform: 'telegram',
      chat_id: chat,
      status: 'active',
      current_step: 'welcome',
      scenario_id: bot.scenarioId,
      scenario_version: 1,
      version: 0,
      workflow_id: `dialog:${bot.id}:telegram:${chat}`,
    });
    const settled = created;

    const changed = expectStatus(
      await stack.http
        .put(dialogPath(chat))
        .set(bot.headers)
        .send({ current_step: 'ask_guests', collected_data: { user_name: 'Bob' }, expected_version: settled.version }),
      200,
    ).body;
    expect(changed).toMatchObject({ current_step: 'ask_guests', collected_data: { user_name: 'Bob' }, version: settled.version + 1 });

    const stale = expectError(
      await stack.http.put(dialogPath(chat)).set(bot.headers).send({ current_step: 'pick_time', expected_version: settled.version }),
      409,
      'stale_version',
    );
    expect(stale.body.error.message).toContain('stale');
    expectError(
      await stack.http.put(dialogPath(chat)).set(bot.headers).send({ current_step: 'no_such_step', expected_version: changed.version }),
      422,
      'unknown_step',
    );
    expectError(await stack.http.put(dialogPath(chat)).set(bot.headers).send({ current_step: 'pick_time' }), 400);
    expectError(await stack.http.put(dialogPath(chat)).set(tokenFor(stack, 'viewer')).send({ expected_version: changed.version }), 403);
    expectError(await stack.http.get(`/v1/bots/${bot.id}/dialogs/icq/${chat}`).set(bot.headers), 404);

    expectError(await stack.http.delete(dialogPath(chat)).set(bot.headers), 400);
    const toCheckpoint = expectStatus(await stack.http.delete(`${dialogPath(chat)}?confirm=true&to_checkpoint=true`).set(bot.headers), 200).body;
    expect(toCheckpoint.current_step).toBe('ask_name');
    expect(toCheckpoint.collected_data).toMatchObject({ user_name: 'Bob' });
    const fresh = expectStatus(await stack.http.delete(`${dialogPath(chat)}?confirm=true`).set(bot.headers), 200).body;
    expect(fresh.collected_data).not.toHaveProperty('user_name');
    expect(fresh.version).toBeGreaterThan(toCheckpoint.version);
  });

  it('lists dialogs from the dialog rows with platform, status and date filters', async () => {
    const other = await makeBot(stack, { scenario: true });
    const repo = dialogsRepository(stack.db);
    await repo.saveProjection(dialogRow(other.id, 'a', { last_interaction_at: '2026-02-01T10:00:00.000Z' }));
    await repo.saveProjection(dialogRow(other.id, 'b', { status: 'completed', last_interaction_at: '2026-02-02T10:00:00.000Z' }));
    await repo.saveProjection(dialogRow(other.id, 'c', { platform: 'whatsapp', workflow_id: 'w', last_interaction_at: '2026-02-03T10:00:00.000Z' }));
    const list = (query: string) => stack.http.get(`/v1/bots/${other.id}/dialogs${query}`).set(other.headers);

    expect(expectStatus(await list(''), 200).body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect((await list('?platform=telegram')).body.items.map((d: { chat_id: string }) => d.chat_id)).toEqual(['b', 'a']);
    expect((await list('?status=completed')).body.items.map((d: { chat_id: string }) => d.chat_id)).toEqual(['b']);
    expect((await list('?from_date=2026-02-02T00:00:00Z&to_date=2026-02-02T23:59:59Z')).body.items.map((d: { chat_id: string }) => d.chat_id)).toEqual(['b']);
    expect((await list('?limit=1&offset=1')).body).toMatchObject({ total: 3, items: [{ chat_id: 'b' }] });
    expectError(await list('?status=sleeping'), 400);
    expectError(await list('?from_date=yesterday'), 400);
    expectError(await list('?platform=icq'), 400);
  });

  it('reads history oldest first with filters, as JSON pages or a streamed CSV', async () => {
    const chat = 'h1';
    await seedHistory(chat, 1203, (i) => (i === 3 ? '=SUM(A1), "quoted"\nline' : `message ${i}`));
    const history = (query: string) => stack.http.get(`${dialogPath(chat)}/history${query}`).set(bot.headers);

    const first = expectStatus(await history('?limit=3'), 200).body;
    expect(first).toMatchObject({ total: 1203, limit: 3, offset: 0 });
    expect(first.items.map((m: { text: string }) => m.text)).toEqual(['message 0', 'message 1', 'message 2']);
    expect(first.items[1]).toEqual({
      id: expect.any(String),
      message_type: 'bot',
      text: 'message 1',
      payload: { buttons: ['a'] },
      step: 'welcome',
      created_at: '2026-01-01T10:00:01.000Z',
    });
    const users = (await history('?message_type=user&limit=2&offset=1')).body;
    expect(users).toMatchObject({ total: 602, items: [{ text: 'message 2' }, { text: 'message 4' }] });
    const window = (await history('?from_timestamp=2026-01-01T10:00:10Z&to_timestamp=2026-01-01T10:00:12Z')).body;
    expect(window.items.map((m: { text: string }) => m.text)).toEqual(['message 10', 'message 11', 'message 12']);
    expectError(await history('?message_type=robot'), 400);
    expectError(await history('?format=xml'), 400);

    const csv = expectStatus(await history('?format=csv'), 200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,created_at,message_type,step,text,payload');
    expect(lines[1]).toMatch(/^\d+,2026-01-01T10:00:00.000Z,user,ask_name,message 0,$/);
    // A formula is defused and quoting keeps commas, quotes and newlines inside one cell.
    expect(csv.text).toContain(`"'=SUM(A1), ""quoted""\nline"`);
    expect(lines.at(-1)).toContain('message 1202');
    expect(csv.text.split('\r\n').filter((l) => /^\d+,2026/.test(l))).toHaveLength(1203);
    const userCsv = (await history('?format=csv&message_type=bot')).text.trimEnd().split('\r\n');
    expect(userCsv).toHaveLength(602);

    // The CSV is read in pages of bounded size, never the whole history at once.
    const pages: number[] = [];
    for await (const page of dialogsRepository(stack.db).historyPages({ bot_id: bot.id, platform: 'telegram', chat_id: chat }, {}, 500))
      pages.push(page.length);
    expect(pages).toEqual([500, 500, 203]);

    // Messages of the same instant are neither skipped nor repeated across a page boundary.
    const same = new Date('2026-03-01T00:00:00.000Z').toISOString();
    await stack.db('dialog_messages').insert(
      ['x', 'y', 'z'].map((text) => ({
        bot_id: bot.id,
        platform: 'telegram',
        chat_id: 'tie',
        message_type: 'user',
        text,
        dedupe_key: `tie-${bot.id}-${text}`,
        created_at: same,
      })),
    );
    const tied: string[][] = [];
    for await (const page of dialogsRepository(stack.db).historyPages({ bot_id: bot.id, platform: 'telegram', chat_id: 'tie' }, {}, 2))
      tied.push(page.map((m) => m.text as string));
    expect(tied).toEqual([['x', 'y'], ['z']]);
  });

  it('exports a dialog as json, csv, xml and pdf', async () => {
    const chat = 'e1';
    await dialogsRepository(stack.db).saveProjection(dialogRow(bot.id, chat, { collected_data: { user_name: 'Anna & <Co>' }, scenario_id: bot.scenarioId }));
    await seedHistory(chat, 4, (i) => (i === 2 ? 'Столик на <двоих> & "вино"' : `m${i}`));
    const exported = (format: string) =>
      stack.http
        .get(`${dialogPath(chat)}/export?format=${format}`)
        .set(bot.headers)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });

    const json = expectStatus(await exported('json'), 200);
    expect(json.headers['content-disposition']).toContain(`dialog-telegram-${chat}.json`);
    const parsed = JSON.parse(json.body.toString('utf8'));
    expect(parsed.dialog).toMatchObject({ chat_id: chat, collected_data: { user_name: 'Anna & <Co>' } });
    expect(parsed.history.map((m: { text: string }) => m.text)).toEqual(['m0', 'm1', 'Столик на <двоих> & "вино"', 'm3']);

    const csv = expectStatus(await exported('csv'), 200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.toString('utf8').split('\r\n').filter(Boolean)).toHaveLength(5);

    const xml = expectStatus(await exported('xml'), 200).body.toString('utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<dialog bot_id="/);
    expect(xml).toContain('<variable name="user_name">Anna &amp; &lt;Co&gt;</variable>');
    expect(xml).toContain('<text>Столик на &lt;двоих&gt; &amp; &quot;вино&quot;</text>');
    expect(xml.match(/<message /g)).toHaveLength(4);

    const pdf = expectStatus(await exported('pdf'), 200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.body.subarray(-6).toString('latin1')).toContain('%%EOF');

    expectError(await stack.http.get(`${dialogPath(chat)}/export?format=docx`).set(bot.headers), 400);
    expectError(await stack.http.get(`${dialogPath('never-seen')}/export`).set(bot.headers), 404);
  });

  it('limits dialog operations per token, with Retry-After', async () => {
    const app = createApp({
      db: stack.db,
      config: stack.config,
      log: createLogger('silent'),
      temporal: stack.temporal,
      rateLimits: { limits: { dialog_operations: 3 } },
    });
    const http = request(app.callback());
    const headers = tokenFor(stack);
    for (let i = 0; i < 3; i++) expectStatus(await http.get(`/v1/bots/${bot.id}/dialogs`).set(headers), 200);
    const limited = expectError(await http.get(`${dialogPath('x')}/history`).set(headers), 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error.details).toMatchObject({ category: 'dialog_operations', limit: 3 });
    expectStatus(await http.get(`/v1/bots/${bot.id}/dialogs`).set(tokenFor(stack)), 200);
  });
});
