import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from './debounce';
import { retryDelayMs } from './retry-delay';

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('turns a burst of calls into one call with the last arguments', () => {
    const fn = vi.fn();
    const d = debounce(fn, 250);
    for (let i = 0; i < 20; i += 1) {
      d(i);
      vi.advanceTimersByTime(50);
    }
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(19);
  });

  it('flush runs a pending call at once', () => {
    const fn = vi.fn();
    const d = debounce(fn, 250);
    d('a');
    expect(d.pending).toBe(true);
    d.flush();
    expect(fn).toHaveBeenCalledWith('a');
    expect(d.pending).toBe(false);
  });

  it('cancel drops a pending call', () => {
    const fn = vi.fn();
    const d = debounce(fn, 250);
    d('a');
    d.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('retryDelayMs', () => {
  it('doubles from one second and stops at ten', () => {
    expect([0, 1, 2, 3, 4, 9].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
