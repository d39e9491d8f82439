import { randomUUID } from 'node:crypto';
import { gatewayRepository } from '../../src/db/gateway';
import { createTestDb, DB_KINDS, type TestDb } from '../support/stack';

describe.each(DB_KINDS)('gateway leases on %s', (kind) => {
  let testDb: TestDb;
  let leases: ReturnType<typeof gatewayRepository>;

  const addBot = async (status: 'active' | 'inactive', platform?: string) => {
    const id = randomUUID();
    const now = new Date().toISOString();
    await testDb.db('bots').insert({ id, account_id: 'acme', name: `bot-${id}`, description: '', status, settings: '{}', created_at: now, updated_at: now });
    if (platform) {
      await testDb.db('platform_connections').insert({
        id: randomUUID(),
        bot_id: id,
        platform,
        credentials_sealed: 'v1.x.y',
        settings: JSON.stringify({ channel_ids: ['1'] }),
        status: 'connected',
        created_at: now,
        updated_at: now,
      });
    }
    return id;
  };

  beforeAll(async () => {
    testDb = await createTestDb(kind);
    leases = gatewayRepository(testDb.db);
  });
  afterAll(() => testDb.drop());

  it('lists the active bots with a Discord connection only', async () => {
    const wanted = await addBot('active', 'discord');
    await addBot('inactive', 'discord');
    await addBot('active', 'telegram');
    await addBot('active');
    expect(await leases.discordBots()).toEqual([{ botId: wanted, settings: { channel_ids: ['1'] }, version: expect.any(String) }]);
  });

  it('gives a lease to one holder at a time, renews it for its holder, and lets another take it once expired or released', async () => {
    const bot = await addBot('active', 'discord');
    const now = Date.now();
    const [first, second] = await Promise.all([leases.acquire(bot, 'one', now, 30_000), leases.acquire(bot, 'two', now, 30_000)]);
    expect([first, second].sort()).toEqual([false, true]);
    const [winner, loser] = first ? ['one', 'two'] : ['two', 'one'];

    expect(await leases.acquire(bot, winner, now + 10_000, 30_000)).toBe(true);
    expect(await leases.acquire(bot, loser, now + 35_000, 30_000)).toBe(false);
    expect(await leases.acquire(bot, loser, now + 40_001, 30_000)).toBe(true);
    expect(await leases.acquire(bot, winner, now + 40_002, 30_000)).toBe(false);

    await leases.release(bot, winner);
    expect(await leases.acquire(bot, winner, now + 40_003, 30_000)).toBe(false);
    await leases.release(bot, loser);
    expect(await leases.acquire(bot, winner, now + 40_004, 30_000)).toBe(true);
  });

  it('refuses a lease of a bot that is gone, and drops leases with their bot', async () => {
    expect(await leases.acquire(randomUUID(), 'one', Date.now(), 30_000)).toBe(false);
    const bot = await addBot('active', 'discord');
    expect(await leases.acquire(bot, 'one', Date.now(), 30_000)).toBe(true);
    await testDb.db('platform_connections').where({ bot_id: bot }).delete();
    await testDb.db('bots').where({ id: bot }).delete();
    expect(await testDb.db('gateway_leases').where({ bot_id: bot })).toEqual([]);
  });
});
