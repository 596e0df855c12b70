import { describe, expect, it } from 'vitest';
import { ratesBetween, type CounterReading } from './counter-rates';

const reading = (rxBytes: number, txBytes: number, atMs: number): CounterReading => ({ rxBytes, txBytes, atMs });

describe('ratesBetween', () => {
  it('divides the counter change by the time between reads', () => {
    const before = new Map([['eth0', reading(1000, 100, 0)]]);
    const after = new Map([['eth0', reading(5000, 300, 2000)]]);
    expect(ratesBetween(before, after).get('eth0')).toEqual({ rxBytesPerSec: 2000, txBytesPerSec: 100 });
  });

  it('gives no rate for a counter that went down', () => {
    const before = new Map([['eth0', reading(5000, 100, 0)]]);
    const after = new Map([['eth0', reading(10, 300, 2000)]]);
    expect(ratesBetween(before, after).has('eth0')).toBe(false);
  });

  it('gives no rate for an interface seen for the first time', () => {
    expect(ratesBetween(new Map(), new Map([['wlan0', reading(1, 1, 1)]])).size).toBe(0);
  });
});
