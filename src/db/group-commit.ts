/** Items one transaction takes at most; the rest wait for the next. */
const MAX_BATCH = 200;

/**
 * Group commit: each call resolves once its item is written, and the items that arrive while a
 * write is in flight go together in the next one. Alone, an item is written at once; under load,
 * many small transactions become a few larger ones (on SQLite a turn's rows cost a third of the CPU
 * in batches of 20; on PostgreSQL a batch is one round trip per table instead of one per turn).
 * When a batch fails, its items are written one by one, so a bad one (say, of a bot deleted
 * meanwhile) fails alone.
 */
export function groupCommit<T>(writeMany: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let queue: { item: T; settle: (error?: unknown) => void }[] = [];
  let writing = false;

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      try {
        await writeMany(batch.map((entry) => entry.item));
        for (const entry of batch) entry.settle();
      } catch (error) {
        if (batch.length === 1) batch[0].settle(error ?? new Error('write failed'));
        else for (const entry of batch) await writeMany([entry.item]).then(() => entry.settle(), (e: unknown) => entry.settle(e ?? new Error('write failed')));
      }
    }
    writing = false;
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      if (writing) return;
      writing = true;
      // After the current microtasks, so the items of one tick go together.
      queueMicrotask(() => void drain());
    });
}
