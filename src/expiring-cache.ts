/**
 * How long a process may go on using a bot or platform connection that another process changed:
 * they are read on every platform call and change rarely.
 */
export const CONNECTION_CACHE_TTL_MS = 5_000;

/** Values kept `ttlMs` after they were loaded; past `maxEntries` the oldest go first. */
export function expiringCache<V>(ttlMs: number, maxEntries = 10_000) {
  const entries = new Map<string, { value: V; until: number }>();
  return {
    async get(key: string, load: () => Promise<V>): Promise<V> {
      const entry = entries.get(key);
      if (entry && entry.until > Date.now()) return entry.value;
      const value = await load();
      entries.delete(key);
      entries.set(key, { value, until: Date.now() + ttlMs });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      return value;
    },
    clear(): void {
      entries.clear();
    },
  };
}
