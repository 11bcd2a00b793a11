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
