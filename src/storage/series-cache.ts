/**
 * Chart series (bucket_start plus four sums per bucket) read exactly, and kept in memory for the buckets no
 * write has touched since (issue #13): a year of hours is 8,761 rows, and turning them into JavaScript values
 * costs ~10× what SQLite needs to find them. The rows of a range are read once; afterwards a request reads
 * only the buckets after the cached range (the newest ones).
 *
 * Exactness: the cache forgets every row a write may have changed. The repository that owns the tables calls
 * invalidateFrom(sec) for a write whose earliest sample starts at sec (the rows of buckets that may reach
 * past sec go) and clear() for anything else that changes rows (imports, pruning, rebuilding totals or
 * days). A commit by another connection (another process on the same file) shows as a new
 * `PRAGMA data_version` and clears everything; reads inside an open transaction (which may roll back) are
 * answered but never cached.
 */
import type { Db, Stmt } from './db.js';
import type { SeriesRow, Tier } from './traffic-repo.js';

/**
 * Runs a series statement (columns bucket_start and four sums): doubles while every value is exact, else
 * the whole answer again with BigInt. Doubles are exact up to 2^53 - 1 and better-sqlite3 rounds larger
 * integers silently: any value past that (it can only have been rounded upwards, past MAX_SAFE_INTEGER)
 * sends the query down the BigInt path.
 */
export function exactSeriesStatement(db: Db, sql: string): (...args: unknown[]) => SeriesRow[] {
  const fast = db.prepare(sql).raw(true);
  const exact = db.prepare(sql).raw(true).safeIntegers(true);
  return (...args) => {
    const rows = fast.all(...args) as SeriesRow[];
    for (const r of rows) {
      if (!(Number.isSafeInteger(r[1]) && Number.isSafeInteger(r[2]) && Number.isSafeInteger(r[3]) && Number.isSafeInteger(r[4]))) {
        return (exact.all(...args) as SeriesRow[]).map((e) => [Number(e[0]), e[1], e[2], e[3], e[4]] as SeriesRow);
      }
    }
    return rows;
  };
}

interface Entry {
  tier: Tier;
  /** Rows with bucket_start in [from, to), ascending. */
  from: number;
  to: number;
  rows: SeriesRow[];
}

export interface SeriesCache {
  /**
   * The rows of [fromSec, toSec) for `key` (one tier and one set of interfaces): cached rows where they are
   * known, `read(from, to)` for the rest. The rows returned are shared with later answers: never mutate them.
   */
  get(tier: Tier, key: string, fromSec: number, toSec: number, read: (fromSec: number, toSec: number) => SeriesRow[]): SeriesRow[];
  /**
   * Sums over a whole range [fromSec, toSec) of a tier (one result per key and range), cached like the rows:
   * `read()` when not known. The result is shared: never mutate it.
   */
  range<T>(tier: Tier, key: string, fromSec: number, toSec: number, read: () => T): T;
  /** A write changed buckets of `tier` from `bucketStart` on (the start of the first bucket it touched). */
  invalidateFrom(tier: Tier, bucketStart: number): void;
  clear(): void;
  /** Rows held, for benchmarks and tests. */
  size(): number;
}

export function createSeriesCache(db: Db, options: { maxEntries?: number } = {}): SeriesCache {
  const maxEntries = options.maxEntries ?? 6;
  const entries = new Map<string, Entry>();
  const ranges = new Map<string, { tier: Tier; to: number; value: unknown }>();
  const dataVersion: Stmt = db.prepare('PRAGMA data_version').pluck();
  let seenVersion = dataVersion.get() as number;

  function checkVersion(): void {
    const v = dataVersion.get() as number;
    if (v !== seenVersion) {
      seenVersion = v;
      entries.clear();
      ranges.clear();
    }
  }

  return {
    get(tier, key, fromSec, toSec, read) {
      checkVersion();
      const cacheable = !db.inTransaction;
      const entry = entries.get(key);
      if (entry === undefined || entry.from > fromSec || toSec <= entry.from) {
        const rows = read(fromSec, toSec);
        if (cacheable) remember(key, { tier, from: fromSec, to: toSec, rows });
        return rows.slice();
      }
      // Known rows from fromSec up to the entry's end, then what lies beyond it from SQLite.
      let lo = 0;
      while (lo < entry.rows.length && entry.rows[lo]![0] < fromSec) lo++;
      if (lo > 0) entry.rows = entry.rows.slice(lo); // the window moved on: forget what it left behind
      entry.from = fromSec;
      let hi = entry.rows.length;
      while (hi > 0 && entry.rows[hi - 1]![0] >= toSec) hi--;
      const known = hi === entry.rows.length ? entry.rows.slice() : entry.rows.slice(0, hi);
      if (toSec > entry.to) {
        const tail = read(entry.to, toSec);
        if (cacheable) {
          entry.rows = entry.rows.concat(tail);
          entry.to = toSec;
        }
        for (const r of tail) known.push(r);
      }
      remember(key, entry);
      return known;
    },
    range(tier, key, fromSec, toSec, read) {
      checkVersion();
      const k = `${key}|${fromSec}|${toSec}`;
      const known = ranges.get(k);
      if (known !== undefined) {
        ranges.delete(k);
        ranges.set(k, known);
        return known.value as ReturnType<typeof read>;
      }
      const value = read();
      if (!db.inTransaction) {
        ranges.set(k, { tier, to: toSec, value });
        while (ranges.size > maxEntries * 2) ranges.delete(ranges.keys().next().value!);
      }
      return value;
    },
    invalidateFrom(tier, bucketStart) {
      for (const [key, e] of entries) {
        if (e.tier !== tier || e.to <= bucketStart) continue;
        if (bucketStart <= e.from) {
          entries.delete(key);
          continue;
        }
        let n = e.rows.length;
        while (n > 0 && e.rows[n - 1]![0] >= bucketStart) n--;
        e.rows = e.rows.slice(0, n);
        e.to = bucketStart;
      }
      for (const [key, r] of ranges) if (r.tier === tier && r.to > bucketStart) ranges.delete(key);
    },
    clear() {
      entries.clear();
      ranges.clear();
    },
    size() {
      let n = 0;
      for (const e of entries.values()) n += e.rows.length;
      return n;
    },
  };

  function remember(key: string, entry: Entry): void {
    entries.delete(key); // re-inserted last: Map order is the least recently used first
    entries.set(key, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  }
}
