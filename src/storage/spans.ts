/**
 * Splitting one sample's span over the buckets of a rollup tier. A sample that spans several buckets (the
 * first poll after Net-Pulse was down) is spread in proportion to the time it overlaps each one, so a gap is
 * not drawn as a one-bucket spike; integer shares with the remainder in the last bucket keep the sum exact.
 */
import { COUNTER_FIELDS, type RawCounters } from '../collector/counter-source.js';
import { startOfNextZonedDay, startOfZonedDay } from '../shared/zoned-time.js';

export interface BucketGrid {
  /** Start of the bucket that contains the instant t (seconds). */
  startOf(t: number): number;
  /** Start of the bucket after the one starting at bucketStart. */
  next(bucketStart: number): number;
}

export function fixedGrid(seconds: number): BucketGrid {
  return {
    startOf: (t) => Math.floor(t / seconds) * seconds,
    next: (b) => b + seconds,
  };
}

/** Calendar days in a time zone; day starts are cached since every poll asks for the same few. */
export function zonedDayGrid(timeZone: string): BucketGrid {
  const startCache = new Map<number, number>();
  const nextCache = new Map<number, number>();
  return {
    startOf(t) {
      // Cached by quarter hour: zone offsets are multiples of 15 minutes, so local midnight always falls on
      // a quarter-hour boundary and every instant of one quarter hour lies in the same local day.
      const quarter = Math.floor(t / 900) * 900;
      let s = startCache.get(quarter);
      if (s === undefined) {
        s = startOfZonedDay(quarter, timeZone);
        if (startCache.size > 10_000) startCache.clear();
        startCache.set(quarter, s);
      }
      return s;
    },
    next(b) {
      let n = nextCache.get(b);
      if (n === undefined) {
        n = startOfNextZonedDay(b, timeZone);
        if (nextCache.size > 10_000) nextCache.clear();
        nextCache.set(b, n);
      }
      return n;
    },
  };
}

export interface BucketShare {
  bucketStart: number;
  counters: RawCounters;
}

/**
 * Spreads counters that crossed in (startSec, endSec] over the grid's buckets. A span of zero (or a clock
 * that went back) puts everything in the bucket of endSec.
 */
export function spreadOverBuckets(startSec: number, endSec: number, counters: RawCounters, grid: BucketGrid): BucketShare[] {
  if (endSec <= startSec) return [{ bucketStart: grid.startOf(endSec), counters }];
  const first = grid.startOf(startSec);
  const last = grid.startOf(endSec - 1);
  if (first === last) return [{ bucketStart: first, counters }];

  const span = BigInt(endSec - startSec);
  const shares: BucketShare[] = [];
  const given = { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
  for (let b = first; b <= last; b = grid.next(b)) {
    const overlap = BigInt(Math.min(endSec, grid.next(b)) - Math.max(startSec, b));
    const part = {} as RawCounters;
    for (const f of COUNTER_FIELDS) {
      if (b === last) {
        part[f] = counters[f] - given[f];
      } else {
        part[f] = (counters[f] * overlap) / span;
        given[f] += part[f];
      }
    }
    shares.push({ bucketStart: b, counters: part });
  }
  return shares;
}
