/**
 * Usage rows → the bar chart: oldest first, one bar per day or billing month, RX and TX stacked, and on
 * the current period a third, paler segment up to its estimate (what the rest of the period will likely
 * add). The y axis uses one volume unit chosen from the tallest bar.
 */
import type { ApiUsageResponse } from '$shared/api-types';
import type { PrefixSystem, UnitScale } from '../format/units';
import { civilDateMs, formatCivilDay, formatDateRange } from '../format/usage-cards';

export type UsageChartPeriod = 'day' | 'month';

export interface UsageBar {
  /** Axis label; two lines (an array) where a new year starts. */
  label: string | string[];
  /** Tooltip title: the day, or the billing month's dates. */
  title: string;
  rxBytes: number;
  txBytes: number;
  totalBytes: number;
  /** The estimate minus what is counted so far (current period only; 0 otherwise). */
  restBytes: number;
  /** The projected total of the current period, null elsewhere. */
  estimateBytes: number | null;
  current: boolean;
  /** false for a slot before the first stored day: no data, which is not zero traffic. */
  recorded: boolean;
}

export interface UsageBars {
  period: UsageChartPeriod;
  bars: UsageBar[];
  /** The tallest stack (with the estimate), for the axis unit. */
  maxBytes: number;
  /** Whether any bar counted a byte. */
  hasData: boolean;
}

function utcFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
}

const DAY_MS = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The period before one that starts on `startDate`: the day before, or the billing month before. */
function previousPeriod(startDate: string, period: UsageChartPeriod): { start_date: string; end_date: string } {
  const startMs = civilDateMs(startDate);
  if (period === 'day') return { start_date: isoDate(startMs - DAY_MS), end_date: startDate };
  const d = new Date(startMs);
  return { start_date: isoDate(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, d.getUTCDate())), end_date: startDate };
}

/**
 * The bars, oldest first. The server leaves out periods before its first stored day; `slots` pads the
 * chart with empty, unrecorded slots in front, so "the last 30 days" always spans 30 days.
 */
export function buildUsageBars(response: ApiUsageResponse, slots = response.rows.length, locale?: string): UsageBars {
  const period: UsageChartPeriod = response.period === 'day' ? 'day' : 'month';
  const rows: (ApiUsageResponse['rows'][number] & { recorded: boolean })[] = [...response.rows].reverse().map((r) => ({ ...r, recorded: true }));
  while (rows.length > 0 && rows.length < slots) {
    const edge = previousPeriod(rows[0]!.start_date, period);
    rows.unshift({
      label: '',
      start: '',
      end: '',
      ...edge,
      rx_bytes: 0,
      tx_bytes: 0,
      total_bytes: 0,
      current: false,
      estimate: null,
      recorded: false,
    });
  }
  const dayLabel = utcFormat(locale, { day: 'numeric', month: 'short' });
  const monthLabel = utcFormat(locale, { month: 'short' });
  const year = utcFormat(locale, { year: 'numeric' });

  let maxBytes = 0;
  let previousYear: number | null = null;
  const bars = rows.map((row): UsageBar => {
    const startMs = civilDateMs(row.start_date);
    const rowYear = new Date(startMs).getUTCFullYear();
    let label: string | string[];
    if (period === 'day') {
      label = dayLabel.format(startMs);
    } else {
      const month = monthLabel.format(startMs);
      label = previousYear !== rowYear ? [month, year.format(startMs)] : month;
    }
    previousYear = rowYear;
    const estimateBytes = row.current && row.estimate ? row.estimate.total_bytes : null;
    const restBytes = estimateBytes === null ? 0 : Math.max(0, estimateBytes - row.total_bytes);
    maxBytes = Math.max(maxBytes, row.rx_bytes + row.tx_bytes + restBytes);
    return {
      label,
      title: period === 'day' ? formatCivilDay(row.start_date, locale) : formatDateRange(row.start_date, row.end_date, locale),
      rxBytes: row.rx_bytes,
      txBytes: row.tx_bytes,
      totalBytes: row.total_bytes,
      restBytes,
      estimateBytes,
      current: row.current,
      recorded: row.recorded,
    };
  });
  return { period, bars, maxBytes, hasData: bars.some((b) => b.totalBytes > 0) };
}

const VOLUME_LABELS: Record<PrefixSystem, readonly string[]> = {
  si: ['B', 'kB', 'MB', 'GB', 'TB', 'PB'],
  iec: ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'],
};

/** The axis unit for volumes up to `maxBytes`: the largest prefix the maximum reaches at least 1 of. */
export function pickVolumeScale(maxBytes: number, prefixSystem: PrefixSystem): UnitScale {
  const base = prefixSystem === 'iec' ? 1024 : 1000;
  const labels = VOLUME_LABELS[prefixSystem];
  let step = 0;
  while (step < labels.length - 1 && Math.abs(maxBytes) >= base ** (step + 1)) step += 1;
  return { divisor: base ** step, label: labels[step]! };
}
