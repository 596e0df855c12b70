/** When the collector was running: what tells "no traffic" (zero) from "no data" (null) in a bucket. */
import type { Db } from './db.js';

export interface CollectorRun {
  id: number;
  startedAt: number;
  lastPollAt: number;
  endedAt: number | null;
}

export interface RunsRepo {
  /** Opens a run covering [startedAt, pollAt]. */
  begin(startedAt: number, pollAt: number): number;
  touch(id: number, pollAt: number): void;
  end(id: number, endedAt: number): void;
  /** Runs that overlap [fromSec, toSec), oldest first. */
  overlapping(fromSec: number, toSec: number): CollectorRun[];
  /** The earliest start of any run, or null. */
  firstStart(): number | null;
  /** Stores a run from a backup (closed); false when a run with the same start and last poll is stored. */
  restore(startedAt: number, lastPollAt: number, endedAt: number): boolean;
}

interface RunRow {
  id: number;
  started_at: number;
  last_poll_at: number;
  ended_at: number | null;
}

/** `table`: collector_runs (the interfaces), or another table of the same shape (host_runs: per-host counting). */
export function createRunsRepo(db: Db, table: 'collector_runs' | 'host_runs' = 'collector_runs'): RunsRepo {
  const insert = db.prepare(`INSERT INTO ${table} (started_at, last_poll_at) VALUES (?, ?)`);
  const update = db.prepare(`UPDATE ${table} SET last_poll_at = ? WHERE id = ?`);
  const close = db.prepare(`UPDATE ${table} SET ended_at = ?, last_poll_at = MAX(last_poll_at, ?) WHERE id = ?`);
  const select = db.prepare<[number, number], RunRow>(
    `SELECT id, started_at, last_poll_at, ended_at FROM ${table} WHERE last_poll_at >= ? AND started_at < ? ORDER BY started_at`,
  );
  const first = db.prepare<[], { s: number | null }>(`SELECT MIN(started_at) AS s FROM ${table}`);
  const restoreStmt = db.prepare(
    `INSERT INTO ${table} (started_at, last_poll_at, ended_at) SELECT ?, ?, ?
     WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE started_at = ? AND last_poll_at = ?)`,
  );
  return {
    begin(startedAt, pollAt) {
      return Number(insert.run(startedAt, pollAt).lastInsertRowid);
    },
    touch(id, pollAt) {
      update.run(pollAt, id);
    },
    end(id, endedAt) {
      close.run(endedAt, endedAt, id);
    },
    overlapping(fromSec, toSec) {
      return select.all(fromSec, toSec).map((r) => ({ id: r.id, startedAt: r.started_at, lastPollAt: r.last_poll_at, endedAt: r.ended_at }));
    },
    firstStart() {
      return first.get()?.s ?? null;
    },
    restore(startedAt, lastPollAt, endedAt) {
      return restoreStmt.run(startedAt, lastPollAt, endedAt, startedAt, lastPollAt).changes > 0;
    },
  };
}
