/**
 * The product database of one bench run: a SQLite file in the run's directory, or a PostgreSQL
 * database created for the run and dropped after it, so that a run never touches other data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createDb, migrateLatest } from '../src/db';

/** The server `--db postgres` creates its database on, unless BENCH_DATABASE_URL names another. */
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  /** What the API and worker processes need in their environment to use it. */
  env: Record<string, string>;
  /** Bytes of the product's tables (and their indexes), to divide by the dialogs stored. */
  size(): Promise<number>;
  drop(): Promise<void>;
}

export function filesSize(files: string[]): number {
  return files.reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
}

export async function createBenchDatabase(kind: 'sqlite' | 'postgres', dir: string): Promise<BenchDatabase> {
  return kind === 'sqlite' ? createSqlite(dir) : createPostgres(process.env.BENCH_DATABASE_URL ?? DEFAULT_POSTGRES_URL);
}

async function createSqlite(dir: string): Promise<BenchDatabase> {
  const file = path.join(dir, 'bot-engine.sqlite');
  const db = createDb({ sqliteFile: file });
  await migrateLatest(db);
  return {
    env: {},
    size: async () => {
      // Fold the WAL into the file first, so the number is the data, not the journal's history.
      await db.raw('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
      return filesSize([file, `${file}-wal`]);
    },
    drop: () => db.destroy(),
  };
}

/** `server` is any database the bench may connect to as a role allowed to create databases. */
async function createPostgres(server: string): Promise<BenchDatabase> {
  // Only [a-z0-9_]: the name goes into SQL as an identifier.
  const name = `bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = () => createDb({ databaseUrl: server, poolMax: 1 });
  const creator = admin();
  try {
    await creator.raw(`CREATE DATABASE ${name}`);
  } finally {
    await creator.destroy();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = createDb({ databaseUrl: url.toString(), poolMax: 2 });
  const drop = async () => {
    await db.destroy();
    const dropper = admin();
    try {
      // FORCE: a SIGKILLed worker's connections may not be gone yet.
      await dropper.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await dropper.destroy();
    }
  };
  try {
    await migrateLatest(db);
  } catch (error) {
    await drop();
    throw error;
  }
  return {
    env: { DATABASE_URL: url.toString() },
    size: async () => {
      const result = await db.raw(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
      );
      return Number(result.rows[0].bytes);
    },
    drop,
  };
}
