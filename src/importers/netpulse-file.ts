/**
 * `netpulse import FILE…`: Net-Pulse's own export (`netpulse export`, GET /api/export/traffic) back in — a
 * backup restored. Each file holds one resolution: raw samples (it has span_seconds), collector runs (it has
 * started_at), or one rollup tier (minute, hour or day: the caller names it, the columns are the same).
 * Each goes back to its own table as it was: raw samples to traffic_data, tier rows to their tier (and the
 * pre-summed total), runs to collector_runs — so the API answers as the exporting instance did. Importing a
 * file twice changes nothing (stored samples and runs are skipped, tier rows are compared with what was
 * imported before). A file is read whole; a bad row stops the import before anything is written.
 */
import fs from 'node:fs';
import { COUNTER_FIELDS, type RawCounters } from '../collector/counter-source.js';
import { isValidInterfaceName } from '../collector/interface-name.js';
import { COLUMN_OF, COUNTER_COLUMNS } from '../storage/counter-columns.js';
import type { Db } from '../storage/db.js';
import type { ImportOutcome, ImportRepo } from '../storage/import-repo.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import type { Tier, TrafficRepo } from '../storage/traffic-repo.js';

export type FileResolution = 'raw' | 'minute' | 'hour' | 'day' | 'runs';
const TIER_OF: Record<'minute' | 'hour' | 'day', Tier> = { minute: 'traffic_1m', hour: 'traffic_1h', day: 'traffic_1d' };
export const NETPULSE_SOURCE = 'netpulse';

export class FileImportError extends Error {
  override name = 'FileImportError';
}

type Row = Record<string, string | number | null>;

/** CSV as `netpulse export` writes it: a header, then rows; a field may be "quoted" with "" for a quote. */
export function parseCsv(text: string): Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  if (lines.length === 0) return [];
  const split = (line: string): string[] => {
    const out: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = '';
        i++;
        for (;;) {
          const q = line.indexOf('"', i);
          if (q < 0) throw new FileImportError(`an unterminated quote in CSV line: ${line}`);
          v += line.slice(i, q);
          if (line[q + 1] === '"') {
            v += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        out.push(v);
        i++; // the comma
      } else {
        const c = line.indexOf(',', i);
        const end = c < 0 ? line.length : c;
        out.push(line.slice(i, end));
        i = end + 1;
      }
    }
    return out;
  };
  const header = split(lines[0]!);
  return lines.slice(1).map((l, n) => {
    const cells = split(l);
    if (cells.length !== header.length) throw new FileImportError(`CSV line ${n + 2} has ${cells.length} fields, the header ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, cells[i]!]));
  });
}

export function parseExportFile(text: string): Row[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      // Integers past 2^53 must stay exact: read every bare number as text.
      parsed = JSON.parse(trimmed.replace(/([:\[,]\s*)(-?\d+)(?=\s*[,\]}])/g, '$1"$2"'));
    } catch (err) {
      throw new FileImportError(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new FileImportError('a JSON export is an object with a "data" array');
    return data as Row[];
  }
  return parseCsv(text);
}

function instant(value: unknown, what: string): number {
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || ms % 1000 !== 0) throw new FileImportError(`${what} must be an ISO 8601 time in whole seconds, not ${JSON.stringify(value)}`);
  return ms / 1000;
}

function count(value: unknown, what: string): bigint {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text) || BigInt(text) >= 2n ** 63n) throw new FileImportError(`${what} must be a whole number of 0 or more, not ${JSON.stringify(value)}`);
  return BigInt(text);
}

function countersOf(r: Row, at: string): RawCounters {
  const c = {} as RawCounters;
  for (const f of COUNTER_FIELDS) c[f] = count(r[COLUMN_OF[f]], `${at}: ${COLUMN_OF[f]}`);
  return c;
}

export function detectResolution(rows: readonly Row[]): 'raw' | 'runs' | null {
  const first = rows[0];
  if (first === undefined) return null;
  if ('started_at' in first) return 'runs';
  if ('span_seconds' in first) return 'raw';
  return null;
}

export interface FileImportResult {
  resolution: FileResolution;
  rows: number;
  /** Rows stored now (raw samples, runs, tier buckets added or grown). */
  stored: number;
  /** Rows already there. */
  skipped: number;
  tier?: ImportOutcome;
}

export function importExportFile(
  deps: { db: Db; traffic: TrafficRepo; runs: RunsRepo; imports: ImportRepo; nowSec: number },
  filePath: string,
  resolutionHint: 'minute' | 'hour' | 'day' | null,
): FileImportResult {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    throw new FileImportError(`cannot read ${filePath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const rows = parseExportFile(text);
  const detected = detectResolution(rows);
  if (detected !== null && resolutionHint !== null) throw new FileImportError(`${filePath} holds ${detected === 'raw' ? 'raw samples' : 'collector runs'}, not ${resolutionHint} rollups: leave out --resolution`);
  const resolution: FileResolution | null = detected ?? resolutionHint;
  if (resolution === null) {
    if (rows.length === 0) return { resolution: 'raw', rows: 0, stored: 0, skipped: 0 };
    throw new FileImportError(`${filePath} holds rollups: say which with --resolution minute, hour or day (as it was exported)`);
  }
  if (resolution === 'runs') {
    const runs = rows.map((r, i) => {
      const at = `row ${i + 1}`;
      const start = instant(r.started_at, `${at}: started_at`);
      const last = instant(r.last_poll_at, `${at}: last_poll_at`);
      const ended = r.ended_at === null || r.ended_at === '' || r.ended_at === undefined ? last : instant(r.ended_at, `${at}: ended_at`);
      if (last < start || ended < start) throw new FileImportError(`${at}: a run that ends before it starts`);
      return [start, last, ended] as const;
    });
    let stored = 0;
    deps.db.transaction(() => {
      for (const [s, l, e] of runs) if (deps.runs.restore(s, l, e)) stored++;
    })();
    return { resolution, rows: rows.length, stored, skipped: rows.length - stored };
  }
  const parsed = rows.map((r, i) => {
    const at = `row ${i + 1}`;
    const name = r.interface_name;
    if (typeof name !== 'string' || !isValidInterfaceName(name)) throw new FileImportError(`${at}: interface_name ${JSON.stringify(name)} is not an interface name`);
    for (const c of COUNTER_COLUMNS) if (!(c in r)) throw new FileImportError(`${at}: no ${c} column; is this a Net-Pulse export?`);
    return { name, ts: instant(r.timestamp, `${at}: timestamp`), span: resolution === 'raw' ? Number(count(r.span_seconds, `${at}: span_seconds`)) : 0, counters: countersOf(r, at) };
  });
  if (resolution === 'raw') {
    let stored = 0;
    deps.db.transaction(() => {
      for (const p of parsed) if (deps.traffic.restoreRaw({ interfaceName: p.name, timestamp: p.ts, spanSeconds: p.span, counters: p.counters })) stored++;
    })();
    return { resolution, rows: rows.length, stored, skipped: rows.length - stored };
  }
  const tier = TIER_OF[resolution];
  const grid = deps.traffic.grid(tier);
  for (const p of parsed) {
    if (grid.startOf(p.ts) !== p.ts) {
      throw new FileImportError(
        `${p.name} at ${new Date(p.ts * 1000).toISOString()} is not the start of a${resolution === 'day' ? ' day in this time zone (set NETPULSE_TZ to the zone it was exported in)' : `n ${resolution}`}: is it a ${resolution} export?`,
      );
    }
  }
  const outcome = deps.imports.apply(
    parsed.map((p) => ({ tier, interfaceName: p.name, startSec: p.ts, endSec: grid.next(p.ts), counters: p.counters })),
    { source: NETPULSE_SOURCE, covers: false, nowSec: deps.nowSec },
  );
  return { resolution, rows: rows.length, stored: outcome.added + outcome.grown, skipped: outcome.unchanged + outcome.kept, tier: outcome };
}
