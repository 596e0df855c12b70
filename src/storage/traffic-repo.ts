/**
 * traffic_data (raw samples) and its rollup tiers: writes, sums and pruning. Every sample is added to the
 * 1-minute, 1-hour and calendar-day tiers as it is written, so a query reads as many rows as it returns
 * buckets (times interfaces), never the raw rows it covers.
 */
import type { RawCounters } from '../collector/counter-source.js';
import { COUNTER_COLUMNS, countersToParams, rowToCounters, type CounterRow } from './counter-columns.js';
import type { Db, Stmt } from './db.js';
import { createSeriesCache, exactSeriesStatement } from './series-cache.js';
import { fixedGrid, spreadOverBuckets, zonedDayGrid, type BucketGrid } from './spans.js';

export type Tier = 'traffic_1m' | 'traffic_1h' | 'traffic_1d';
export const TIERS: readonly Tier[] = ['traffic_1m', 'traffic_1h', 'traffic_1d'];

/** Bytes and packets that crossed one interface in (startSec, endSec]. */
export interface TrafficSample {
  interfaceName: string;
  startSec: number;
  endSec: number;
  counters: RawCounters;
}

export interface RawRow extends CounterRow {
  interface_name: string;
  timestamp: number;
  span_seconds: number;
}

export interface BucketSum extends CounterRow {
  bucket_start: number;
}

/**
 * The four sums a chart needs for one bucket, as [bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets]:
 * numbers when every value fits a double exactly, else BigInt. Arrays, not objects: a year of hours is
 * 8,760 of them per request.
 */
export type SeriesRow = [bucketStart: number, rxBytes: number | bigint, txBytes: number | bigint, rxPackets: number | bigint, txPackets: number | bigint];

/** The interfaces summed in a series: a list, or the pre-summed monitored set. */
export type SeriesScope = { interfaces: readonly string[] } | 'monitored-total';

export interface RetentionSec {
  raw: number;
  minute: number;
  hour: number;
  /** 0 keeps days forever. */
  day: number;
}

export interface TrafficRepo {
  /** Adds samples to traffic_data and every tier. Call inside the poll's transaction. */
  write(samples: readonly TrafficSample[]): void;
  /** Sums of a tier per bucket_start over the given interfaces, buckets in [fromSec, toSec). */
  sumByBucket(tier: Tier, interfaces: readonly string[], fromSec: number, toSec: number): BucketSum[];
  /** Sums per interface over [fromSec, toSec) of a tier. */
  sumByInterface(tier: Tier, interfaces: readonly string[] | null, fromSec: number, toSec: number): (CounterRow & { interface_name: string })[];
  /** Sums of bytes and packets per bucket_start in [fromSec, toSec), for charts: four columns, fast. */
  series(tier: Tier, scope: SeriesScope, fromSec: number, toSec: number): SeriesRow[];
  /** The interfaces the pre-summed totals cover (the monitored set when they were last rebuilt). */
  totalsInterfaces(): readonly string[];
  /** Makes the pre-summed totals cover exactly these interfaces (rebuilds them when the set differs). */
  setTotalsInterfaces(names: readonly string[]): void;
  /** Whether any traffic of this interface is stored (the day tier keeps it longest). */
  hasTraffic(interfaceName: string): boolean;
  /** Oldest bucket kept in a tier, or null when empty. */
  oldestBucket(tier: Tier): number | null;
  /** Raw samples, newest first. */
  history(filter: { interfaceName: string | null; fromSec: number; toSec: number; limit: number; offset: number }): { rows: RawRow[]; total: number };
  /** The newest raw sample of each interface (or of one). */
  latest(interfaceName: string | null): RawRow[];
  /** Iterates raw samples or a tier's buckets oldest first, for export; never holds them all. */
  iterate(source: 'raw' | Tier, interfaceName: string | null, fromSec: number, toSec: number): IterableIterator<RawRow | (BucketSum & { interface_name: string })>;
  /** Deletes what is older than each tier's retention. Returns rows deleted. */
  prune(nowSec: number, retention: RetentionSec): number;
  /** Rebuilds the calendar-day tier for a new time zone, from minutes where kept and hours before. */
  rebuildDays(timeZone: string): void;
  /** Adds counters to one bucket of one tier (and the pre-summed total when the interface is in it): imports. */
  addToBucket(tier: Tier, interfaceName: string, bucketStart: number, counters: RawCounters): void;
  /** Stores one raw sample as it was exported (no tiers); false when that sample is already stored. */
  restoreRaw(row: { interfaceName: string; timestamp: number; spanSeconds: number; counters: RawCounters }): boolean;
  /** The tier's grid (bucket starts), for importers that place data in it. */
  grid(tier: Tier): BucketGrid;
}

const cols = COUNTER_COLUMNS.join(', ');
const placeholders = COUNTER_COLUMNS.map(() => '?').join(', ');
const addExcluded = COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ');
const sums = COUNTER_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');

export function createTrafficRepo(db: Db, options: { timezone: string }): TrafficRepo {
  let dayGrid = zonedDayGrid(options.timezone);
  const grids: Record<Tier, () => BucketGrid> = {
    traffic_1m: () => minuteGrid,
    traffic_1h: () => hourGrid,
    traffic_1d: () => dayGrid,
  };
  const minuteGrid = fixedGrid(60);
  const hourGrid = fixedGrid(3600);

  const insertRaw = db.prepare(
    `INSERT INTO traffic_data (interface_name, timestamp, span_seconds, ${cols}) VALUES (?, ?, ?, ${placeholders})
     ON CONFLICT(interface_name, timestamp) DO UPDATE SET span_seconds = span_seconds + excluded.span_seconds, ${addExcluded}`,
  );
  const upsertTier = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db.prepare(
        `INSERT INTO ${t} (interface_name, bucket_start, ${cols}) VALUES (?, ?, ${placeholders})
         ON CONFLICT(interface_name, bucket_start) DO UPDATE SET ${addExcluded}`,
      ),
    ]),
  ) as Record<Tier, Stmt>;

  const TOTAL_OF: Record<Tier, string> = { traffic_1m: 'traffic_total_1m', traffic_1h: 'traffic_total_1h', traffic_1d: 'traffic_total_1d' };
  const upsertTotal = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db.prepare(
        `INSERT INTO ${TOTAL_OF[t]} (bucket_start, ${cols}) VALUES (?, ${placeholders})
         ON CONFLICT(bucket_start) DO UPDATE SET ${addExcluded}`,
      ),
    ]),
  ) as Record<Tier, Stmt>;
  const seriesCols = 'bucket_start, SUM(rx_bytes) AS rx_bytes, SUM(tx_bytes) AS tx_bytes, SUM(rx_packets) AS rx_packets, SUM(tx_packets) AS tx_packets';
  const seriesOf = Object.fromEntries(
    TIERS.map((t) => [
      t,
      {
        listed: exactSeriesStatement(
          db,
          `SELECT ${seriesCols} FROM ${t}
           WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?
           GROUP BY bucket_start ORDER BY bucket_start`,
        ),
        total: exactSeriesStatement(
          db,
          `SELECT bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets FROM ${TOTAL_OF[t]}
           WHERE bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start`,
        ),
        // One interface: a range of its primary key, already in order, nothing to group.
        single: exactSeriesStatement(
          db,
          `SELECT bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets FROM ${t}
           WHERE interface_name = ? AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start`,
        ),
      },
    ]),
  ) as Record<Tier, Record<'listed' | 'total' | 'single', (...args: unknown[]) => SeriesRow[]>>;
  // Rows of closed buckets stay in memory between chart reloads; every method below that changes rows tells it.
  const seriesCache = createSeriesCache(db);
  const totalsKey = 'totals_interfaces';
  const readTotalsSet = (): string[] => {
    const row = db.prepare('SELECT value FROM configuration WHERE key = ?').get(totalsKey) as { value: string } | undefined;
    return row === undefined ? [] : (JSON.parse(row.value) as string[]);
  };
  let totalsList = readTotalsSet();
  let totalsSet = new Set(totalsList);

  const sumByBucketStmt = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db
        .prepare(
          `SELECT bucket_start, ${sums} FROM ${t}
           WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?
           GROUP BY bucket_start ORDER BY bucket_start`,
        )
        .safeIntegers(true),
    ]),
  ) as Record<Tier, Stmt>;

  const sumByInterfaceStmt = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db
        .prepare(
          `SELECT interface_name, ${sums} FROM ${t}
           WHERE (? IS NULL OR interface_name IN (SELECT value FROM json_each(?))) AND bucket_start >= ? AND bucket_start < ?
           GROUP BY interface_name ORDER BY interface_name`,
        )
        .safeIntegers(true),
    ]),
  ) as Record<Tier, Stmt>;

  const oldestStmt = Object.fromEntries(TIERS.map((t) => [t, db.prepare(`SELECT MIN(bucket_start) AS b FROM ${t}`)])) as Record<
    Tier,
    Stmt
  >;

  const historyWhere = `(? IS NULL OR interface_name = ?) AND timestamp >= ? AND timestamp < ?`;
  const historyStmt = db
    .prepare(`SELECT interface_name, timestamp, span_seconds, ${cols} FROM traffic_data WHERE ${historyWhere} ORDER BY timestamp DESC, interface_name LIMIT ? OFFSET ?`)
    .safeIntegers(true);
  const historyCount = db.prepare(`SELECT COUNT(*) AS n FROM traffic_data WHERE ${historyWhere}`);
  const latestStmt = db
    .prepare(
      `SELECT t.interface_name, t.timestamp, t.span_seconds, ${COUNTER_COLUMNS.map((c) => `t.${c}`).join(', ')}
       FROM traffic_data t
       JOIN (SELECT interface_name, MAX(timestamp) AS ts FROM traffic_data WHERE ? IS NULL OR interface_name = ? GROUP BY interface_name) m
         ON t.interface_name = m.interface_name AND t.timestamp = m.ts
       ORDER BY t.interface_name`,
    )
    .safeIntegers(true);
  const iterateRaw = db
    .prepare(
      `SELECT interface_name, timestamp, span_seconds, ${cols} FROM traffic_data
       WHERE (? IS NULL OR interface_name = ?) AND timestamp >= ? AND timestamp < ? ORDER BY timestamp, interface_name`,
    )
    .safeIntegers(true);
  const iterateTier = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db
        .prepare(
          `SELECT interface_name, bucket_start, ${cols} FROM ${t}
           WHERE (? IS NULL OR interface_name = ?) AND bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start, interface_name`,
        )
        .safeIntegers(true),
    ]),
  ) as Record<Tier, Stmt>;

  const hasTrafficStmt = db.prepare('SELECT 1 FROM traffic_1d WHERE interface_name = ? LIMIT 1');
  const pruneRaw = db.prepare('DELETE FROM traffic_data WHERE timestamp < ?');
  const pruneTotal = Object.fromEntries(TIERS.map((t) => [t, db.prepare(`DELETE FROM ${TOTAL_OF[t]} WHERE bucket_start < ?`)])) as Record<
    Tier,
    Stmt
  >;
  const pruneTier = Object.fromEntries(TIERS.map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE bucket_start < ?`)])) as Record<
    Tier,
    Stmt
  >;

  function addToTier(tier: Tier, sample: TrafficSample, withTotal = totalsSet.has(sample.interfaceName)): void {
    for (const share of spreadOverBuckets(sample.startSec, sample.endSec, sample.counters, grids[tier]())) {
      const params = countersToParams(share.counters);
      upsertTier[tier].run(sample.interfaceName, share.bucketStart, ...params);
      if (withTotal) upsertTotal[tier].run(share.bucketStart, ...params);
    }
  }

  /** Recomputes a tier's pre-summed totals from its per-interface rows. */
  function rebuildTotal(tier: Tier): void {
    db.exec(`DELETE FROM ${TOTAL_OF[tier]}`);
    db.prepare(
      `INSERT INTO ${TOTAL_OF[tier]} (bucket_start, ${cols})
       SELECT bucket_start, ${sums} FROM ${tier} WHERE interface_name IN (SELECT value FROM json_each(?)) GROUP BY bucket_start`,
    ).run(JSON.stringify(totalsList));
  }

  /**
   * Adds a tier's rows with bucket_start in [fromSec, toSec) to the day tier, a page at a time: better-sqlite3
   * can't write while a statement is still iterating, and a year of rows shouldn't sit in memory.
   */
  function feedDays(tier: 'traffic_1m' | 'traffic_1h', seconds: number, fromSec: number, toSec: number): void {
    const page = db
      .prepare(
        `SELECT interface_name, bucket_start, ${cols} FROM ${tier}
         WHERE bucket_start < ? AND (bucket_start > ? OR (bucket_start = ? AND interface_name > ?))
         ORDER BY bucket_start, interface_name LIMIT 5000`,
      )
      .safeIntegers(true);
    // Keyset paging on (bucket_start, interface_name); the first page starts at fromSec.
    let lastStart = fromSec - 1;
    let lastName = '\uffff';
    for (;;) {
      const rows = page.all(toSec, lastStart, lastStart, lastName) as (BucketSum & { interface_name: string })[];
      if (rows.length === 0) return;
      for (const r of rows) {
        const start = Number(r.bucket_start);
        addToTier('traffic_1d', { interfaceName: r.interface_name, startSec: start, endSec: start + seconds, counters: rowToCounters(r) }, false);
        lastStart = start;
        lastName = r.interface_name;
      }
    }
  }

  const restoreRawStmt = db.prepare(
    `INSERT INTO traffic_data (interface_name, timestamp, span_seconds, ${cols}) VALUES (?, ?, ?, ${placeholders}) ON CONFLICT DO NOTHING`,
  );

  const repo: TrafficRepo = {
    addToBucket(tier, interfaceName, bucketStart, counters) {
      seriesCache.invalidateFrom(tier, bucketStart);
      const params = countersToParams(counters);
      upsertTier[tier].run(interfaceName, bucketStart, ...params);
      if (totalsSet.has(interfaceName)) upsertTotal[tier].run(bucketStart, ...params);
    },
    restoreRaw(row) {
      return restoreRawStmt.run(row.interfaceName, row.timestamp, row.spanSeconds, ...countersToParams(row.counters)).changes > 0;
    },
    grid(tier) {
      return grids[tier]();
    },
    write(samples) {
      // Raw rows one per sample; each tier's shares (and the pre-summed totals) added up in memory first, so
      // a batch of polls writes each (interface, bucket) and each total bucket once (issue #13).
      const perTier = TIERS.map(() => new Map<string, { name: string; bucketStart: number; sums: bigint[] }>());
      const totals = TIERS.map(() => new Map<number, bigint[]>());
      const addShare = (t: number, name: string, bucketStart: number, params: readonly bigint[]): void => {
        const key = `${bucketStart}\u0000${name}`;
        const row = perTier[t]!.get(key);
        if (row === undefined) perTier[t]!.set(key, { name, bucketStart, sums: [...params] });
        else addInto(row.sums, params);
        if (!totalsSet.has(name)) return;
        const total = totals[t]!.get(bucketStart);
        if (total === undefined) totals[t]!.set(bucketStart, [...params]);
        else addInto(total, params);
      };
      /**
       * Samples that lie inside one bucket of every tier (a poll's span nearly always does), summed per interface,
       * minute and day before they are added to the tiers: once per interface and minute rather than three times
       * per sample. The sums are the same: spreadOverBuckets gives such a sample whole to its bucket in each tier.
       */
      const whole = new Map<string, { name: string; atSec: number; sums: bigint[] }>();
      const days = grids.traffic_1d();
      // The first bucket of each tier these samples add to (a share never lands before its sample's start).
      let earliest = Infinity;
      for (const s of samples) earliest = Math.min(earliest, s.startSec, s.endSec);
      if (earliest !== Infinity) for (const tier of TIERS) seriesCache.invalidateFrom(tier, grids[tier]().startOf(earliest));
      for (const s of samples) {
        const c = s.counters;
        insertRaw.run(s.interfaceName, s.endSec, Math.max(0, s.endSec - s.startSec), c.rxBytes, c.txBytes, c.rxPackets, c.txPackets, c.rxErrors, c.txErrors, c.rxDrops, c.txDrops);
        // The instants the sample covers, (startSec, endSec]; a span of zero (or backwards) is its end alone.
        const first = s.endSec > s.startSec ? s.startSec : s.endSec;
        const last = s.endSec > s.startSec ? s.endSec - 1 : s.endSec;
        const minute = minuteGrid.startOf(first);
        const day = days.startOf(first);
        if (minute === minuteGrid.startOf(last) && hourGrid.startOf(first) === hourGrid.startOf(last) && day === days.startOf(last)) {
          const key = `${minute}\u0000${day}\u0000${s.interfaceName}`;
          const sum = whole.get(key);
          if (sum === undefined) whole.set(key, { name: s.interfaceName, atSec: first, sums: countersToParams(c) });
          else addCountersInto(sum.sums, c);
          continue;
        }
        for (let t = 0; t < TIERS.length; t++) {
          for (const share of spreadOverBuckets(s.startSec, s.endSec, c, grids[TIERS[t]!]())) addShare(t, s.interfaceName, share.bucketStart, countersToParams(share.counters));
        }
      }
      for (const sum of whole.values()) {
        for (let t = 0; t < TIERS.length; t++) addShare(t, sum.name, grids[TIERS[t]!]().startOf(sum.atSec), sum.sums);
      }
      for (let t = 0; t < TIERS.length; t++) {
        const tier = TIERS[t]!;
        for (const row of perTier[t]!.values()) upsertTier[tier].run(row.name, row.bucketStart, ...row.sums);
        for (const [bucketStart, sums] of totals[t]!) upsertTotal[tier].run(bucketStart, ...sums);
      }
    },
    sumByBucket(tier, interfaces, fromSec, toSec) {
      return sumByBucketStmt[tier].all(JSON.stringify(interfaces), fromSec, toSec) as BucketSum[];
    },
    series(tier, scope, fromSec, toSec) {
      if (scope === 'monitored-total') {
        return seriesCache.get(tier, `${tier}|total`, fromSec, toSec, (from, to) => seriesOf[tier].total(from, to));
      }
      if (scope.interfaces.length === 1) {
        const name = scope.interfaces[0]!;
        return seriesCache.get(tier, `${tier}|one|${name}`, fromSec, toSec, (from, to) => seriesOf[tier].single(name, from, to));
      }
      const list = JSON.stringify(scope.interfaces);
      return seriesCache.get(tier, `${tier}|list|${list}`, fromSec, toSec, (from, to) => seriesOf[tier].listed(list, from, to));
    },
    totalsInterfaces() {
      return totalsList;
    },
    setTotalsInterfaces(names) {
      const list = [...new Set(names)].sort();
      if (list.length === totalsList.length && list.every((n, i) => n === totalsList[i])) return;
      seriesCache.clear();
      db.transaction(() => {
        totalsList = list;
        totalsSet = new Set(list);
        db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
          totalsKey,
          JSON.stringify(list),
        );
        for (const tier of TIERS) rebuildTotal(tier);
      })();
    },
    hasTraffic(interfaceName) {
      return hasTrafficStmt.get(interfaceName) !== undefined;
    },
    sumByInterface(tier, interfaces, fromSec, toSec) {
      const list = interfaces === null ? null : JSON.stringify(interfaces);
      const rows = seriesCache.range(tier, `sums|${tier}|${list}`, fromSec, toSec, () => sumByInterfaceStmt[tier].all(list, list, fromSec, toSec) as (CounterRow & { interface_name: string })[]);
      return rows.map((r) => ({ ...r })); // copies: callers may change them, the cache keeps the originals
    },
    oldestBucket(tier) {
      const row = oldestStmt[tier].get() as { b: number | null };
      return row.b;
    },
    history({ interfaceName, fromSec, toSec, limit, offset }) {
      const rows = historyStmt.all(interfaceName, interfaceName, fromSec, toSec, limit, offset) as RawRow[];
      const total = (historyCount.get(interfaceName, interfaceName, fromSec, toSec) as { n: number }).n;
      return { rows: rows.map(normalizeRaw), total };
    },
    latest(interfaceName) {
      return (latestStmt.all(interfaceName, interfaceName) as RawRow[]).map(normalizeRaw);
    },
    *iterate(source, interfaceName, fromSec, toSec) {
      if (source === 'raw') {
        for (const row of iterateRaw.iterate(interfaceName, interfaceName, fromSec, toSec)) yield normalizeRaw(row as RawRow);
      } else {
        for (const row of iterateTier[source].iterate(interfaceName, interfaceName, fromSec, toSec)) {
          const r = row as BucketSum & { interface_name: string };
          r.bucket_start = Number(r.bucket_start);
          yield r;
        }
      }
    },
    prune(nowSec, retention) {
      seriesCache.clear();
      let deleted = 0;
      deleted += pruneRaw.run(nowSec - retention.raw).changes;
      deleted += pruneTier.traffic_1m.run(nowSec - retention.minute).changes;
      deleted += pruneTier.traffic_1h.run(nowSec - retention.hour).changes;
      if (retention.day > 0) deleted += pruneTier.traffic_1d.run(nowSec - retention.day).changes;
      pruneTotal.traffic_1m.run(nowSec - retention.minute);
      pruneTotal.traffic_1h.run(nowSec - retention.hour);
      if (retention.day > 0) pruneTotal.traffic_1d.run(nowSec - retention.day);
      return deleted;
    },
    rebuildDays(timeZone) {
      dayGrid = zonedDayGrid(timeZone);
      seriesCache.clear();
      const oldestHour = repo.oldestBucket('traffic_1h');
      const oldestMinute = repo.oldestBucket('traffic_1m');
      db.transaction(() => {
        if (oldestHour === null) return;
        // Days that start before the oldest kept hour hold traffic no finer tier has any more: they stay as
        // they were (in the old zone). Recomputation starts at the first old day inside the kept hours.
        const anyDay = repo.oldestBucket('traffic_1d');
        const firstOldDay =
          anyDay === null
            ? oldestHour
            : (db.prepare('SELECT MIN(bucket_start) AS b FROM traffic_1d WHERE bucket_start >= ?').get(oldestHour) as { b: number | null }).b;
        if (firstOldDay === null) return;
        const from = Math.ceil(firstOldDay / 3600) * 3600;
        db.prepare('DELETE FROM traffic_1d WHERE bucket_start >= ?').run(firstOldDay);
        // Hours up to the first kept minute's hour, minutes from there on (the hour tier repeats them).
        const hourCut = oldestMinute === null ? Number.MAX_SAFE_INTEGER : Math.ceil(oldestMinute / 3600) * 3600;
        feedDays('traffic_1h', 3600, from, hourCut);
        feedDays('traffic_1m', 60, Math.max(from, hourCut), Number.MAX_SAFE_INTEGER);
      })();
      db.transaction(() => rebuildTotal('traffic_1d'))();
    },
  };
  return repo;
}

function addInto(into: bigint[], add: readonly bigint[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += add[i]!;
}

/** Adds counters to sums in COUNTER_FIELDS order (countersToParams's), without an array for them. */
function addCountersInto(into: bigint[], c: RawCounters): void {
  into[0]! += c.rxBytes;
  into[1]! += c.txBytes;
  into[2]! += c.rxPackets;
  into[3]! += c.txPackets;
  into[4]! += c.rxErrors;
  into[5]! += c.txErrors;
  into[6]! += c.rxDrops;
  into[7]! += c.txDrops;
}

function normalizeRaw(row: RawRow): RawRow {
  row.timestamp = Number(row.timestamp);
  row.span_seconds = Number(row.span_seconds);
  return row;
}
