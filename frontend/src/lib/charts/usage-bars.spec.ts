import { describe, expect, it } from 'vitest';
import type { ApiUsageResponse, ApiUsageRow } from '$shared/api-types';
import { buildUsageBars, pickVolumeScale } from './usage-bars';

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

const answer = (period: 'day' | 'month', rows: ApiUsageRow[]): ApiUsageResponse => ({
  period,
  device: { id: 'a', name: 'vm', is_local: true },
  interface: null,
  interfaces: ['eth0'],
  timezone: 'UTC',
  month_start_day: 15,
  rows,
});

describe('buildUsageBars', () => {
  const days = answer('day', [row('2026-11-22', '2026-11-23', 300, 100, true, 1000), row('2026-11-21', '2026-11-22', 900, 200), row('2026-11-20', '2026-11-21', 0, 0)]);

  it('puts the oldest day first and keeps download and upload apart', () => {
    const bars = buildUsageBars(days, 3, 'en-GB');
    expect(bars.bars.map((b) => b.label)).toEqual(['20 Nov', '21 Nov', '22 Nov']);
    expect(bars.bars[1]).toMatchObject({ rxBytes: 900, txBytes: 200, totalBytes: 1100, restBytes: 0, current: false });
  });

  it('tops the current period with what its estimate adds, and sizes the axis to that', () => {
    const bars = buildUsageBars(days, 3, 'en-GB');
    expect(bars.bars[2]).toMatchObject({ totalBytes: 400, restBytes: 600, estimateBytes: 1000, current: true });
    expect(bars.maxBytes).toBe(1100);
  });

  it('pads the front with unrecorded slots so the chart spans the whole range', () => {
    const bars = buildUsageBars(days, 5, 'en-GB');
    expect(bars.bars.map((b) => b.label)).toEqual(['18 Nov', '19 Nov', '20 Nov', '21 Nov', '22 Nov']);
    expect(bars.bars.map((b) => b.recorded)).toEqual([false, false, true, true, true]);
    expect(bars.bars[0]?.totalBytes).toBe(0);
  });

  it('steps billing months back on their start day and writes the year where it starts', () => {
    const months = answer('month', [row('2026-01-15', '2026-02-15', 5, 5, true), row('2025-12-15', '2026-01-15', 7, 1)]);
    const bars = buildUsageBars(months, 4, 'en-GB');
    expect(bars.bars.map((b) => b.label)).toEqual([['Oct', '2025'], 'Nov', 'Dec', ['Jan', '2026']]);
    expect(bars.bars[0]?.title.replace(/\s/g, ' ')).toBe('15 Oct – 14 Nov 2025');
    expect(bars.bars[3]?.title.replace(/\s/g, ' ')).toBe('15 Jan – 14 Feb 2026');
  });

  it('says whether any bar counted a byte', () => {
    expect(buildUsageBars(answer('day', [row('2026-11-22', '2026-11-23', 0, 0, true)]), 30).hasData).toBe(false);
    expect(buildUsageBars(days).hasData).toBe(true);
  });

  it('titles a day bar with its weekday and date', () => {
    expect(buildUsageBars(days, 3, 'en-GB').bars[2]?.title).toBe('Sun, 22 Nov 2026');
  });
});

describe('pickVolumeScale', () => {
  it('picks the largest decimal prefix the maximum reaches', () => {
    expect(pickVolumeScale(4_440_000_000_000, 'si')).toEqual({ divisor: 1e12, label: 'TB' });
    expect(pickVolumeScale(999_000_000, 'si')).toEqual({ divisor: 1e6, label: 'MB' });
  });

  it('uses binary prefixes when asked', () => {
    expect(pickVolumeScale(2 * 1024 ** 3, 'iec')).toEqual({ divisor: 1024 ** 3, label: 'GiB' });
  });

  it('stays in bytes for nothing', () => {
    expect(pickVolumeScale(0, 'si')).toEqual({ divisor: 1, label: 'B' });
  });
});
