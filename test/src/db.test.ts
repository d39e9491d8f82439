import { createDb, type Db } from '../../src/db';

describe('embedded SQLite', () => {
  let db: Db;
  beforeEach(() => {
    db = createDb({ sqliteFile: ':memory:' });
  });
  afterEach(() => db.destroy());

  it('reuses prepared statements, and they follow schema changes', async () => {
    await db.schema.createTable('t', (table) => {
      table.integer('id').primary();
      table.string('name');
    });
    for (let id = 1; id <= 3; id++) await db('t').insert({ id, name: `n${id}` });
    const read = () => db('t').select('*').orderBy('id');
    expect(await read()).toEqual([1, 2, 3].map((id) => ({ id, name: `n${id}` })));

    // The same SQL again after a column was added: the kept statement sees the new column.
    await db.schema.alterTable('t', (table) => table.string('extra').defaultTo('x'));
    expect(await read()).toEqual([1, 2, 3].map((id) => ({ id, name: `n${id}`, extra: 'x' })));
    await db.transaction(async (trx) => {
      await trx('t').where({ id: 1 }).update({ name: 'changed' });
    });
    expect((await read())[0]).toEqual({ id: 1, name: 'changed', extra: 'x' });
  });
});
