import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { migrationSource } from '../../migrations';
import { DATA_DIR } from '../config';

export type Db = Knex;

export interface DbOptions {
  /** `postgres://...`; unset means the embedded SQLite file. */
  databaseUrl?: string;
  /** SQLite file; defaults to `./data/bot-engine.sqlite`. */
  sqliteFile?: string;
  /** PostgreSQL schema to use (tests isolate themselves in one). */
  searchPath?: string;
  poolMax?: number;
}

export function isPostgres(db: Db): boolean {
  return (db.client as Knex.Client).config.client === 'pg';
}

interface SqliteConnection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

/** Statements kept per connection; the SQL of this app's queries takes far fewer shapes. */
const PREPARED_STATEMENTS = 500;

/**
 * knex prepares every query anew, and on SQLite preparing costs about as much as running a short
 * query. A statement is reusable for the same SQL (SQLite re-prepares it itself after a schema
 * change), so each connection keeps the most recently used ones.
 */
function reusePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const statements = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement) statements.delete(sql);
    else statement = prepare(sql);
    statements.set(sql, statement);
    if (statements.size > PREPARED_STATEMENTS) statements.delete(statements.keys().next().value as string);
    return statement;
  };
}

export function createDb(options: DbOptions = {}): Db {
  if (options.databaseUrl) {
    return knex({
      client: 'pg',
      connection: options.databaseUrl,
      searchPath: options.searchPath ? [options.searchPath] : undefined,
      pool: { min: 0, max: options.poolMax ?? 10 },
    });
  }
  const filename = options.sqliteFile ?? path.join(DATA_DIR, 'bot-engine.sqlite');
  if (filename !== ':memory:') mkdirSync(path.dirname(filename), { recursive: true });
  return knex({
    client: 'better-sqlite3',
    // An addon built for another Node.js than node_modules' one (`npm run test:node24` builds one for Node.js 24).
    connection: { filename, options: { nativeBinding: process.env.BETTER_SQLITE3_BINDING || undefined } },
    useNullAsDefault: true,
    pool: {
      // One connection: SQLite serializes writers anyway, and a single handle avoids SQLITE_BUSY.
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        reusePreparedStatements(conn);
        conn.pragma('journal_mode = WAL');
        conn.pragma('synchronous = NORMAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** JSON columns come back parsed from PostgreSQL and as text from SQLite. */
export function fromJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Timestamps come back as Date from PostgreSQL and as the stored ISO text from SQLite. */
export function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return new Date(value).toISOString();
  throw new TypeError(`A stored timestamp is a Date or a string, not ${typeof value}.`);
}

export { isUniqueViolation, mapDbError } from './errors';
