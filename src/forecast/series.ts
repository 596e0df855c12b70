/**
 * A series sent to POST /api/forecast, checked once: timestamps that parse, ascending, no duplicates, exactly
 * one hour apart, values finite and ≥ 0, at least 14 days and at most a year. Each problem has its own stable
 * code. Pure (no clock): the answer's timestamps continue the series' own steps.
 */
import { MIN_HISTORY_HOURS } from './forecaster.js';

/** A year of hours (leap year): the longest series accepted. */
export const MAX_SERIES_HOURS = 366 * 24;

export interface SeriesPoint {
  timestamp: string;
  value: number;
}

export class SeriesError extends Error {
  constructor(
    readonly code: 'INVALID_TIMESTAMP' | 'SERIES_UNSORTED' | 'SERIES_DUPLICATE_TIMESTAMP' | 'SERIES_NOT_HOURLY' | 'SERIES_NEGATIVE_VALUE' | 'SERIES_TOO_SHORT' | 'SERIES_TOO_LONG',
    message: string,
  ) {
    super(message);
    this.name = 'SeriesError';
  }
}

export interface CheckedSeries {
  /** Unix seconds of the first point. */
  startSec: number;
  values: number[];
}

export function checkSeries(points: readonly SeriesPoint[]): CheckedSeries {
  if (points.length > MAX_SERIES_HOURS) throw new SeriesError('SERIES_TOO_LONG', `${points.length} points; at most ${MAX_SERIES_HOURS} hours (a year) are accepted`);
  const secs: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    // ISO 8601 with a zone (Z or ±hh:mm): a bare local time would depend on the server's zone.
    const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(p.timestamp) ? Date.parse(p.timestamp) : NaN;
    if (!Number.isFinite(ms)) throw new SeriesError('INVALID_TIMESTAMP', `point ${i}: timestamp "${p.timestamp}" is not ISO 8601 with a zone (e.g. 2026-03-01T10:00:00Z)`);
    if (ms % 1000 !== 0) throw new SeriesError('SERIES_NOT_HOURLY', `point ${i}: timestamp "${p.timestamp}" has fractions of a second; hourly points are whole hours apart`);
    const sec = ms / 1000;
    if (!Number.isFinite(p.value) || p.value < 0) throw new SeriesError('SERIES_NEGATIVE_VALUE', `point ${i} (${p.timestamp}): value ${p.value} is not a finite number ≥ 0; traffic is 0 or more`);
    secs.push(sec);
  }
  // Order and duplicates first: a swapped pair is "unsorted", not "not hourly".
  for (let i = 1; i < secs.length; i++) {
    if (secs[i] === secs[i - 1]) throw new SeriesError('SERIES_DUPLICATE_TIMESTAMP', `points ${i - 1} and ${i} have the same timestamp ${points[i]!.timestamp}`);
    if (secs[i]! < secs[i - 1]!) throw new SeriesError('SERIES_UNSORTED', `point ${i} (${points[i]!.timestamp}) comes before point ${i - 1} (${points[i - 1]!.timestamp}); sort the series oldest first`);
  }
  for (let i = 1; i < secs.length; i++) {
    const step = secs[i]! - secs[i - 1]!;
    if (step !== 3600) {
      throw new SeriesError(
        'SERIES_NOT_HOURLY',
        `points ${i - 1} and ${i} are ${step} s apart (${points[i - 1]!.timestamp} → ${points[i]!.timestamp}); send one point per hour, every hour (0 for an hour without traffic)`,
      );
    }
  }
  if (points.length < MIN_HISTORY_HOURS) {
    throw new SeriesError('SERIES_TOO_SHORT', `${points.length} hourly points; a forecast needs at least ${MIN_HISTORY_HOURS} (14 days), ${MIN_HISTORY_HOURS - points.length} more`);
  }
  return { startSec: secs[0]!, values: points.map((p) => p.value) };
}

/** Hour of the week (0 = Monday 00:00 UTC) of a unix time. */
export const utcHourOfWeek = (sec: number) => (((Math.floor(sec / 3600) + 72) % 168) + 168) % 168;
