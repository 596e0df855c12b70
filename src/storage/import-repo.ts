/**
 * Imported history in the rollup tiers (issue #12). An importer describes what it brings as pieces — counters
 * of one interface over a span, meant for one tier — and applyImport spreads each over the tier's buckets and
 * adds them, remembering per bucket what was imported (imported_buckets). Importing the same pieces again finds
 * them there and adds nothing; a bucket that grew at the source (vnStat's current hour) gets the difference.
 */
import { COUNTER_FIELDS, type RawCounters } from '../collector/counter-source.js';
import { COUNTER_COLUMNS, addCounters, countersToParams, rowToCounters, type CounterRow } from './counter-columns.js';
import type { Db } from './db.js';
import { spreadOverBuckets } from './spans.js';
import type { Tier, TrafficRepo } from './traffic-repo.js';

export interface ImportPiece {
  tier: Tier;
  interfaceName: string;
  /** The span (startSec, endSec] the counters crossed in; spread over the tier's buckets in proportion. */
  startSec: number;
  endSec: number;
  counters: RawCounters;
}

export interface ImportOutcome {
  /** Buckets that were not imported before. */
  added: number;
  /** Buckets imported before that grew at the source: the difference was added. */
  grown: number;
  /** Buckets imported before with the same counters: nothing to do. */
  unchanged: number;
  /** Buckets imported before whose source now holds less (it pruned or rewrote them): kept as first imported. */
  kept: number;
  /** Bytes added now, per tier. */
  addedBytes: Record<Tier, { rx: bigint; tx: bigint }>;
}

export interface CoveredSpan {
  startSec: number;
  endSec: number;
}

export interface ImportRepo {
  apply(pieces: Iterable<ImportPiece>, options: { source: string; covers: boolean; nowSec: number }): ImportOutcome;
  /** Spans of imported buckets that count as covered time in a tier, over the given interfaces, overlapping [fromSec, toSec). */
  coveredSpans(tier: Tier, interfaces: readonly string[], fromSec: number, toSec: number): CoveredSpan[];
  /** The oldest bucket of an interface in a tier that holds data other than what `source` imported; null when none. */
  oldestOwnBucket(tier: Tier, interfaceName: string, source: string): number | null;
}

const cols = COUNTER_COLUMNS.join(', ');

export function createImportRepo(db: Db, traffic: TrafficRepo): ImportRepo {
  const selectMark = db.prepare(`SELECT ${cols} FROM imported_buckets WHERE tier = ? AND interface_name = ? AND bucket_start = ?`).safeIntegers(true);
  const insertMark = db.prepare(
    `INSERT INTO imported_buckets (tier, interface_name, bucket_start, bucket_end, source, ${cols}, covers, imported_at)
     VALUES (?, ?, ?, ?, ?, ${COUNTER_COLUMNS.map(() => '?').join(', ')}, ?, ?)`,
  );
  const updateMark = db.prepare(
    `UPDATE imported_buckets SET ${COUNTER_COLUMNS.map((c) => `${c} = ?`).join(', ')}, imported_at = ? WHERE tier = ? AND interface_name = ? AND bucket_start = ?`,
  );
  const covered = db.prepare<[string, string, number, number], { bucket_start: number; bucket_end: number }>(
    `SELECT DISTINCT bucket_start, bucket_end FROM imported_buckets
     WHERE tier = ? AND covers = 1 AND interface_name IN (SELECT value FROM json_each(?)) AND bucket_end > ? AND bucket_start < ?
     ORDER BY bucket_start`,
  );
  const oldestOwn = Object.fromEntries(
    (['traffic_1m', 'traffic_1h', 'traffic_1d'] as const).map((t) => [
      t,
      db.prepare<[string, string, string], { b: number | null }>(
        `SELECT MIN(t.bucket_start) AS b FROM ${t} t
         WHERE t.interface_name = ? AND NOT EXISTS (
           SELECT 1 FROM imported_buckets i WHERE i.tier = '${t}' AND i.interface_name = ? AND i.bucket_start = t.bucket_start AND i.source = ?
             AND ${COUNTER_COLUMNS.map((c) => `i.${c} = t.${c}`).join(' AND ')})`,
      ),
    ]),
  ) as Record<Tier, ReturnType<typeof db.prepare<[string, string, string], { b: number | null }>>>;

  return {
    apply(pieces, { source, covers, nowSec }) {
      // Sum the pieces per bucket first: one bucket can get several (vnStat's 5-minute rows and the rest of their hour).
      const wanted = new Map<string, { tier: Tier; interfaceName: string; bucketStart: number; bucketEnd: number; counters: RawCounters }>();
      for (const p of pieces) {
        const grid = traffic.grid(p.tier);
        for (const share of spreadOverBuckets(p.startSec, p.endSec, p.counters, grid)) {
          const key = `${p.tier}\u0000${p.interfaceName}\u0000${share.bucketStart}`;
          const have = wanted.get(key);
          if (have === undefined) {
            wanted.set(key, { tier: p.tier, interfaceName: p.interfaceName, bucketStart: share.bucketStart, bucketEnd: grid.next(share.bucketStart), counters: share.counters });
          } else {
            have.counters = addCounters(have.counters, share.counters);
          }
        }
      }
      const outcome: ImportOutcome = {
        added: 0,
        grown: 0,
        unchanged: 0,
        kept: 0,
        addedBytes: { traffic_1m: { rx: 0n, tx: 0n }, traffic_1h: { rx: 0n, tx: 0n }, traffic_1d: { rx: 0n, tx: 0n } },
      };
      const add = (tier: Tier, name: string, start: number, c: RawCounters) => {
        traffic.addToBucket(tier, name, start, c);
        outcome.addedBytes[tier].rx += c.rxBytes;
        outcome.addedBytes[tier].tx += c.txBytes;
      };
      db.transaction(() => {
        for (const w of wanted.values()) {
          const row = selectMark.get(w.tier, w.interfaceName, w.bucketStart) as CounterRow | undefined;
          if (row === undefined) {
            insertMark.run(w.tier, w.interfaceName, w.bucketStart, w.bucketEnd, source, ...countersToParams(w.counters), covers ? 1 : 0, nowSec);
            add(w.tier, w.interfaceName, w.bucketStart, w.counters);
            outcome.added++;
            continue;
          }
          const before = rowToCounters(row);
          const delta = {} as RawCounters;
          for (const f of COUNTER_FIELDS) delta[f] = w.counters[f] - before[f];
          if (COUNTER_FIELDS.every((f) => delta[f] === 0n)) outcome.unchanged++;
          else if (COUNTER_FIELDS.some((f) => delta[f] < 0n)) outcome.kept++;
          else {
            updateMark.run(...countersToParams(w.counters), nowSec, w.tier, w.interfaceName, w.bucketStart);
            add(w.tier, w.interfaceName, w.bucketStart, delta);
            outcome.grown++;
          }
        }
      })();
      return outcome;
    },
    coveredSpans(tier, interfaces, fromSec, toSec) {
      if (interfaces.length === 0) return [];
      return covered.all(tier, JSON.stringify(interfaces), fromSec, toSec).map((r) => ({ startSec: r.bucket_start, endSec: r.bucket_end }));
    },
    oldestOwnBucket(tier, interfaceName, source) {
      return oldestOwn[tier].get(interfaceName, interfaceName, source)?.b ?? null;
    },
  };
}
