import { describe, expect, it } from 'vitest';
import { gapsPath, parseGaps } from '../api/gaps';
import { gapRanges } from './gap-marks';

const gap = (startMs: number, endMs: number) => ({ interfaceName: 'eth0', startMs, endMs, reason: 'implausible' as const });

describe('gapRanges', () => {
  it('widens a short gap to the least width around its middle, clipped to the window', () => {
    expect(gapRanges([gap(5000, 5000)], 0, 100_000, 2000)).toEqual([{ fromMs: 4000, toMs: 6000 }]);
    expect(gapRanges([gap(0, 0)], 0, 100_000, 2000)).toEqual([{ fromMs: 0, toMs: 1000 }]);
  });
  it('merges overlapping gaps and drops those outside the window', () => {
    expect(gapRanges([gap(30_000, 40_000), gap(10_000, 20_000), gap(19_000, 25_000), gap(200_000, 210_000)], 0, 100_000, 1000)).toEqual([
      { fromMs: 10_000, toMs: 25_000 },
      { fromMs: 30_000, toMs: 40_000 },
    ]);
  });
});

describe('gaps API', () => {
  it('builds the path and parses the answer', () => {
    expect(gapsPath(24, null)).toBe('/api/traffic/gaps?time_window_hours=24');
    expect(gapsPath(1, 'br-lan')).toBe('/api/traffic/gaps?time_window_hours=1&interface=br-lan');
    const parsed = parseGaps({ data: [{ interface: 'eth0', start: '2025-03-11T13:10:00.000Z', end: '2025-03-11T13:10:01.000Z', reason: 'implausible', detail: {} }] });
    expect(parsed).toEqual([{ interfaceName: 'eth0', startMs: Date.parse('2025-03-11T13:10:00Z'), endMs: Date.parse('2025-03-11T13:10:01Z'), reason: 'implausible' }]);
  });
  it('refuses a wrong shape naming the field', () => {
    expect(() => parseGaps({ data: [{ interface: 'eth0', start: 'soon', end: 'x', reason: 'implausible' }] })).toThrow(/data\[0\]\.start/);
    expect(() => parseGaps({ data: [{ interface: 'eth0', start: '2025-03-11T13:10:00Z', end: '2025-03-11T13:10:00Z', reason: 'other' }] })).toThrow(/reason/);
  });
});
