import { describe, expect, it } from 'vitest';
import type { ApiCollectorStatus, ApiTrafficPoint, ApiTrafficResponse } from '$shared/api-types';
import { buildTrafficSeries, explainEmptyChart, hasTraffic, isolatedPoints, maxRate } from './series';

function bucket(timestamp: string, rx: number | null, tx: number | null, coveredSeconds: number | null = null): ApiTrafficPoint {
  return { timestamp, rx_bytes: rx, tx_bytes: tx, rx_packets: rx === null ? null : 1, tx_packets: tx === null ? null : 1, covered_seconds: coveredSeconds };
}

function response(data: ApiTrafficPoint[], end = '2025-03-11T14:10:00Z'): ApiTrafficResponse {
  return {
    data,
    interface: 'eth0',
    interfaces: ['eth0'],
    time_window_hours: 1,
    group_minutes: 5,
    bucket_seconds: 300,
    timezone: 'UTC',
    start: '2025-03-11T13:10:00Z',
    end,
  };
}

describe('buildTrafficSeries', () => {
  it('divides bytes by the bucket length to get a rate', () => {
    const series = buildTrafficSeries(response([bucket('2025-03-11T13:55:00Z', 3000, 600)]));
    expect(series.points[0]?.rxBytesPerSec).toBe(10);
    expect(series.points[0]?.txBytesPerSec).toBe(2);
  });

  it('averages a partly covered bucket over the seconds the collector ran', () => {
    // The collector ran 60 s of the 300 s bucket: 6000 bytes then is 100 B/s, not 20 B/s.
    const series = buildTrafficSeries(response([bucket('2025-03-11T13:55:00Z', 6000, 0, 60)]));
    expect(series.points[0]?.rxBytesPerSec).toBe(100);
  });

  it('keeps a bucket without data as null, not zero', () => {
    const series = buildTrafficSeries(response([bucket('2025-03-11T13:55:00Z', null, null)]));
    expect(series.points[0]?.rxBytesPerSec).toBeNull();
    expect(series.bucketsWithData).toBe(0);
  });

  it('averages the bucket in progress over the time that has passed', () => {
    // Bucket 14:10–14:15, window ends 14:11: one minute has passed.
    const series = buildTrafficSeries(response([bucket('2025-03-11T14:10:00Z', 6000, 0)], '2025-03-11T14:11:00Z'));
    expect(series.points[0]?.rxBytesPerSec).toBe(100);
  });

  it('sums the window totals over buckets with data', () => {
    const series = buildTrafficSeries(
      response([bucket('2025-03-11T13:50:00Z', 100, 10), bucket('2025-03-11T13:55:00Z', null, null), bucket('2025-03-11T14:00:00Z', 200, 20)]),
    );
    expect(series.rxBytes).toBe(300);
    expect(series.txBytes).toBe(30);
    expect(series.bucketsWithData).toBe(2);
  });

  it('finds each direction’s peak rate and when it happened', () => {
    const series = buildTrafficSeries(
      response([bucket('2025-03-11T13:50:00Z', 3000, 900), bucket('2025-03-11T13:55:00Z', 6000, 300)]),
    );
    expect(series.peakRx).toEqual({ bytesPerSec: 20, atMs: Date.parse('2025-03-11T13:55:00Z') });
    expect(series.peakTx).toEqual({ bytesPerSec: 3, atMs: Date.parse('2025-03-11T13:50:00Z') });
    expect(maxRate(series)).toBe(20);
  });

  it('has no peak when the window holds no data', () => {
    const series = buildTrafficSeries(response([]));
    expect(series.peakRx).toBeNull();
    expect(maxRate(series)).toBe(0);
  });
});

describe('isolatedPoints', () => {
  it('marks values whose neighbours are both gaps', () => {
    expect(isolatedPoints([null, 5, null, 1, 2, null])).toEqual([false, true, false, false, false, false]);
  });

  it('marks a lone value at either end', () => {
    expect(isolatedPoints([3, null, null, 4])).toEqual([true, false, false, true]);
  });
});

describe('explaining an empty chart', () => {
  const status = (over: Partial<ApiCollectorStatus>): ApiCollectorStatus => ({
    running: true,
    interval_seconds: 30,
    monitored_interfaces: ['eth0'],
    polls: 1,
    failed_polls: 0,
    last_poll_at: '2025-03-11T14:00:00Z',
    next_poll_at: '2025-03-11T14:00:30Z',
    last_error: null,
    first_data_at: '2025-03-11T14:00:00Z',
    started_at: '2025-03-11T14:00:00Z',
    ...over,
  });
  const zeros = buildTrafficSeries(response([bucket('2025-03-11T14:00:00Z', 0, 0)]));
  const gaps = buildTrafficSeries(response([bucket('2025-03-11T14:00:00Z', null, null)]));

  it('hasTraffic is false for a window of zeros and gaps', () => {
    expect(hasTraffic(zeros)).toBe(false);
    expect(hasTraffic(buildTrafficSeries(response([bucket('2025-03-11T14:00:00Z', 0, 1)])))).toBe(true);
  });

  it('says a new install is waiting for its first point after only the baseline read', () => {
    expect(explainEmptyChart(zeros, status({}))).toEqual({ kind: 'waiting', nextPollAtMs: Date.parse('2025-03-11T14:00:30Z') });
  });

  it('says waiting when nothing at all is stored yet', () => {
    expect(explainEmptyChart(gaps, status({ polls: 0, first_data_at: null }))?.kind).toBe('waiting');
  });

  it('does not say waiting after a restart when older data is stored', () => {
    expect(explainEmptyChart(zeros, status({ first_data_at: '2024-01-01T00:00:00Z' }))).toBeNull();
  });

  it('draws honest zeros once the second read has happened', () => {
    expect(explainEmptyChart(zeros, status({ polls: 2 }))).toBeNull();
  });

  it('says the window holds nothing when every bucket is a gap', () => {
    expect(explainEmptyChart(gaps, status({ polls: 50, first_data_at: '2024-01-01T00:00:00Z' }))).toEqual({ kind: 'nothing-in-window' });
  });

  it('says the collector stopped, with its last error, when it is not running', () => {
    expect(explainEmptyChart(gaps, status({ running: false, polls: 9, last_error: 'cannot read /proc/net/dev' }))).toEqual({
      kind: 'stopped',
      lastError: 'cannot read /proc/net/dev',
    });
  });
});
