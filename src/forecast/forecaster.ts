/**
 * The forecaster: hourly history in, the next hours out, with the method picked by the series' own recent
 * backtest and bands from its own recent errors. Pure: no clock, no database; the API, the worker, the
 * unit tests and the backtest benchmark all call forecastHourly.
 *
 * Candidates: SN24 (same hour yesterday), SN168 (same hour last week), DSHW-ms and the combo
 * mean(DSHW-ms, Ridge24), each clamped to [0, 1.2 × the last 4 weeks' largest hour]. AutoSelect re-forecasts
 * each of the last 7 days from its own origin with every candidate and keeps the lowest mean absolute error;
 * SN24 unless another is strictly better, so the pick is never worse than the naive forecast on that week.
 */
import { forecastDshw, DSHW_MIN_HOURS } from './dshw.js';
import { forecastRidge, RIDGE_MIN_HOURS } from './ridge.js';

const DAY = 24;
const WEEK = 168;
/** Below two weeks of hourly history there is no forecast (research note §7). */
export const MIN_HISTORY_HOURS = 14 * DAY;
/** The longest horizon: 7 days. */
export const MAX_HORIZON_HOURS = 7 * DAY;
/** Days re-forecast to pick the method (and to measure its skill). */
export const SELECTION_DAYS = 7;
/** Days of the picked method's past errors the bands are taken from (at most). */
export const BAND_DAYS = 14;
const CLAMP_FACTOR = 1.2;
const CLAMP_LOOKBACK_HOURS = 4 * WEEK;

export const METHODS = ['sn24', 'sn168', 'dshw', 'ridge24', 'combo'] as const;
export type MethodName = (typeof METHODS)[number];
/** What AutoSelect chooses from, simplest first (ties go to the simpler). */
export const CANDIDATES: readonly MethodName[] = ['sn24', 'sn168', 'dshw', 'combo'];

/** Fewest hours of history each method needs. */
export const METHOD_MIN_HOURS: Record<MethodName, number> = {
  sn24: DAY,
  sn168: WEEK,
  dshw: DSHW_MIN_HOURS,
  ridge24: RIDGE_MIN_HOURS,
  combo: Math.max(DSHW_MIN_HOURS, RIDGE_MIN_HOURS),
};

export interface ForecastOptions {
  horizonHours: number;
  /** Hour of the week of values[0]: 0 = Monday 00:00 (local time for a person's rhythm). */
  phase: number;
  /** The most an hour can carry (link capacity); the clamp never goes above it. */
  capacityPerHour?: number;
  /**
   * Memo of candidate forecasts by method and origin, for callers that forecast the same series from many
   * origins (the backtest benchmark); forecasts only depend on the values before their origin.
   */
  memo?: Map<string, number[] | null>;
  /** Fewest hours accepted (default MIN_HISTORY_HOURS); the backtest of the 14-day EC2 series uses 9 days. */
  minHistoryHours?: number;
}

export interface Skill {
  /** MAE of the picked method ÷ MAE of "same hour yesterday" over the selection days; below 1 is better. */
  maeRatioVsSn24: number | null;
  maeRatioVsSn168: number | null;
  /** Daily origins (24 h ahead each) the ratios come from. */
  origins: number;
}

export interface HourlyForecast {
  method: MethodName;
  point: number[];
  low80: number[];
  high80: number[];
  low95: number[];
  high95: number[];
  skill: Skill;
  /** Every candidate's 24 h-ahead MAE over the same origins (null: not enough history for it). */
  candidates: { method: MethodName; mae: number | null }[];
  /** Errors the bands come from (origins × 24). */
  bandSamples: number;
}

/** Upper bound of every forecast hour: 1.2 × the largest hour of the last 4 weeks (and the link capacity). */
export function clampLimit(values: ArrayLike<number>, capacityPerHour?: number): number {
  let max = 0;
  for (let i = Math.max(0, values.length - CLAMP_LOOKBACK_HOURS); i < values.length; i++) max = Math.max(max, values[i]!);
  const limit = CLAMP_FACTOR * max;
  return capacityPerHour !== undefined && capacityPerHour > 0 ? Math.min(limit, capacityPerHour) : limit;
}

export function seasonalNaive(values: ArrayLike<number>, horizon: number, period: number): number[] | null {
  const n = values.length;
  if (n < period) return null;
  return Array.from({ length: horizon }, (_, k) => values[n - period + (k % period)]!);
}

function prefix(values: ArrayLike<number>, origin: number): ArrayLike<number> {
  return origin === values.length ? values : Array.prototype.slice.call(values, 0, origin);
}

/**
 * One method's forecast of the `horizon` hours after values[0..origin), clamped; null when the method needs
 * more history.
 */
export function forecastMethod(method: MethodName, values: ArrayLike<number>, origin: number, horizon: number, options: Pick<ForecastOptions, 'phase' | 'capacityPerHour' | 'memo'>): number[] | null {
  if (origin < METHOD_MIN_HOURS[method]) return null;
  const key = `${method}@${origin}+${horizon}`;
  const memo = options.memo;
  if (memo?.has(key)) return memo.get(key)!;
  const history = prefix(values, origin);
  const limit = clampLimit(history, options.capacityPerHour);
  const clamp = (f: number[] | null) => (f === null ? null : f.map((v) => (Number.isFinite(v) ? Math.min(Math.max(v, 0), limit) : 0)));
  let out: number[] | null;
  switch (method) {
    case 'sn24':
      out = seasonalNaive(history, horizon, DAY);
      break;
    case 'sn168':
      out = seasonalNaive(history, horizon, WEEK);
      break;
    case 'dshw':
      out = clamp(forecastDshw(history, horizon)?.forecast ?? null);
      break;
    case 'ridge24':
      out = clamp(forecastRidge(history, horizon, options.phase));
      break;
    case 'combo': {
      const a = forecastMethod('dshw', values, origin, horizon, options);
      const b = forecastMethod('ridge24', values, origin, horizon, options);
      out = a === null || b === null ? null : clamp(a.map((v, i) => (v + b[i]!) / 2));
      break;
    }
  }
  memo?.set(key, out);
  return out;
}

export function meanAbsoluteError(actual: ArrayLike<number>, from: number, forecast: readonly number[]): number {
  let sum = 0;
  for (let k = 0; k < forecast.length; k++) sum += Math.abs(actual[from + k]! - forecast[k]!);
  return sum / forecast.length;
}

/** The q-quantile (0..1) of sorted values, linearly interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export class HistoryTooShortError extends Error {
  constructor(readonly hours: number) {
    super(`${hours} hours of history; a forecast needs at least ${MIN_HISTORY_HOURS} (14 days)`);
    this.name = 'HistoryTooShortError';
  }
}

export function forecastHourly(values: ArrayLike<number>, options: ForecastOptions): HourlyForecast {
  const n = values.length;
  if (n < (options.minHistoryHours ?? MIN_HISTORY_HOURS)) throw new HistoryTooShortError(n);
  const horizon = Math.max(1, Math.min(MAX_HORIZON_HOURS, Math.round(options.horizonHours)));
  const memo = options.memo ?? new Map<string, number[] | null>();
  const opts = { phase: options.phase, capacityPerHour: options.capacityPerHour, memo };

  // Self-backtest: every candidate from each of the last 7 daily origins.
  const origins = Array.from({ length: SELECTION_DAYS }, (_, i) => n - DAY * (i + 1)).filter((o) => o >= DAY);
  const available = (m: MethodName) => origins.filter((o) => o >= METHOD_MIN_HOURS[m]);
  const eligible = CANDIDATES.filter((m) => available(m).length >= 2);
  const common = origins.filter((o) => eligible.every((m) => o >= METHOD_MIN_HOURS[m]));
  const maeOf = (m: MethodName, over: readonly number[]) => {
    if (over.length === 0) return null;
    let sum = 0;
    for (const o of over) sum += meanAbsoluteError(values, o, forecastMethod(m, values, o, DAY, opts)!);
    return sum / over.length;
  };
  const candidates = CANDIDATES.map((m) => ({ method: m, mae: eligible.includes(m) ? maeOf(m, common) : null }));
  let method: MethodName = 'sn24';
  let best = candidates[0]!.mae ?? Infinity;
  for (const c of candidates) {
    // Strictly better, beyond rounding: equal errors keep the simpler method.
    if (c.mae !== null && c.mae < best * (1 - 1e-9)) {
      best = c.mae;
      method = c.method;
    }
  }
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : b === 0 ? (a === 0 ? 1 : null) : a / b);
  const skill: Skill = {
    maeRatioVsSn24: ratio(best, candidates.find((c) => c.method === 'sn24')!.mae),
    maeRatioVsSn168: ratio(best, common.every((o) => o >= METHOD_MIN_HOURS.sn168) ? maeOf('sn168', common) : null),
    origins: common.length,
  };

  // Bands: quantiles of the log-ratio errors of the picked method's last BAND_DAYS daily forecasts.
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  const c = mean > 0 ? (mean / n) * 0.01 : 1;
  const errors: number[] = [];
  for (let d = 1; d <= BAND_DAYS; d++) {
    const o = n - DAY * d;
    if (o < METHOD_MIN_HOURS[method]) break;
    const f = forecastMethod(method, values, o, DAY, opts)!;
    for (let k = 0; k < DAY; k++) errors.push(Math.log((values[o + k]! + c) / (f[k]! + c)));
  }
  errors.sort((a, b) => a - b);
  const q = { l80: quantile(errors, 0.1), h80: quantile(errors, 0.9), l95: quantile(errors, 0.025), h95: quantile(errors, 0.975) };
  const point = forecastMethod(method, values, n, horizon, opts)!;
  // Past 24 h the errors were not measured: the day-one quantiles are widened by √(days ahead), an assumption.
  const band = (qv: number, k: number) => (p: number) => Math.max(0, (p + c) * Math.exp(qv * Math.sqrt(Math.ceil((k + 1) / DAY))) - c);
  return {
    method,
    point,
    low80: point.map((p, k) => Math.min(p, band(q.l80, k)(p))),
    high80: point.map((p, k) => Math.max(p, band(q.h80, k)(p))),
    low95: point.map((p, k) => Math.min(p, band(q.l95, k)(p))),
    high95: point.map((p, k) => Math.max(p, band(q.h95, k)(p))),
    skill,
    candidates,
    bandSamples: errors.length,
  };
}
