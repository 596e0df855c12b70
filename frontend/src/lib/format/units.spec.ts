import { describe, expect, it } from 'vitest';
import { formatAxisNumber, formatBytes, formatExact, formatExactRate, formatRate, pickRateScale } from './units';

const bitsSi = { rateUnit: 'bits', prefixSystem: 'si' } as const;
const bitsIec = { rateUnit: 'bits', prefixSystem: 'iec' } as const;
const bytesSi = { rateUnit: 'bytes', prefixSystem: 'si' } as const;
const bytesIec = { rateUnit: 'bytes', prefixSystem: 'iec' } as const;

describe('formatRate', () => {
  it('writes bytes per second as bits with decimal prefixes', () => {
    expect(formatRate(1_550_000, bitsSi, 'en-US')).toBe('12.4 Mbit/s');
  });

  it('writes bytes per second with decimal byte prefixes', () => {
    expect(formatRate(1_550_000, bytesSi, 'en-US')).toBe('1.55 MB/s');
  });

  it('writes bytes per second with binary byte prefixes', () => {
    expect(formatRate(1_048_576, bytesIec, 'en-US')).toBe('1.00 MiB/s');
  });

  it('writes bits with binary prefixes', () => {
    expect(formatRate(128, bitsIec, 'en-US')).toBe('1.00 Kibit/s');
  });

  it('keeps small rates in the base unit without decimals for zero', () => {
    expect(formatRate(0, bytesSi, 'en-US')).toBe('0 B/s');
    expect(formatRate(12, bytesSi, 'en-US')).toBe('12.0 B/s');
  });

  it('moves to the next prefix when rounding would show 1000', () => {
    expect(formatRate(999_600, bytesSi, 'en-US')).toBe('1.00 MB/s');
  });

  it('never shows four digits with binary prefixes between 1000 and 1023', () => {
    expect(formatRate(1010 * 1024, bytesIec, 'en-US')).toBe('0.99 MiB/s');
  });

  it('writes a dash for a rate that is not a number', () => {
    expect(formatRate(Number.NaN, bytesSi, 'en-US')).toBe('–');
  });
});

describe('pickRateScale', () => {
  it('folds the ×8 for bits into the divisor', () => {
    expect(pickRateScale(1_250_000, bitsSi)).toEqual({ divisor: 125_000, label: 'Mbit/s' });
  });

  it('picks binary steps for binary prefixes', () => {
    expect(pickRateScale(3 * 1024 * 1024, bytesIec)).toEqual({ divisor: 1024 * 1024, label: 'MiB/s' });
  });
});

describe('formatBytes', () => {
  it('writes volumes with decimal prefixes', () => {
    expect(formatBytes(1_234_000_000, 'si', 'en-US')).toBe('1.23 GB');
  });

  it('writes volumes with binary prefixes', () => {
    expect(formatBytes(1_234_000_000, 'iec', 'en-US')).toBe('1.15 GiB');
  });

  it('reaches terabytes for a year of traffic', () => {
    expect(formatBytes(42e12, 'si', 'en-US')).toBe('42.0 TB');
  });
});

describe('exact values', () => {
  it('formatExact writes thousands separators', () => {
    expect(formatExact(93_245_112, 'en-US')).toBe('93,245,112');
  });

  it('formatExactRate writes bits per second exactly in bits mode', () => {
    expect(formatExactRate(154_321.5, bitsSi, 'en-US')).toBe('1,234,572 bit/s');
  });

  it('formatExactRate writes bytes per second exactly in bytes mode', () => {
    expect(formatExactRate(154_321, bytesIec, 'en-US')).toBe('154,321 B/s');
  });

  it('formatAxisNumber drops trailing zeros', () => {
    expect(formatAxisNumber(2.5, 'en-US')).toBe('2.5');
    expect(formatAxisNumber(250, 'en-US')).toBe('250');
  });
});
