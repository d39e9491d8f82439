/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import { loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db';

async function main() {
  const config = loadConfig();
  const db = createDb({ databaseUrl: config.databaseUrl });
  const applied = await migrateLatest(db);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
  await db.destroy();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
