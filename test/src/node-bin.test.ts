import os from 'node:os';
import path from 'node:path';
import { createDb } from '../../src/db';

// `npm run test:node24` runs the suite on Node.js 24 with node_modules built for Node.js 20: the
// embedded database must load the better-sqlite3 addon scripts/node-bin.js built, which it names here.
describe('BETTER_SQLITE3_BINDING', () => {
  const configured = process.env.BETTER_SQLITE3_BINDING;
  afterEach(() => {
    if (configured === undefined) delete process.env.BETTER_SQLITE3_BINDING;
    else process.env.BETTER_SQLITE3_BINDING = configured;
  });

  it('is the addon the embedded database loads', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-better-sqlite3-addon.node');
    process.env.BETTER_SQLITE3_BINDING = missing;
    const db = createDb({ sqliteFile: ':memory:' });
    try {
      await expect(db.raw('select 1')).rejects.toThrow(missing);
    } finally {
      await db.destroy();
    }
  });
});
