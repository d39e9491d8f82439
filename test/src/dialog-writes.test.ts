import { botsRepository } from '../../src/db/bots';
import { type DialogWrite, dialogsRepository } from '../../src/db/dialogs';
import { groupCommit } from '../../src/db/group-commit';
import { dialogRow } from '../api/support';
import { createTestDb, DB_KINDS, type TestDb } from '../support/stack';

describe('group commit', () => {
  const gate = () => {
    let open = () => undefined as void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  };

  it('writes an item alone at once, and the items that arrive meanwhile together next', async () => {
    const batches: number[][] = [];
    const first = gate();
    const write = groupCommit(async (items: number[]) => {
      batches.push(items);
      if (items.includes(1)) await first.opened;
    });
    const one = write(1);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [2, 3, 4].map(write);
    first.open();
    await Promise.all([one, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('writes a failed batch one by one, so only the bad item fails', async () => {
    const batches: string[][] = [];
    const write = groupCommit(async (items: string[]) => {
      batches.push(items);
      if (items.includes('bad')) throw new Error('constraint failed');
    });
    const results = await Promise.allSettled(['a', 'bad', 'c'].map(write));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('constraint failed'));
    expect(batches).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });
});

describe.each(DB_KINDS)('dialog writes of many turns in one transaction (%s)', (kind) => {
  let t: TestDb;
  let botId: string;
  beforeEach(async () => {
    t = await createTestDb(kind);
    botId = (await botsRepository(t.db).create({ account_id: 'a', name: 'b' })).id;
  });
  afterEach(() => t.drop());

  const turn = (chat: string, version: number): DialogWrite => ({
    key: { bot_id: botId, platform: 'telegram', chat_id: chat },
    scenarioId: null,
    transcript: [{ message_type: 'user', text: `v${version}`, step: 's', platform_message_id: `${version}`, dedupe_key: `${chat}:in:${version}`, created_at: new Date().toISOString() }],
    events: [{ kind: 'state_changed', step: 's', data: { version }, dedupe_key: `${chat}:event:${version}`, created_at: new Date().toISOString() }],
    projection: dialogRow(botId, chat, { version, current_step: `step${version}` }),
  });

  it('keeps every row once and the newest projection of each dialog, whatever the order', async () => {
    const repo = dialogsRepository(t.db);
    await repo.write([turn('a', 2), turn('b', 1), turn('a', 3), turn('a', 1)]);
    // Retried turns write nothing twice, and an older revision does not go back.
    await repo.write([turn('a', 2), turn('b', 1)]);
    expect((await repo.get({ bot_id: botId, platform: 'telegram', chat_id: 'a' }))?.current_step).toBe('step3');
    expect((await repo.get({ bot_id: botId, platform: 'telegram', chat_id: 'b' }))?.current_step).toBe('step1');
    expect((await repo.history({ bot_id: botId, platform: 'telegram', chat_id: 'a' }, { limit: 10, offset: 0 })).items.map((i) => i.text).sort()).toEqual(['v1', 'v2', 'v3']);
    const events = await t.db('dialog_events').where({ bot_id: botId }).count<{ n: string | number }[]>({ n: '*' });
    expect(Number(events[0].n)).toBe(4);
  });

  it('writes nothing of a batch that fails', async () => {
    const repo = dialogsRepository(t.db);
    const orphan = { ...turn('c', 1), key: { bot_id: 'no-such-bot', platform: 'telegram' as const, chat_id: 'c' } };
    // Matched by message: SQLite's error may come from another test file's realm (jest), not an Error here.
    await expect(repo.write([turn('a', 1), orphan])).rejects.toHaveProperty('message', expect.stringMatching(/foreign key/i));
    expect(await repo.get({ bot_id: botId, platform: 'telegram', chat_id: 'a' })).toBeUndefined();
    expect((await repo.history({ bot_id: botId, platform: 'telegram', chat_id: 'a' }, { limit: 10, offset: 0 })).total).toBe(0);
  });
});
