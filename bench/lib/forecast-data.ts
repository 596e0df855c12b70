/**
 * The real series of ../shared/data/netpulse-forecast/ (beside the clone, never copied into the repo; see its
 * README for the licences), read at run time as hourly values: Milan cells as they are, the 5-minute EC2
 * series as hourly sums (mean of the samples in each clock hour × 12, so duplicate rows and short gaps do
 * not distort an hour; an hour without samples takes the previous hour's value, as in the research note).
 */
import fs from 'node:fs';
import path from 'node:path';
import { utcHourOfWeek } from '../../src/forecast/series.js';

/** ../shared/data/netpulse-forecast beside the clone; NETPULSE_FORECAST_DATA points elsewhere (a worktree). */
export const FORECAST_DATA_DIR = process.env.NETPULSE_FORECAST_DATA ?? path.resolve(import.meta.dirname, '../../../shared/data/netpulse-forecast');

export interface RealSeries {
  name: string;
  kind: 'milan' | 'ec2';
  /** Unix seconds of values[0]'s hour. */
  startSec: number;
  /** Hour of the week of values[0], 0 = Monday 00:00. */
  phase: number;
  values: number[];
}


function parseUtc(text: string): number {
  const iso = text.trim().replace(' ', 'T');
  return Math.floor(Date.parse(/Z$|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`) / 1000);
}

function readMilan(file: string): RealSeries[] {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const names = lines[0]!.split(',').slice(1);
  const startSec = parseUtc(lines[1]!.split(',')[0]!);
  const rows = lines.slice(1).map((l) => l.split(',').slice(1).map(Number));
  return names.map((name, c) => ({ name: `milan ${name.replace('cell_', 'cell ')}`, kind: 'milan', startSec, phase: utcHourOfWeek(startSec), values: rows.map((r) => r[c]!) }));
}

function readEc2(file: string): RealSeries {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const byHour = new Map<number, { sum: number; count: number; seen: Set<number> }>();
  for (const line of lines) {
    const [ts, v] = line.split(',');
    const sec = parseUtc(ts!);
    const hour = Math.floor(sec / 3600);
    const cell = byHour.get(hour) ?? { sum: 0, count: 0, seen: new Set<number>() };
    if (cell.seen.has(sec)) continue;
    cell.seen.add(sec);
    cell.sum += Number(v);
    cell.count++;
    byHour.set(hour, cell);
  }
  const hours = [...byHour.keys()].sort((a, b) => a - b);
  const first = hours[0]!;
  const last = hours.at(-1)!;
  const values: number[] = [];
  for (let h = first; h <= last; h++) {
    const cell = byHour.get(h);
    values.push(cell === undefined ? (values.at(-1) ?? 0) : (cell.sum / cell.count) * 12);
  }
  const startSec = first * 3600;
  return { name: `ec2 ${path.basename(file, '.csv').replace('ec2_network_in_', '')}`, kind: 'ec2', startSec, phase: utcHourOfWeek(startSec), values };
}

/** Every shipped series, or null when ../shared is not beside the clone. */
export function loadForecastSeries(dir = FORECAST_DATA_DIR): RealSeries[] | null {
  if (!fs.existsSync(dir)) return null;
  const out: RealSeries[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (f.startsWith('milan') && f.endsWith('.csv')) out.push(...readMilan(path.join(dir, f)));
    else if (f.startsWith('ec2') && f.endsWith('.csv')) out.push(readEc2(path.join(dir, f)));
  }
  return out;
}
