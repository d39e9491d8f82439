import { type Db, toIso } from './index';

export interface AuditEntry {
  id: string;
  account_id: string;
  actor: string;
  role: string;
  action: string;
  method: string;
  path: string;
  status: number;
  request_id: string;
  created_at: string;
}

/** An `audit_log` row as either driver returns it. */
interface AuditRow extends Omit<AuditEntry, 'id' | 'created_at'> {
  id: number | string;
  created_at: Date | string;
}

/** Who changed what and when, per account: written for every successful operator write. */
export function auditRepository(db: Db) {
  return {
    async record(entry: Omit<AuditEntry, 'id' | 'created_at'>): Promise<void> {
      await db<AuditRow>('audit_log').insert({ ...entry, created_at: new Date().toISOString() });
    },

    /**
     * Rewrites the recorded paths under `prefix` (a path naming a person, such as a dialog's chat id)
     * to start with `replacement` instead; returns how many entries changed.
     */
    async replacePathPrefix(accountId: string, prefix: string, replacement: string): Promise<number> {
      const changed = await db('audit_log')
        .where({ account_id: accountId })
        .where((q) => {
          q.where('path', prefix).orWhereRaw('substr(path, 1, ?) = ?', [prefix.length + 1, `${prefix}/`]);
        })
        .update({ path: db.raw('? || substr(path, ?)', [replacement, prefix.length + 1]) });
      return Number(changed);
    },

    /** Newest first. */
    async list(accountId: string, filter: { actor?: string; from?: string; to?: string; limit: number; offset: number }) {
      const query = db<AuditRow>('audit_log')
        .where({ account_id: accountId })
        .modify<AuditRow, AuditRow[]>((q) => {
          if (filter.actor) q.where('actor', filter.actor);
          if (filter.from) q.where('created_at', '>=', new Date(filter.from).toISOString());
          if (filter.to) q.where('created_at', '<=', new Date(filter.to).toISOString());
        });
      const [{ total }] = await query.clone().count<{ total: string | number }[]>({ total: '*' });
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).offset(filter.offset);
      return {
        total: Number(total),
        items: rows.map((r): AuditEntry => ({
          id: String(r.id),
          account_id: r.account_id,
          actor: r.actor,
          role: r.role,
          action: r.action,
          method: r.method,
          path: r.path,
          status: Number(r.status),
          request_id: r.request_id,
          created_at: toIso(r.created_at) as string,
        })),
      };
    },
  };
}

export type AuditRepository = ReturnType<typeof auditRepository>;
