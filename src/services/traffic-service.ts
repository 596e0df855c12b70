/**
 * GET /api/traffic's logic: buckets aligned to the grouping, read from the coarsest rollup tier that fits,
 * null where the collector was not running (or the tier's data was pruned), calendar days in the zone.
 */
import type { RetentionConfig } from '../config/config.js';
import { badRequest } from '../api/errors.js';
import { consecutiveDayStarts, zonedDayStart, zonedParts } from '../shared/zoned-time.js';
import type { ImportRepo } from '../storage/import-repo.js';
import type { CollectorRun, RunsRepo } from '../storage/runs-repo.js';
import type { SeriesRow, SeriesScope, Tier, TrafficRepo } from '../storage/traffic-repo.js';

/** More buckets than this in one answer is refused: no chart draws them and they cost memory. */
export const MAX_POINTS = 20_000;
export const DAY_MINUTES = 1440;

export interface TrafficBucket {
  startSec: number;
  endSec: number;
  /** null where the collector was not running during the bucket. */
  sums: TrafficSums | null;
  /** Seconds of the bucket the collector covered (a rate is sums / this); null when unknown. */
  coveredSec: number | null;
}

/** A bucket's totals: numbers while they are exact as doubles, BigInt past 2^53. */
export interface TrafficSums {
  rx_bytes: number | bigint;
  tx_bytes: number | bigint;
  rx_packets: number | bigint;
  tx_packets: number | bigint;
}

export interface TrafficQuery {
  windowHours: number;
  groupMinutes: number;
  interfaces: readonly string[];
}

export interface TrafficAnswer {
  startSec: number;
  endSec: number;
  bucketSeconds: number;
  tier: Tier;
  buckets: TrafficBucket[];
}

export interface TrafficService {
  query(q: TrafficQuery): TrafficAnswer;
  /** Seconds of the retention of each tier, for coverage and pruning. */
  tierRetentionSec(tier: Tier): number;
}

const zeroSums = (): TrafficSums => ({ rx_bytes: 0, tx_bytes: 0, rx_packets: 0, tx_packets: 0 });

/** Exact addition: doubles while the sum stays a safe integer, BigInt beyond. */
export function addExact(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return BigInt(a) + BigInt(b);
}

function addInto(target: TrafficSums, row: SeriesRow): void {
  target.rx_bytes = addExact(target.rx_bytes, row[1]);
  target.tx_bytes = addExact(target.tx_bytes, row[2]);
  target.rx_packets = addExact(target.rx_packets, row[3]);
  target.tx_packets = addExact(target.tx_packets, row[4]);
}

/** Days since 1970-01-01 of a local calendar date. */
function localDayNumber(tsSec: number, timeZone: string): number {
  const p = zonedParts(tsSec, timeZone);
  return Math.round(Date.UTC(p.year, p.month - 1, p.day) / 86_400_000);
}

function dayStartOfNumber(dayNumber: number, timeZone: string): number {
  const d = new Date(dayNumber * 86_400_000);
  return zonedDayStart(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), timeZone);
}

/**
 * Seconds of [bucketStart, bucketEnd) during which the collector ran; 0 when none or when the bucket lies
 * before the tier's retention horizon (its data was pruned). A run covers [startedAt, lastPollAt].
 */
function coveredSeconds(bucketStart: number, bucketEnd: number, runs: readonly CollectorRun[], horizon: number): number {
  if (bucketEnd <= horizon) return 0;
  let seconds = 0;
  for (const r of runs) {
    const overlap = Math.min(bucketEnd, r.lastPollAt) - Math.max(bucketStart, r.startedAt);
    if (overlap > 0) seconds += overlap;
  }
  return Math.min(seconds, bucketEnd - bucketStart);
}

export function createTrafficService(deps: {
  /** The interfaces' rollups, or any store of the same tiers (the per-host rollups). */
  traffic: Pick<TrafficRepo, 'series' | 'totalsInterfaces'>;
  runs: Pick<RunsRepo, 'overlapping'>;
  retention: RetentionConfig;
  timezone: string;
  now: () => number;
  /** Imported history (vnStat) that counts as covered time, like a collector run. */
  imports?: Pick<ImportRepo, 'coveredSpans'>;
}): TrafficService {
  const retentionSec = (tier: Tier): number =>
    tier === 'traffic_1m'
      ? deps.retention.minuteDays * 86400
      : tier === 'traffic_1h'
        ? deps.retention.hourDays * 86400
        : deps.retention.dayDays === 0
          ? Number.MAX_SAFE_INTEGER
          : deps.retention.dayDays * 86400;

  function fill(tier: Tier, edges: number[], interfaces: readonly string[], nowSec: number): TrafficBucket[] {
    // edges: bucket boundaries, ascending; bucket i is [edges[i], edges[i+1]).
    const first = edges[0]!;
    const last = edges[edges.length - 1]!;
    const rows = deps.traffic.series(tier, scopeOf(interfaces), first, last);
    const runs = deps.runs.overlapping(first, last);
    for (const span of deps.imports?.coveredSpans(tier, interfaces, first, last) ?? []) runs.push({ id: 0, startedAt: span.startSec, lastPollAt: span.endSec, endedAt: span.endSec });
    const horizon = nowSec - retentionSec(tier);
    const buckets: TrafficBucket[] = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      const startSec = edges[i]!;
      const endSec = edges[i + 1]!;
      const coveredSec = coveredSeconds(startSec, endSec, runs, horizon);
      buckets.push({ startSec, endSec, sums: null, coveredSec: coveredSec > 0 ? coveredSec : null });
    }
    let b = 0;
    for (const row of rows) {
      const start = row[0];
      while (b + 1 < buckets.length && buckets[b]!.endSec <= start) b++;
      const bucket = buckets[b]!;
      // Data inside a bucket means the collector ran then, whatever the runs table says. The first row of a
      // bucket is its sums as they are (one row per bucket when the grouping is the tier's own).
      if (bucket.sums === null) bucket.sums = { rx_bytes: row[1], tx_bytes: row[2], rx_packets: row[3], tx_packets: row[4] };
      else addInto(bucket.sums, row);
    }
    for (const bucket of buckets) if (bucket.sums === null && bucket.coveredSec !== null) bucket.sums = zeroSums();
    return buckets;
  }

  /** The pre-summed monitored total when the list is exactly the set it covers; else the list itself. */
  function scopeOf(interfaces: readonly string[]): SeriesScope {
    const totals = deps.traffic.totalsInterfaces();
    const asked = [...new Set(interfaces)].sort();
    const same = totals.length > 0 && asked.length === totals.length && asked.every((n, i) => n === totals[i]);
    return same ? 'monitored-total' : { interfaces: asked };
  }

  // Local midnights of the last few day windows asked for (issue #13: a year of days is 366 zone lookups
  // through Intl, ~5 ms; they change once a day). Never changed after they are made.
  const dayStartsCache = new Map<string, number[]>();
  function dayStartsOf(firstDayStart: number, count: number): number[] {
    const key = `${firstDayStart}|${count}`;
    let starts = dayStartsCache.get(key);
    if (starts === undefined) {
      starts = consecutiveDayStarts(firstDayStart, count, deps.timezone);
      if (dayStartsCache.size >= 8) dayStartsCache.delete(dayStartsCache.keys().next().value!);
      dayStartsCache.set(key, starts);
    }
    return starts;
  }

  return {
    tierRetentionSec: retentionSec,
    query({ windowHours, groupMinutes, interfaces }) {
      const nowSec = Math.floor(deps.now() / 1000);
      const startSec = nowSec - Math.round(windowHours * 3600);
      if (groupMinutes >= DAY_MINUTES) {
        if (groupMinutes % DAY_MINUTES !== 0) {
          throw badRequest('INVALID_GROUPING', `group_minutes=${groupMinutes}: groupings of a day or more are whole calendar days, so use a multiple of ${DAY_MINUTES}`);
        }
        const days = groupMinutes / DAY_MINUTES;
        const firstDay = Math.floor(localDayNumber(startSec, deps.timezone) / days) * days;
        const lastDay = localDayNumber(nowSec, deps.timezone);
        const count = Math.floor((lastDay - firstDay) / days) + 1;
        if (count > MAX_POINTS) throw badRequest('TOO_MANY_POINTS', `that is ${count} buckets; at most ${MAX_POINTS} fit in one answer`);
        const dayStarts = dayStartsOf(dayStartOfNumber(firstDay, deps.timezone), count * days + 1);
        const edges = dayStarts.filter((_, i) => i % days === 0);
        return { startSec, endSec: nowSec, bucketSeconds: groupMinutes * 60, tier: 'traffic_1d', buckets: fill('traffic_1d', edges, interfaces, nowSec) };
      }
      const bucketSec = groupMinutes * 60;
      const first = Math.floor(startSec / bucketSec) * bucketSec;
      const last = Math.floor(nowSec / bucketSec) * bucketSec;
      const count = (last - first) / bucketSec + 1;
      if (count > MAX_POINTS) {
        throw badRequest(
          'TOO_MANY_POINTS',
          `time_window_hours=${windowHours} with group_minutes=${groupMinutes} is ${count} buckets; at most ${MAX_POINTS} fit in one answer: widen group_minutes to ${Math.ceil((windowHours * 60) / MAX_POINTS)} or more`,
        );
      }
      let tier: Tier = 'traffic_1h';
      if (bucketSec % 3600 !== 0) {
        tier = 'traffic_1m';
        const minuteDays = deps.retention.minuteDays;
        if (first < nowSec - retentionSec('traffic_1m')) {
          throw badRequest(
            'GROUPING_NOT_AVAILABLE',
            `group_minutes=${groupMinutes} needs minute data, which is kept for ${minuteDays} days; for a window of ${windowHours} hours use a multiple of 60 (e.g. 60) or a window of at most ${minuteDays * 24} hours`,
          );
        }
      }
      const edges: number[] = [];
      for (let b = first; b <= last + bucketSec; b += bucketSec) edges.push(b);
      return { startSec, endSec: nowSec, bucketSeconds: bucketSec, tier, buckets: fill(tier, edges, interfaces, nowSec) };
    },
  };
}
