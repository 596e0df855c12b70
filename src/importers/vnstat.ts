/**
 * `netpulse import vnstat`: a vnStat 2.x database (SQLite, opened read-only) into the rollup tiers.
 *
 * vnStat keeps, per interface, 5-minute rows (48 hours by default), hours (4 days), days (62 days), months (25)
 * and years (all), each a total of rx and tx bytes; the newer tiers repeat what the older ones sum. The plan
 * takes every span at the finest level vnStat still has and the rest of a coarser row — a month's total minus
 * the days it still lists — spread over the part of it no finer row covers:
 *
 *   5-minute rows → the minute, hour and day tiers;  hours → hour and day tiers;  days, months, years → days.
 *
 * A row is taken only if the data it holds lies before the cut — where Net-Pulse's own counting begins (its
 * first collector run, or the first traffic it stored for the interface) — else only its finer rows are, so
 * nothing is counted twice. vnStat writes local times (or UTC with UseUTC 1): they are read in the zone given.
 * vnStat counts no packets: imported packets are 0.
 */
import Database from 'better-sqlite3';
import type { RawCounters } from '../collector/counter-source.js';
import { zoneOffsetSec, zonedDayStart } from '../shared/zoned-time.js';
import { ZERO_COUNTERS } from '../storage/counter-columns.js';
import type { ImportPiece } from '../storage/import-repo.js';
import type { Tier } from '../storage/traffic-repo.js';

export const VNSTAT_LEVELS = ['year', 'month', 'day', 'hour', 'fiveminute'] as const;
export type VnstatLevel = (typeof VNSTAT_LEVELS)[number];

const TIERS_OF: Record<VnstatLevel, readonly Tier[]> = {
  fiveminute: ['traffic_1m', 'traffic_1h', 'traffic_1d'],
  hour: ['traffic_1h', 'traffic_1d'],
  day: ['traffic_1d'],
  month: ['traffic_1d'],
  year: ['traffic_1d'],
};

export interface VnstatRow {
  level: VnstatLevel;
  /** The row's period [startSec, endSec). */
  startSec: number;
  endSec: number;
  rxBytes: bigint;
  txBytes: bigint;
}

export interface VnstatInterface {
  name: string;
  /** vnStat's last update of the interface: no row holds data after it. */
  updatedSec: number;
  rows: VnstatRow[];
}

export class VnstatImportError extends Error {
  override name = 'VnstatImportError';
}

/** An instant from a local "YYYY-MM-DD[ HH:MM[:SS]]" in the zone. */
export function localToInstant(text: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (m === null) throw new VnstatImportError(`not a vnStat date: "${text}"`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (h === 0 && mi === 0 && s === 0) return zonedDayStart(y, mo, d, timeZone);
  const naive = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
  return naive - zoneOffsetSec(naive - zoneOffsetSec(naive, timeZone), timeZone);
}

function periodOf(level: VnstatLevel, date: string, timeZone: string): [number, number] {
  const start = localToInstant(date, timeZone);
  const [y, mo, d] = date.slice(0, 10).split('-').map(Number) as [number, number, number];
  switch (level) {
    case 'fiveminute':
      return [start, start + 300];
    case 'hour':
      return [start, start + 3600];
    case 'day':
      return [start, zonedDayStart(y, mo, d + 1, timeZone)];
    case 'month':
      return [start, zonedDayStart(y, mo + 1, 1, timeZone)];
    case 'year':
      return [start, zonedDayStart(y + 1, 1, 1, timeZone)];
  }
}

/** Reads every interface (or the named ones) of a vnStat 2.x database; throws VnstatImportError with a clear reason. */
export function readVnstatDatabase(dbPath: string, options: { timeZone: string; names?: readonly string[] }): VnstatInterface[] {
  let db: Database.Database;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new VnstatImportError(`cannot open the vnStat database ${dbPath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const needed = ['info', 'interface', ...VNSTAT_LEVELS];
    const missing = needed.filter((t) => !tables.has(t));
    if (missing.length > 0) throw new VnstatImportError(`${dbPath} is not a vnStat 2.x database (no table ${missing.join(', ')})`);
    const version = (db.prepare("SELECT value FROM info WHERE name = 'dbversion'").get() as { value: string } | undefined)?.value;
    if (version !== '1') throw new VnstatImportError(`${dbPath} has vnStat database version ${version ?? 'none'}; this importer reads version 1 (vnStat 2.x)`);
    const all = db.prepare('SELECT id, name, updated FROM interface ORDER BY name').all() as { id: number; name: string; updated: string }[];
    const wanted = options.names === undefined ? all : all.filter((i) => options.names!.includes(i.name));
    const absent = (options.names ?? []).filter((n) => !all.some((i) => i.name === n));
    if (absent.length > 0) throw new VnstatImportError(`the vnStat database has no interface ${absent.join(', ')} (it has: ${all.map((i) => i.name).join(', ') || 'none'})`);
    return wanted.map((i) => {
      const rows: VnstatRow[] = [];
      for (const level of VNSTAT_LEVELS) {
        const stmt = db.prepare(`SELECT date, rx, tx FROM ${level} WHERE interface = ? ORDER BY date`).safeIntegers(true);
        for (const r of stmt.all(i.id) as { date: string; rx: bigint; tx: bigint }[]) {
          const [startSec, endSec] = periodOf(level, r.date, options.timeZone);
          rows.push({ level, startSec, endSec, rxBytes: BigInt(r.rx), txBytes: BigInt(r.tx) });
        }
      }
      return { name: i.name, updatedSec: localToInstant(i.updated, options.timeZone), rows };
    });
  } finally {
    db.close();
  }
}

const counters = (rx: bigint, tx: bigint): RawCounters => ({ ...ZERO_COUNTERS, rxBytes: rx, txBytes: tx });

export interface VnstatPlan {
  pieces: ImportPiece[];
  /** Rows left out because their data reaches past the cut (their finer rows were taken instead, if any). */
  skippedRows: number;
  /** Rows whose finer rows sum to more than the row itself (an inconsistent database): no remainder was added. */
  inconsistentRows: number;
}

/**
 * The pieces that bring one vnStat interface in as ourName, nothing at or after cutSec. Pure: rows in,
 * pieces out.
 */
export function planVnstatImport(iface: VnstatInterface, ourName: string, cutSec: number): VnstatPlan {
  const rank = (l: VnstatLevel) => VNSTAT_LEVELS.indexOf(l);
  const rows = [...iface.rows].sort((a, b) => rank(a.level) - rank(b.level) || a.startSec - b.startSec);
  // Each row's parent: the row of the finest coarser level that contains its start.
  const parent = new Map<VnstatRow, VnstatRow | null>();
  const kids = new Map<VnstatRow, VnstatRow[]>();
  for (const r of rows) {
    let best: VnstatRow | null = null;
    for (const p of rows) {
      if (rank(p.level) >= rank(r.level)) break;
      if (p.startSec <= r.startSec && r.startSec < p.endSec && (best === null || rank(p.level) > rank(best.level))) best = p;
    }
    parent.set(r, best);
    if (best !== null) kids.set(best, [...(kids.get(best) ?? []), r]);
  }
  const plan: VnstatPlan = { pieces: [], skippedRows: 0, inconsistentRows: 0 };
  const emit = (level: VnstatLevel, startSec: number, endSec: number, c: RawCounters) => {
    for (const tier of TIERS_OF[level]) plan.pieces.push({ tier, interfaceName: ourName, startSec, endSec, counters: c });
  };
  const dataEnd = (r: VnstatRow) => Math.min(r.endSec, Math.max(r.startSec + 1, iface.updatedSec));

  const visit = (r: VnstatRow): void => {
    if (r.startSec >= cutSec) {
      plan.skippedRows++;
      return;
    }
    const end = dataEnd(r);
    const usable = end <= cutSec;
    if (!usable) plan.skippedRows++;
    const children = kids.get(r) ?? [];
    let rx = 0n;
    let tx = 0n;
    for (const k of children) {
      visit(k);
      rx += k.rxBytes;
      tx += k.txBytes;
    }
    if (!usable) return;
    if (children.length === 0) {
      emit(r.level, r.startSec, end, counters(r.rxBytes, r.txBytes));
      return;
    }
    const restRx = r.rxBytes - rx;
    const restTx = r.txBytes - tx;
    if (restRx < 0n || restTx < 0n) plan.inconsistentRows++;
    const rest = counters(restRx > 0n ? restRx : 0n, restTx > 0n ? restTx : 0n);
    if (rest.rxBytes === 0n && rest.txBytes === 0n) return;
    // The rest goes to the parts of the row no finer row covers, in proportion to their length.
    const gaps: [number, number][] = [];
    let at = r.startSec;
    for (const k of [...children].sort((a, b) => a.startSec - b.startSec)) {
      if (k.startSec > at) gaps.push([at, Math.min(k.startSec, end)]);
      at = Math.max(at, dataEnd(k));
    }
    if (at < end) gaps.push([at, end]);
    const open = gaps.filter(([s, e]) => e > s);
    if (open.length === 0) {
      emit(r.level, r.startSec, end, rest);
      return;
    }
    const total = BigInt(open.reduce((n, [s, e]) => n + (e - s), 0));
    let givenRx = 0n;
    let givenTx = 0n;
    open.forEach(([s, e], i) => {
      const last = i === open.length - 1;
      const partRx = last ? rest.rxBytes - givenRx : (rest.rxBytes * BigInt(e - s)) / total;
      const partTx = last ? rest.txBytes - givenTx : (rest.txBytes * BigInt(e - s)) / total;
      givenRx += partRx;
      givenTx += partTx;
      emit(r.level, s, e, counters(partRx, partTx));
    });
  };
  for (const r of rows) if (parent.get(r) === null) visit(r);
  return plan;
}
