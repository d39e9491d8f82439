/**
 * Erasing one customer (`POST .../erase?confirm=true`): afterwards the database, the media folder
 * and Temporal are read directly, and hold nothing of that chat, while another chat of the same bot
 * keeps everything, the file both users sent included.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dialogWorkflowId } from '../../workflows/messages';
import { type FakeTelegram, startFakeTelegram, telegramRequest, telegramUpdate } from '../fakes';
import type { SignedRequest } from '../fakes/server';
import { jpeg, png, receiptScenario } from '../media/files';
import { DB_KINDS, eventually, type Stack, startStack } from '../support/stack';

const PER_DIALOG_TABLES = ['dialogs', 'dialog_messages', 'dialog_events'];

describe.each(DB_KINDS)('erasing a customer (%s)', (dbKind) => {
  let tg: FakeTelegram;
  let stack: Stack;
  let mediaDir: string;

  beforeAll(async () => {
    tg = await startFakeTelegram();
    stack = await startStack({ db: dbKind, apiBases: { telegram: tg.url } });
    mediaDir = mkdtempSync(path.join(os.tmpdir(), 'erase-'));
    stack.config.mediaDir = mediaDir;
  });
  afterAll(async () => {
    await stack?.close();
    await tg?.close();
    rmSync(mediaDir, { recursive: true, force: true });
  });

  it('removes the dialog’s runs, rows, history, events and the files only its user sent; an audit entry without the chat id remains', async () => {
    const bot = await stack.createBot({ platform: 'telegram', credentials: { token: '7000004:AAH-erase' }, scenario: receiptScenario });
    const secret = bot.webhookSecret as string;
    const [erased, kept] = [4101, 4102];
    let updateId = 1;
    const post = (req: SignedRequest) => stack.http.post(`/v1/webhooks/telegram/${bot.id}`).set(req.headers).send(req.body);
    const text = (chat: number, words: string) => post(telegramUpdate({ updateId: updateId++, chatId: chat, text: words, secret }));
    const photo = (chat: number, bytes: Buffer, name: string) => {
      const fileId = tg.putFile(bytes, name);
      const id = updateId++;
      const sizes = [{ file_id: fileId, file_unique_id: `u${id}`, width: 64, height: 48, file_size: bytes.length }];
      const from = { id: chat, is_bot: false, first_name: 'Anna' };
      return post(
        telegramRequest({ update_id: id, message: { message_id: id, date: 1764000000, chat: { id: chat, type: 'private' }, from, photo: sizes } }, secret),
      );
    };
    const repliesTo = (chat: number, count: number) =>
      eventually(() => tg.callsTo('sendMessage').filter((c) => String(c.body.chat_id) === String(chat)).length >= count, 30_000, `${count} replies to ${chat}`);

    // The erased chat sends a photo of its own, then (a new conversation) the same photo as the kept chat.
    const [ownPhoto, sharedPhoto] = [await jpeg(70, 50), await png(60, 40)];
    await text(erased, '/start');
    await repliesTo(erased, 1);
    await photo(erased, ownPhoto, 'own.jpg');
    await repliesTo(erased, 2);
    await text(erased, 'again');
    await repliesTo(erased, 3);
    await photo(erased, sharedPhoto, 'shared.png');
    await repliesTo(erased, 4);
    await text(kept, '/start');
    await repliesTo(kept, 1);
    await photo(kept, sharedPhoto, 'shared.png');
    await repliesTo(kept, 2);

    const dialogPath = `/v1/bots/${bot.id}/dialogs/telegram/${erased}`;
    const rows = (table: string, chat: number) =>
      stack
        .db(table)
        .where({ bot_id: bot.id, platform: 'telegram', chat_id: String(chat) })
        .count<{ n: string | number }[]>({ n: '*' })
        .then(([r]) => Number(r.n));
    await eventually(async () => (await rows('dialog_messages', erased)) >= 8 && (await rows('dialog_messages', kept)) >= 4, 20_000, 'transcripts');
    // An operator's earlier write names the chat in the audit log too.
    const before = (await stack.http.get(dialogPath).set(bot.headers)).body;
    expect(
      (
        await stack.http
          .put(dialogPath)
          .set(bot.headers)
          .send({ collected_data: { note: 'vip' }, expected_version: before.version })
      ).status,
    ).toBe(200);

    const media = await stack.db('media').where({ bot_id: bot.id }).select('id', 'sha256', 'storage_key', 'thumbnail_key');
    expect(media).toHaveLength(2);
    const keysOf = async (row: { id: string; storage_key: string; thumbnail_key: string | null }) => [
      row.storage_key,
      ...(row.thumbnail_key ? [row.thumbnail_key] : []),
      ...(await stack.db('media_variants').where({ media_id: row.id }).whereNotNull('storage_key').pluck('storage_key')),
    ];
    const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const own = media.find((m) => m.sha256 === sha(ownPhoto));
    const shared = media.find((m) => m.sha256 === sha(sharedPhoto));
    const [ownKeys, sharedKeys] = [await keysOf(own), await keysOf(shared)];
    for (const key of [...ownKeys, ...sharedKeys]) expect(existsSync(path.join(mediaDir, key))).toBe(true);

    const workflowId = dialogWorkflowId(bot.id, 'telegram', String(erased));
    const runsBefore = await stack.temporal.workflow.getHandle(workflowId).describe();

    // Refusals first: nothing is touched.
    expect((await stack.http.post(`${dialogPath}/erase`).set(bot.headers)).status).toBe(400);
    expect((await stack.http.post(`${dialogPath}/erase?confirm=true`).set(stack.auth('viewer'))).status).toBe(403);
    expect((await stack.http.post(`${dialogPath}/erase?confirm=true`).set(stack.auth('operator', ['other']))).status).toBe(404);
    expect(await rows('dialogs', erased)).toBe(1);

    const res = await stack.http.post(`${dialogPath}/erase?confirm=true`).set(bot.headers);
    expect(res.status).toBe(204);

    // The database: nothing of the erased chat in any per-dialog table; the other chat intact.
    for (const table of PER_DIALOG_TABLES) {
      expect(await rows(table, erased)).toBe(0);
      expect(await rows(table, kept)).toBeGreaterThan(0);
    }
    // The media: the erased user's own file is gone, record and bytes; the shared one stays.
    expect(await stack.db('media').where({ id: own.id }).first()).toBeUndefined();
    expect(await stack.db('media_variants').where({ media_id: own.id }).first()).toBeUndefined();
    for (const key of ownKeys) expect(existsSync(path.join(mediaDir, key))).toBe(false);
    expect(await stack.db('media').where({ id: shared.id }).first()).toBeDefined();
    for (const key of sharedKeys) expect(existsSync(path.join(mediaDir, key))).toBe(true);

    // Temporal: no run of the dialog left, neither the current one nor its history.
    await eventually(
      () =>
        stack.temporal.workflow
          .getHandle(workflowId, runsBefore.runId)
          .describe()
          .then(
            () => false,
            (error: Error) => error.name === 'WorkflowNotFoundError',
          ),
      // The server deletes in the background: on the dev server a run just closed goes within some 20 s.
      60_000,
      'the run deleted',
    );
    const listed = async () => {
      const runs = [];
      for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
      return runs;
    };
    await eventually(async () => (await listed()).length === 0, 60_000, 'no run listed');

    // The audit log: the erasure is there, and no entry names the chat.
    const audit = await stack.db('audit_log').where({ account_id: 'acme' }).select('action', 'path');
    expect(audit.some((entry) => entry.action.endsWith('/erase') && entry.path === `/v1/bots/${bot.id}/dialogs/telegram/[erased]/erase`)).toBe(true);
    expect(audit.some((entry) => entry.action.startsWith('PUT') && entry.path === `/v1/bots/${bot.id}/dialogs/telegram/[erased]`)).toBe(true);
    expect(audit.filter((entry) => entry.path.includes(String(erased)))).toEqual([]);

    // A later message starts a new dialog, with none of the old data.
    await text(erased, '/start');
    const fresh = await eventually(
      async () => {
        const state = (await stack.http.get(dialogPath).set(bot.headers)).body;
        return state.version >= 1 ? state : undefined;
      },
      20_000,
      'a fresh dialog',
    );
    expect(fresh).toMatchObject({ version: 1, current_step: 'ask_photo', collected_data: {} });
    await eventually(async () => (await rows('dialog_messages', erased)) === 2, 20_000, 'the fresh transcript');
  }, 180_000);
});
