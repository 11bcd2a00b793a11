import { HttpError } from '../../shared/errors.js';

/**
 * Answers of the catalog that only the catalog's own writes can change — how many courses a
 * filter matches, and the best-first order of a search — kept in memory for a short while.
 * Counting a filter or ranking every match of a search costs time in proportion to the
 * catalog; these answers are asked for far more often than courses change.
 *
 * Every write of the courses and categories services clears the cache at once, so one process
 * is always exact. A write made through another instance shows here within the TTL; the items
 * themselves are always read fresh and pass the visibility policy again, so a stale answer can
 * only be a count or a place in the ranking, never a draft's content.
 *
 * Concurrent misses of one key share one computation; a failed computation is not kept.
 */
export interface CatalogCache {
  remember<T>(key: string, compute: () => Promise<T>): Promise<T>;
  clear(): void;
}

export function createCatalogCache(options: { ttlMs: number; maxEntries: number; now?: () => number }): CatalogCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { expires: number; value: Promise<unknown> }>();

  return {
    remember<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const hit = entries.get(key);
      if (hit && hit.expires > now()) return hit.value as Promise<T>;
      const value = compute();
      entries.delete(key);
      entries.set(key, { expires: now() + options.ttlMs, value });
      // Map keeps insertion order: the first key is the one written longest ago.
      if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
      void value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key);
      });
      return value;
    },
    clear() {
      entries.clear();
    },
  };
}

/**
 * At most `concurrency` pieces of expensive catalog work (uncached counts, search pages,
 * min_rating filters, deep pages) run at once; the rest wait their turn, in order, without
 * holding anything. On SQLite every statement runs on the event loop, so without this one
 * client sending uncached searches in parallel queues its statements in front of every other
 * request (issue 10: 9 s for GET /api/categories/); with it, any other request waits for at
 * most `concurrency` such statements. On PostgreSQL it keeps the pool from being filled by
 * them. Past `maxWaiting` waiters the work is refused at once with a 503 (`catalog_busy`,
 * Retry-After: 1) instead of queueing without bound.
 */
export interface WorkGate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createWorkGate(options: { concurrency: number; maxWaiting: number }): WorkGate {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    // Handed over on the next turn of the loop, after pending I/O: other requests are read and
    // answered between two pieces of expensive work, not after the whole queue.
    if (next) setImmediate(next);
    else active--;
  };
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (active < options.concurrency) {
        active++;
      } else {
        if (waiting.length >= options.maxWaiting) {
          throw new HttpError(503, { detail: 'The catalog is busy; try again shortly.' }, 'catalog_busy', { 'retry-after': '1' });
        }
        // The slot passes directly from the one finishing to the next in line.
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
