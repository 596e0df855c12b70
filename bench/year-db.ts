/**
 * A database as the collector would leave it after a year of 24 interfaces polled every second, written
 * straight into the tables (inserting 756M raw samples through the collector would take hours and the raw
 * tier keeps only 48 h anyway):
 *   traffic_data  the last `rawHours` at 1 s (48 h = 4.1M rows; --quick writes fewer)
 *   traffic_1m    the last 30 days (the minute tier's default retention), sums of the seconds where kept
 *   traffic_1h    the last 365 days, sums of the minutes where kept
 *   traffic_1d    the last 365 days (UTC calendar days), sums of the hours
 * Values are non-zero and realistic: each interface has its own level (a few busy uplinks, many quiet
 * ones), a daily cycle, quieter weekends and noise; packets follow bytes. One collector run covers the year,
 * the monitored set is all 24 (with its pre-summed totals, where the schema has them), and the rollup time
 * zone is UTC (so the server starts without rebuilding anything).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS, createConfigRepo } from '../src/storage/config-repo.js';
import { openDatabase } from '../src/storage/db.js';
import { createTrafficRepo } from '../src/storage/traffic-repo.js';
import { INTERFACE_NAMES } from './lib/fixture24.js';
import { log, prng } from './lib/measure.js';

export interface YearDb {
  dir: string;
  dbPath: string;
  /** The "now" the data ends at (unix seconds). */
  nowSec: number;
  rawHours: number;
  rows: { traffic_data: number; traffic_1m: number; traffic_1h: number; traffic_1d: number };
  generateSeconds: number;
  /** How long TrafficRepo took to build the pre-summed monitored totals for the year (null: the repo has none). */
  totalsRebuildSeconds: number | null;
  fileBytes: number;
  /** Bytes per table and index (dbstat), when SQLite has it. */
  tableBytes: Record<string, number> | null;
  cleanup(): void;
}

const DAY = 86_400;
const MINUTE_DAYS = 30;
const YEAR_DAYS = 365;
const COLS = 'rx_bytes, tx_bytes, rx_packets, tx_packets, rx_errors, tx_errors, rx_drops, tx_drops';

type Sum = [number, number, number, number, number, number, number, number];
const zero = (): Sum => [0, 0, 0, 0, 0, 0, 0, 0];
function addInto(a: Sum, b: Sum): void {
  for (let k = 0; k < 8; k++) a[k]! += b[k]!;
}

export function generateYearDb(options: { rawHours: number; dir?: string }): YearDb {
  const t0 = process.hrtime.bigint();
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-bench-year-'));
  const dbPath = path.join(dir, 'netpulse.db');
  const db = openDatabase(dbPath);
  db.pragma('synchronous = OFF'); // generation only; the server reopens it with its own settings
  const random = prng(2026);
  const names = INTERFACE_NAMES;
  const n = names.length;
  // Bytes per second at the daily peak: 4 busy uplinks (1–20 MB/s), the rest 1–500 kB/s.
  const level = names.map((_, i) => (i < 4 ? 1e6 + random() * 19e6 : 1e3 + random() * 499e3));
  const phase = names.map(() => random() * 0.3);
  const rateAt = (i: number, t: number): number => {
    const day = (t % DAY) / DAY;
    const daily = 0.25 + 0.75 * Math.pow(Math.max(0, Math.sin(Math.PI * (day - 0.25 + phase[i]!))), 2);
    const weekday = new Date(t * 1000).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? 0.6 : 1;
    return level[i]! * daily * weekly;
  };
  const counters = (rxBytes: number): Sum => {
    const rx = Math.max(1, Math.round(rxBytes));
    const tx = Math.max(1, Math.round(rx * 0.35));
    return [rx, tx, Math.ceil(rx / 900), Math.ceil(tx / 600), 0, 0, random() < 0.002 ? 1 : 0, 0];
  };

  const nowSec = Math.floor(Date.now() / 1000);
  const endMinute = Math.floor(nowSec / 60) * 60; // minutes [start, endMinute] ; the last one partial
  const yearStart = Math.floor(nowSec / DAY) * DAY - YEAR_DAYS * DAY;
  const minuteStart = Math.floor((nowSec - MINUTE_DAYS * DAY) / 3600) * 3600; // whole hours, so each hour has one source
  const rawStart = nowSec - options.rawHours * 3600;

  const insert = (table: string, key: string) => db.prepare(`INSERT INTO ${table} (interface_name, ${key}, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insRaw = db.prepare(`INSERT INTO traffic_data (interface_name, timestamp, span_seconds, ${COLS}) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const ins1m = insert('traffic_1m', 'bucket_start');
  const ins1h = insert('traffic_1h', 'bucket_start');
  const ins1d = insert('traffic_1d', 'bucket_start');
  const rows = { traffic_data: 0, traffic_1m: 0, traffic_1h: 0, traffic_1d: 0 };

  const daySums = names.map(zero);
  let currentDay = yearStart;
  const flushDay = () => {
    for (let i = 0; i < n; i++) {
      ins1d.run(names[i], currentDay, ...daySums[i]!);
      daySums[i] = zero();
      rows.traffic_1d++;
    }
  };
  const addHour = (hourStart: number, sums: Sum[]) => {
    if (Math.floor(hourStart / DAY) * DAY !== currentDay) {
      flushDay();
      currentDay = Math.floor(hourStart / DAY) * DAY;
    }
    for (let i = 0; i < n; i++) {
      ins1h.run(names[i], hourStart, ...sums[i]!);
      addInto(daySums[i]!, sums[i]!);
      rows.traffic_1h++;
    }
  };

  let pending = 0;
  let inTx = false;
  const begin = () => {
    if (!inTx) {
      db.exec('BEGIN');
      inTx = true;
    }
  };
  const maybeCommit = (added: number) => {
    pending += added;
    if (pending >= 200_000) {
      db.exec('COMMIT');
      inTx = false;
      pending = 0;
    }
  };

  // 1. Hours before the minute tier begins: one noisy hourly value each.
  for (let h = yearStart; h < minuteStart; h += 3600) {
    begin();
    addHour(h, names.map((_, i) => counters(rateAt(i, h + 1800) * 3600 * (0.7 + random() * 0.6))));
    maybeCommit(n);
  }
  log(`year db: ${rows.traffic_1h} hour rows before the minute tier`);

  // 2. The last 30 days at minute level; within the raw window, each minute is the sum of its seconds.
  for (let h = minuteStart; h <= endMinute; h += 3600) {
    begin();
    const hourSums = names.map(zero);
    for (let m = h; m < h + 3600 && m <= endMinute; m += 60) {
      for (let i = 0; i < n; i++) {
        const perSec = rateAt(i, m + 30) * (0.7 + random() * 0.6);
        let minute: Sum;
        if (m + 60 > rawStart) {
          minute = zero();
          for (let s = Math.max(m + 1, rawStart + 1); s <= Math.min(m + 60, nowSec); s++) {
            const sec = counters(perSec * (0.6 + random() * 0.8));
            insRaw.run(names[i], s, ...sec);
            addInto(minute, sec);
            rows.traffic_data++;
          }
          // the part of the minute before the raw window, if any
          const before = Math.max(0, rawStart - m);
          if (before > 0) addInto(minute, counters(perSec * before));
          if (minute[0] === 0) continue;
        } else {
          minute = counters(perSec * 60);
        }
        ins1m.run(names[i], m, ...minute);
        addInto(hourSums[i]!, minute);
        rows.traffic_1m++;
      }
    }
    addHour(h, hourSums);
    maybeCommit(n * 60 * 2 + (h + 3600 > rawStart ? n * 3600 : 0));
  }
  flushDay();
  if (inTx) db.exec('COMMIT');

  const config = createConfigRepo(db);
  config.set(CONFIG_KEYS.monitoredInterfaces, [...names]);
  config.set(CONFIG_KEYS.rollupTimezone, 'UTC');
  // The pre-summed totals of the monitored set, where the repo keeps them: built by the repo's own code, as
  // it does whenever the monitored set changes (so this is also the cost of changing the set after a year).
  let totalsRebuildSeconds: number | null = null;
  const repo = createTrafficRepo(db, { timezone: 'UTC' }) as ReturnType<typeof createTrafficRepo> & { setTotalsInterfaces?: (names: readonly string[]) => void };
  if (typeof repo.setTotalsInterfaces === 'function') {
    const r0 = process.hrtime.bigint();
    repo.setTotalsInterfaces([...names]);
    totalsRebuildSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
    log(`year db: monitored totals built in ${totalsRebuildSeconds.toFixed(1)} s`);
  }
  db.prepare('INSERT INTO collector_runs (started_at, last_poll_at, ended_at) VALUES (?, ?, ?)').run(yearStart, nowSec, nowSec);
  db.pragma('wal_checkpoint(TRUNCATE)');

  let tableBytes: Record<string, number> | null = null;
  try {
    tableBytes = Object.fromEntries(
      (db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as { name: string; bytes: number }[]).map((r) => [r.name, r.bytes]),
    );
  } catch {
    tableBytes = null; // SQLite built without dbstat
  }
  db.close();
  const fileBytes = fs.statSync(dbPath).size;
  const generateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  log(`year db: ${JSON.stringify(rows)} in ${generateSeconds.toFixed(1)} s, ${(fileBytes / 1048576).toFixed(1)} MiB`);
  return {
    dir,
    dbPath,
    nowSec,
    rawHours: options.rawHours,
    rows,
    generateSeconds,
    totalsRebuildSeconds,
    fileBytes,
    tableBytes,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
