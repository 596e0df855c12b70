/**
 * Times as people read them, in the browser's time zone (tests pin TZ=UTC): axis ticks on round local
 * times, a bucket's span for tooltips, and clock times for "the first point arrives at …".
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface TimeTick {
  valueMs: number;
  label: string;
}

type TickStep =
  | { kind: 'minutes'; count: number; approxMs: number }
  | { kind: 'days'; count: number; approxMs: number }
  | { kind: 'months'; count: number; approxMs: number };

const TICK_STEPS: readonly TickStep[] = [
  ...[1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720].map(
    (count): TickStep => ({ kind: 'minutes', count, approxMs: count * MINUTE_MS }),
  ),
  ...[1, 2, 7, 14].map((count): TickStep => ({ kind: 'days', count, approxMs: count * DAY_MS })),
  ...[1, 2, 3, 6, 12].map((count): TickStep => ({ kind: 'months', count, approxMs: count * 30.44 * DAY_MS })),
];

function pickStep(spanMs: number, maxTicks: number): TickStep {
  for (const step of TICK_STEPS) if (spanMs / step.approxMs <= maxTicks) return step;
  return TICK_STEPS[TICK_STEPS.length - 1]!;
}

/** Candidate tick times from a local boundary at or before `minMs`, in local calendar arithmetic (DST-safe). */
function* tickTimes(minMs: number, maxMs: number, step: TickStep): Generator<number> {
  const first = new Date(minMs);
  if (step.kind === 'minutes') {
    const dayStart = new Date(first.getFullYear(), first.getMonth(), first.getDate());
    for (let minutes = 0; ; minutes += step.count) {
      const t = new Date(dayStart.getFullYear(), dayStart.getMonth(), dayStart.getDate(), 0, minutes).getTime();
      if (t > maxMs) return;
      yield t;
    }
  }
  if (step.kind === 'days') {
    // Weekly steps start on a Monday; daily ones on any midnight.
    const offset = step.count >= 7 ? (first.getDay() + 6) % 7 : 0;
    for (let days = -offset; ; days += step.count) {
      const t = new Date(first.getFullYear(), first.getMonth(), first.getDate() + days).getTime();
      if (t > maxMs) return;
      yield t;
    }
  }
  const alignedMonth = first.getMonth() - (first.getMonth() % step.count);
  for (let months = 0; ; months += step.count) {
    const t = new Date(first.getFullYear(), alignedMonth + months, 1).getTime();
    if (t > maxMs) return;
    yield t;
  }
}

function isLocalMidnight(ms: number): boolean {
  const d = new Date(ms);
  return d.getHours() === 0 && d.getMinutes() === 0;
}

/**
 * Ticks for a time axis from `minMs` to `maxMs`: at most `maxTicks`, on round local times (every 5 min,
 * 3 h, Monday, 1st of the month…). Labels say the time of day, the date where a day starts, the month
 * for monthly steps and the year in January.
 */
export function buildTimeTicks(minMs: number, maxMs: number, maxTicks: number, locale?: string): TimeTick[] {
  if (!(maxMs > minMs)) return [];
  const step = pickStep(maxMs - minMs, Math.max(1, maxTicks));
  const clock = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
  const dayOfMonth = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
  const date = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
  const month = new Intl.DateTimeFormat(locale, { month: 'short' });
  const monthYear = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric' });

  const ticks: TimeTick[] = [];
  for (const valueMs of tickTimes(minMs, maxMs, step)) {
    if (valueMs < minMs) continue;
    let label: string;
    if (step.kind === 'minutes') label = isLocalMidnight(valueMs) ? dayOfMonth.format(valueMs) : clock.format(valueMs);
    else if (step.kind === 'days') label = date.format(valueMs);
    else label = new Date(valueMs).getMonth() === 0 ? monthYear.format(valueMs) : month.format(valueMs);
    ticks.push({ valueMs, label });
  }
  return ticks;
}

/**
 * A bucket's span for a tooltip: "Tue, 11 Mar 2025, 14:05 – 14:10" for buckets under a day, the date
 * alone for a calendar-day bucket.
 */
export function formatBucketSpan(startMs: number, bucketSeconds: number, locale?: string): string {
  const day = new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  if (bucketSeconds >= 86_400 - 3600) return day.format(startMs);
  const clock = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
  return `${day.format(startMs)}, ${clock.format(startMs)} – ${clock.format(startMs + bucketSeconds * 1000)}`;
}

/** A bucket's start in few words, for tight spaces: "11 Mar, 14:05", or "Tue, 11 Mar" for a day bucket. */
export function formatBucketStart(startMs: number, bucketSeconds: number, locale?: string): string {
  if (bucketSeconds >= 86_400 - 3600) {
    return new Intl.DateTimeFormat(locale, { weekday: 'short', day: 'numeric', month: 'short' }).format(startMs);
  }
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(startMs);
}

/** "14:05:03" in the browser's zone. */
export function formatClockTime(ms: number, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ms);
}

/** "in 4 s", "in 2 min", "now" — how long until `targetMs`. */
export function formatTimeUntil(targetMs: number, nowMs: number): string {
  const seconds = Math.round((targetMs - nowMs) / 1000);
  if (seconds <= 0) return 'any moment now';
  if (seconds < 90) return `in ${seconds} s`;
  return `in ${Math.round(seconds / 60)} min`;
}

/** "1 minute", "5 minutes", "1 hour", "3 days", "1 year" for a count of minutes. */
export function formatDuration(minutes: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes >= 525_600 && minutes % 525_600 === 0) return plural(minutes / 525_600, 'year');
  if (minutes >= 2880 && minutes % 1440 === 0) return plural(minutes / 1440, 'day');
  if (minutes === 1440) return '1 day';
  if (minutes >= 60 && minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}
