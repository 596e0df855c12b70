import { describe, expect, it } from 'vitest';
import { niceMax, sparklineArea, sparklineLine } from './sparkline';

const g = { width: 100, height: 20, capacity: 5, maxValue: 10 };

describe('sparklineLine', () => {
  it('puts the newest value at the right edge and scales to the maximum', () => {
    expect(sparklineLine([0, 10], g)).toBe('M75 19 L100 1');
  });

  it('spreads a full history across the whole width', () => {
    expect(sparklineLine([5, 5, 5, 5, 5], g)).toBe('M0 10 L25 10 L50 10 L75 10 L100 10');
  });

  it('clamps values above the maximum to the top', () => {
    expect(sparklineLine([20, 20], g)).toBe('M75 1 L100 1');
  });

  it('draws nothing for fewer than two values', () => {
    expect(sparklineLine([3], g)).toBe('');
  });
});

describe('sparklineArea', () => {
  it('closes the line down to the baseline', () => {
    expect(sparklineArea([0, 10], g)).toBe('M75 19 L100 1 L100 20 L75 20 Z');
  });
});

describe('niceMax', () => {
  it('rounds up to a round step', () => {
    expect(niceMax(1234)).toBe(1500);
    expect(niceMax(8100)).toBe(10000);
    expect(niceMax(0.3)).toBeCloseTo(0.3);
  });

  it('gives 1 for no traffic', () => {
    expect(niceMax(0)).toBe(1);
  });
});
