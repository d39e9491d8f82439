import { AppError, conflict } from '../errors';

/** What a unique key of each table means to a client; the one place database conflicts get words. */
const UNIQUE_KEYS: Record<string, { code: string; message: string }> = {
  bots: { code: 'duplicate_name', message: 'A bot with this name already exists in this account.' },
  platform_connections: { code: 'platform_exists', message: 'The bot is already connected to this platform; update the connection instead.' },
  scenarios: { code: 'duplicate_version', message: 'This scenario version was stored concurrently; retry the request.' },
};

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as { code?: string };
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** The table a constraint error names: PostgreSQL reports it, SQLite writes it into the message. */
function tableOf(error: unknown): string | undefined {
  const e = error as { table?: string; message?: string };
  if (e?.table) return e.table;
  return /constraint failed: (\w+)\./i.exec(e?.message ?? '')?.[1];
}

/**
 * Maps a database error to the client's error, once for the whole API: a unique violation is a 409
 * naming what collided, a foreign key violation a 409 (the parent went away meanwhile). Anything
 * else is not the client's to know and stays a 500.
 */
export function mapDbError(error: unknown): AppError | undefined {
  if (isUniqueViolation(error)) {
    const known = UNIQUE_KEYS[tableOf(error) ?? ''];
    return conflict(known?.code ?? 'conflict', known?.message ?? 'The resource already exists.');
  }
  if (isForeignKeyViolation(error)) return conflict('conflict', 'A resource this request refers to was removed meanwhile.');
  return undefined;
}
