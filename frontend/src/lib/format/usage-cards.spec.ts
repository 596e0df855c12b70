import { describe, expect, it } from 'vitest';
import type { ApiDataCap, ApiUsageResponse, ApiUsageRow } from '$shared/api-types';
import {
  buildCapView,
  capLevel,
  describeCapScope,
  formatCivilDay,
  formatDateRange,
  formatOrdinalDay,
  formatPercent,
  summarizeUsage,
} from './usage-cards';

/** Intl puts thin and narrow no-break spaces around range dashes; compare with plain spaces. */
const plain = (text: string): string => text.replace(/\s/g, ' ');

function row(startDate: string, endDate: string, rx: number, tx: number, current = false, estimate: number | null = null): ApiUsageRow {
  return {
    label: startDate,
    start: `${startDate}T00:00:00.000Z`,
    end: `${endDate}T00:00:00.000Z`,
    start_date: startDate,
    end_date: endDate,
    rx_bytes: rx,
    tx_bytes: tx,
    total_bytes: rx + tx,
    current,
    estimate: estimate === null ? null : { rx_bytes: estimate, tx_bytes: 0, total_bytes: estimate },
  };
}

function answer(period: 'day' | 'month', rows: ApiUsageRow[]): ApiUsageResponse {
  return {
    period,
    device: { id: 'a', name: 'vm', is_local: true },
    interface: null,
    interfaces: ['eth0'],
    timezone: 'UTC',
    month_start_day: 1,
    rows,
  };
}

function cap(overrides: Partial<ApiDataCap> = {}): ApiDataCap {
  return {
    limit_bytes: 1_000_000_000_000,
    interface: null,
    direction: 'both',
    thresholds_percent: [80, 100],
    month_start_day: 1,
    month_start_day_source: 'default',
    timezone: 'UTC',
    units: 'decimal',
    webhook_configured: false,
    updated_at: '2026-11-01T00:00:00.000Z',
    status: {
      period: '2026-11',
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      start_date: '2026-11-01',
      end_date: '2026-12-01',
      interfaces: ['eth0', 'wlan0'],
      rx_bytes: 700_000_000_000,
      tx_bytes: 150_000_000_000,
      used_bytes: 850_000_000_000,
      limit_bytes: 1_000_000_000_000,
      remaining_bytes: 150_000_000_000,
      projected_bytes: 1_200_000_000_000,
      percent_used: 85,
      projected_percent: 120,
    },
    ...overrides,
  };
}

describe('summarizeUsage', () => {
  const days = answer('day', [row('2026-11-22', '2026-11-23', 3000, 500, true, 80_000), row('2026-11-21', '2026-11-22', 9000, 1000)]);
  const months = answer('month', [row('2026-11-01', '2026-12-01', 50_000, 5000, true, 90_000), row('2026-10-01', '2026-11-01', 70_000, 7000)]);

  it('takes today and this month from the current rows, with their estimates', () => {
    const summary = summarizeUsage(days, months);
    expect(summary.today?.row.total_bytes).toBe(3500);
    expect(summary.today?.estimateBytes).toBe(80_000);
    expect(summary.thisMonth?.row.total_bytes).toBe(55_000);
    expect(summary.thisMonth?.estimateBytes).toBe(90_000);
  });

  it('takes last month from the row after the current month and gives it no estimate', () => {
    const summary = summarizeUsage(days, months);
    expect(summary.lastMonth?.row.label).toBe('2026-10-01');
    expect(summary.lastMonth?.estimateBytes).toBeNull();
    expect(summary.hasData).toBe(true);
  });

  it('has no last month on a first month, and no data when every row is zero', () => {
    const fresh = summarizeUsage(answer('day', [row('2026-11-22', '2026-11-23', 0, 0, true)]), answer('month', [row('2026-11-01', '2026-12-01', 0, 0, true)]));
    expect(fresh.lastMonth).toBeNull();
    expect(fresh.today?.row.total_bytes).toBe(0);
    expect(fresh.hasData).toBe(false);
  });

  it('works with one answer still loading', () => {
    const summary = summarizeUsage(days, null);
    expect(summary.today?.row.total_bytes).toBe(3500);
    expect(summary.thisMonth).toBeNull();
  });
});

describe('capLevel', () => {
  it('stays calm below the lowest threshold', () => {
    expect(capLevel(79.9, [80, 100])).toBe('ok');
  });

  it('warns from the lowest threshold on', () => {
    expect(capLevel(80, [80, 100])).toBe('warn');
    expect(capLevel(55, [50, 90])).toBe('warn');
  });

  it('is over from 100 % whatever the thresholds', () => {
    expect(capLevel(100, [80, 100])).toBe('over');
    expect(capLevel(140, [120])).toBe('over');
    expect(capLevel(99, [120])).toBe('ok');
  });
});

describe('buildCapView', () => {
  it('is null without a cap or before the server measured it', () => {
    expect(buildCapView(null)).toBeNull();
    expect(buildCapView(cap({ limit_bytes: null, status: null }))).toBeNull();
  });

  it('fills the bar to the percent used and marks the projection at the end when it passes the cap', () => {
    const view = buildCapView(cap())!;
    expect(view.fillPercent).toBe(85);
    expect(view.level).toBe('warn');
    expect(view.projectionMarkPercent).toBe(100);
    expect(view.projectionOver).toBe(true);
    expect(view.thresholdMarks).toEqual([80]);
  });

  it('clamps the bar at 100 % once the cap is passed and stops calling the projection news', () => {
    const base = cap();
    const view = buildCapView(cap({ status: { ...base.status!, used_bytes: 1_300_000_000_000, percent_used: 130, projected_percent: 150 } }))!;
    expect(view.fillPercent).toBe(100);
    expect(view.level).toBe('over');
    expect(view.projectionOver).toBe(false);
  });

  it('has no projection mark in the month’s first hour', () => {
    const base = cap();
    const view = buildCapView(cap({ status: { ...base.status!, projected_bytes: null, projected_percent: null } }))!;
    expect(view.projectionMarkPercent).toBeNull();
    expect(view.projectionOver).toBe(false);
  });
});

describe('formatting', () => {
  it('writes a billing month as a date range whose end is the day before end_date', () => {
    expect(plain(formatDateRange('2026-11-01', '2026-12-01', 'en-GB'))).toBe('1 – 30 Nov 2026');
    expect(plain(formatDateRange('2026-03-15', '2026-04-15', 'en-GB'))).toBe('15 Mar – 14 Apr 2026');
  });

  it('writes a one-day range as the day alone', () => {
    expect(formatDateRange('2026-11-22', '2026-11-23', 'en-GB')).toBe('22 Nov 2026');
  });

  it('reads server dates as calendar dates, whatever the browser’s zone', () => {
    expect(formatCivilDay('2026-11-22', 'en-GB')).toBe('Sun, 22 Nov 2026');
  });

  it('writes percents with one decimal below 100 and none above', () => {
    expect(formatPercent(77.81, 'en-GB')).toBe('77.8%');
    expect(formatPercent(110.91, 'en-GB')).toBe('111%');
  });

  it('writes ordinal days', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 28].map(formatOrdinalDay)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '28th']);
  });

  it('says what a cap counts', () => {
    expect(describeCapScope({ interface: null, direction: 'both' }, ['eth0', 'wlan0'])).toBe('Total (eth0, wlan0)');
    expect(describeCapScope({ interface: 'eth0', direction: 'rx' }, [])).toBe('eth0 · download only');
    expect(describeCapScope({ interface: null, direction: 'tx' }, [])).toBe('Total · upload only');
  });
});
