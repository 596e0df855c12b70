import { describe, expect, it } from 'vitest';
import { buildTimeTicks, formatBucketSpan, formatBucketStart, formatClockTime, formatDuration, formatTimeUntil } from './time';

// vite.config.ts pins TZ=UTC for the test run.
const at = (iso: string): number => Date.parse(iso);

describe('buildTimeTicks', () => {
  it('puts hourly ticks on whole hours across a 6-hour window', () => {
    const ticks = buildTimeTicks(at('2025-03-11T08:17:00Z'), at('2025-03-11T14:17:00Z'), 8, 'en-GB');
    expect(ticks.map((t) => t.label)).toEqual(['09:00', '10:00', '11:00', '12:00', '13:00', '14:00']);
  });

  it('never returns more ticks than asked for', () => {
    const ticks = buildTimeTicks(at('2025-03-11T00:00:00Z'), at('2025-03-12T00:00:00Z'), 5, 'en-GB');
    expect(ticks.length).toBeLessThanOrEqual(5);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
  });

  it('labels midnight with the day instead of 00:00', () => {
    const ticks = buildTimeTicks(at('2025-03-11T18:00:00Z'), at('2025-03-12T06:00:00Z'), 6, 'en-GB');
    expect(ticks.map((t) => t.label)).toContain('12 Mar');
    expect(ticks.map((t) => t.label)).not.toContain('00:00');
  });

  it('uses dates for a 30-day window', () => {
    const ticks = buildTimeTicks(at('2025-03-01T10:00:00Z'), at('2025-03-31T10:00:00Z'), 6, 'en-GB');
    expect(ticks[0]?.label).toMatch(/^\d{1,2} Mar$/);
    expect(ticks.every((t) => new Date(t.valueMs).getUTCHours() === 0)).toBe(true);
  });

  it('starts weekly ticks on Mondays', () => {
    const ticks = buildTimeTicks(at('2025-01-01T00:00:00Z'), at('2025-03-31T00:00:00Z'), 14, 'en-GB');
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.every((t) => new Date(t.valueMs).getUTCDay() === 1)).toBe(true);
  });

  it('uses months with the year in January for a one-year window', () => {
    const ticks = buildTimeTicks(at('2024-06-15T00:00:00Z'), at('2025-06-15T00:00:00Z'), 7, 'en-GB');
    const labels = ticks.map((t) => t.label);
    expect(labels).toContain('Jan 2025');
    expect(labels.every((label) => /^[A-Z][a-z]{2,3}( \d{4})?$/.test(label))).toBe(true);
  });

  it('returns no ticks for an empty span', () => {
    expect(buildTimeTicks(1000, 1000, 5)).toEqual([]);
  });
});

describe('formatBucketSpan', () => {
  it('shows the day and the start and end times of a sub-day bucket', () => {
    expect(formatBucketSpan(at('2025-03-11T14:05:00Z'), 300, 'en-GB')).toBe('Tue, 11 Mar 2025, 14:05 – 14:10');
  });

  it('shows only the date for a calendar-day bucket', () => {
    expect(formatBucketSpan(at('2025-03-11T00:00:00Z'), 86_400, 'en-GB')).toBe('Tue, 11 Mar 2025');
  });
});

describe('formatBucketStart', () => {
  it('writes day, month and time for a sub-day bucket', () => {
    expect(formatBucketStart(at('2025-03-11T14:05:00Z'), 300, 'en-GB')).toBe('11 Mar, 14:05');
  });

  it('writes the weekday and date for a day bucket', () => {
    expect(formatBucketStart(at('2025-03-11T00:00:00Z'), 86_400, 'en-GB')).toBe('Tue 11 Mar');
  });
});

describe('clock and durations', () => {
  it('formatClockTime writes hours, minutes and seconds', () => {
    expect(formatClockTime(at('2025-03-11T14:05:03Z'), 'en-GB')).toBe('14:05:03');
  });

  it('formatTimeUntil counts seconds, then minutes', () => {
    expect(formatTimeUntil(10_400, 6_000)).toBe('in 4 s');
    expect(formatTimeUntil(200_000, 0)).toBe('in 3 min');
    expect(formatTimeUntil(0, 5_000)).toBe('any moment now');
  });

  it('formatDuration picks the largest whole unit', () => {
    expect(formatDuration(1)).toBe('1 minute');
    expect(formatDuration(15)).toBe('15 minutes');
    expect(formatDuration(180)).toBe('3 hours');
    expect(formatDuration(1440)).toBe('1 day');
    expect(formatDuration(10_080)).toBe('7 days');
    expect(formatDuration(525_600)).toBe('1 year');
  });
});
