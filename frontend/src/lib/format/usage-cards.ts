/**
 * What the usage cards show, from GET /api/usage and GET /api/config/data-cap: today, this billing month
 * (with its estimate), last month, and the cap's progress with its colour level. Dates are the server's
 * local calendar dates (YYYY-MM-DD) and are written as such — never moved into the browser's zone.
 */
import type { ApiCapDirection, ApiDataCap, ApiUsageResponse, ApiUsageRow } from '$shared/api-types';

const DAY_MS = 86_400_000;

/** A YYYY-MM-DD date as the UTC midnight of that date (formatted with timeZone UTC, it reads as written). */
export function civilDateMs(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function dateFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
}

/** "Sun, 22 Nov 2026": one calendar day. */
export function formatCivilDay(date: string, locale?: string): string {
  return dateFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(civilDateMs(date));
}

/**
 * A period from its first day to the day before `endDate` (exclusive, as the API gives it): "1–30 Nov 2026",
 * "15 Mar – 14 Apr 2026", or one day alone.
 */
export function formatDateRange(startDate: string, endDate: string, locale?: string): string {
  const startMs = civilDateMs(startDate);
  const lastMs = civilDateMs(endDate) - DAY_MS;
  const format = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric' });
  if (!(lastMs > startMs)) return format.format(startMs);
  return format.formatRange(startMs, lastMs);
}

/** "28 Nov": a date in few words. */
export function formatShortDate(date: string, locale?: string): string {
  return dateFormat(locale, { day: 'numeric', month: 'short' }).format(civilDateMs(date));
}

/** "77.8%": at most one decimal, none from 100 on. */
export function formatPercent(percent: number, locale?: string): string {
  const digits = Math.abs(percent) >= 100 ? 0 : 1;
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: digits }).format(percent / 100);
}

/** An ordinal day of the month for "billing months start on the 15th". */
export function formatOrdinalDay(day: number): string {
  const tens = day % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][day % 10] ?? 'th');
  return `${day}${suffix}`;
}

export interface UsageCard {
  row: ApiUsageRow;
  /** The projected total at the period's end (current period after its first hour), else null. */
  estimateBytes: number | null;
}

export interface UsageSummary {
  today: UsageCard | null;
  thisMonth: UsageCard | null;
  lastMonth: UsageCard | null;
  /** Whether any row of either answer counted a byte: a fresh install has none. */
  hasData: boolean;
}

function card(row: ApiUsageRow | undefined): UsageCard | null {
  if (!row) return null;
  return { row, estimateBytes: row.current && row.estimate ? row.estimate.total_bytes : null };
}

/** The cards from the day and month answers (newest first); either may still be loading (null). */
export function summarizeUsage(days: ApiUsageResponse | null, months: ApiUsageResponse | null): UsageSummary {
  const today = days?.rows.find((r) => r.current) ?? null;
  const monthIndex = months?.rows.findIndex((r) => r.current) ?? -1;
  const thisMonth = monthIndex >= 0 ? months?.rows[monthIndex] : undefined;
  const lastMonth = monthIndex >= 0 ? months?.rows[monthIndex + 1] : undefined;
  const rows = [...(days?.rows ?? []), ...(months?.rows ?? [])];
  return {
    today: card(today ?? undefined),
    thisMonth: card(thisMonth),
    lastMonth: card(lastMonth),
    hasData: rows.some((r) => r.total_bytes > 0),
  };
}

export type CapLevel = 'ok' | 'warn' | 'over';

/**
 * The cap bar's colour: calm below the lowest threshold, a warning from it, and over once the cap is
 * reached (100 %) — or from a threshold above 100 the person chose, whichever comes first.
 */
export function capLevel(percent: number, thresholdsPercent: readonly number[]): CapLevel {
  if (percent >= 100) return 'over';
  const lowest = thresholdsPercent.length > 0 ? Math.min(...thresholdsPercent) : 80;
  return percent >= lowest ? 'warn' : 'ok';
}

export interface CapView {
  percentUsed: number;
  level: CapLevel;
  /** The bar's fill, 0–100. */
  fillPercent: number;
  /** Where the projection marker goes (0–100), null without a projection. */
  projectionMarkPercent: number | null;
  /** The projection passes the cap while the cap is not reached yet. */
  projectionOver: boolean;
  /** Threshold ticks on the bar (those below 100; 100 is the bar's end). */
  thresholdMarks: number[];
  usedBytes: number;
  limitBytes: number;
  remainingBytes: number;
  projectedBytes: number | null;
  projectedPercent: number | null;
  /** The billing month: first day and the day after the last. */
  startDate: string;
  endDate: string;
}

/** The cap card's figures; null without a cap (or before the server measured it). */
export function buildCapView(cap: ApiDataCap | null): CapView | null {
  const status = cap?.status;
  if (!cap || cap.limit_bytes === null || !status) return null;
  const clamp = (p: number): number => Math.min(100, Math.max(0, p));
  const projectedPercent = status.projected_percent;
  return {
    percentUsed: status.percent_used,
    level: capLevel(status.percent_used, cap.thresholds_percent),
    fillPercent: clamp(status.percent_used),
    projectionMarkPercent: projectedPercent === null ? null : clamp(projectedPercent),
    projectionOver: projectedPercent !== null && projectedPercent > 100 && status.percent_used < 100,
    thresholdMarks: [...new Set(cap.thresholds_percent)].filter((t) => t > 0 && t < 100).sort((a, b) => a - b),
    usedBytes: status.used_bytes,
    limitBytes: status.limit_bytes,
    remainingBytes: status.remaining_bytes,
    projectedBytes: status.projected_bytes,
    projectedPercent,
    startDate: status.start_date,
    endDate: status.end_date,
  };
}

const DIRECTION_TEXT: Record<ApiCapDirection, string> = {
  both: '',
  rx: 'download only',
  tx: 'upload only',
};

/** What the cap counts, in words: "Total (eth0, wlan0)", "eth0 · download only". */
export function describeCapScope(cap: Pick<ApiDataCap, 'interface' | 'direction'>, totalInterfaces: readonly string[]): string {
  const what =
    cap.interface !== null ? cap.interface : totalInterfaces.length > 0 ? `Total (${totalInterfaces.join(', ')})` : 'Total';
  const direction = DIRECTION_TEXT[cap.direction];
  return direction ? `${what} · ${direction}` : what;
}
