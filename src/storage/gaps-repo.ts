/** counter_gaps: the intervals in which an interface's traffic could not be counted (migration 004). */
import type { Db } from './db.js';

export type GapReason = 'implausible' | 'unstorable';

export interface CounterGap {
  interfaceName: string;
  startSec: number;
  endSec: number;
  reason: GapReason;
  /** What was seen: previous/current counters, the counter that failed and its limit (JSON-able, no bigints). */
  detail: Record<string, unknown>;
}

export interface GapsRepo {
  /** Records gaps; meant to run inside the poll's transaction. */
  record(gaps: readonly CounterGap[]): void;
  /** Gaps that overlap [fromSec, toSec), of one interface or all, oldest first. */
  overlapping(fromSec: number, toSec: number, interfaceName?: string | null): CounterGap[];
}

interface GapRow {
  interface_name: string;
  start_sec: number;
  end_sec: number;
  reason: GapReason;
  detail: string;
}

export function createGapsRepo(db: Db): GapsRepo {
  const insert = db.prepare('INSERT INTO counter_gaps (interface_name, start_sec, end_sec, reason, detail) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare<[number, number, string | null, string | null], GapRow>(
    'SELECT interface_name, start_sec, end_sec, reason, detail FROM counter_gaps WHERE end_sec >= ? AND start_sec < ? AND (? IS NULL OR interface_name = ?) ORDER BY start_sec, id',
  );
  return {
    record(gaps) {
      for (const g of gaps) insert.run(g.interfaceName, g.startSec, g.endSec, g.reason, JSON.stringify(g.detail));
    },
    overlapping(fromSec, toSec, interfaceName = null) {
      return select.all(fromSec, toSec, interfaceName, interfaceName).map((r) => ({
        interfaceName: r.interface_name,
        startSec: r.start_sec,
        endSec: r.end_sec,
        reason: r.reason,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      }));
    },
  };
}
