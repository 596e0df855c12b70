/**
 * An aligned timer: ticks fall on wall-clock multiples of the interval (every :00 and :30 for 30 s), so
 * samples line up with buckets and the timer never drifts. A tick never overlaps the previous one: if the
 * task is still running when the next tick is due, that tick is skipped and counted.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface AlignedTimer {
  start(intervalMs: number): void;
  stop(): void;
  readonly running: boolean;
  /** When the next tick is due (ms since the epoch), or null when stopped. */
  readonly nextTickAt: number | null;
  readonly skippedTicks: number;
}

/** Next multiple of intervalMs strictly after nowMs. */
export function nextAlignedTick(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}

export function createAlignedTimer(task: () => Promise<void>, clock: Clock = systemClock): AlignedTimer {
  let handle: unknown = null;
  let interval = 0;
  let nextAt: number | null = null;
  let busy = false;
  let skipped = 0;

  const schedule = () => {
    nextAt = nextAlignedTick(clock.now(), interval);
    handle = clock.setTimeout(tick, Math.max(0, nextAt - clock.now()));
  };
  const tick = () => {
    handle = null;
    if (busy) {
      skipped++;
    } else {
      busy = true;
      void task().finally(() => {
        busy = false;
      });
    }
    if (nextAt !== null) schedule();
  };

  return {
    start(intervalMs) {
      if (handle !== null) clock.clearTimeout(handle);
      interval = intervalMs;
      schedule();
    },
    stop() {
      if (handle !== null) clock.clearTimeout(handle);
      handle = null;
      nextAt = null;
    },
    get running() {
      return nextAt !== null;
    },
    get nextTickAt() {
      return nextAt;
    },
    get skippedTicks() {
      return skipped;
    },
  };
}
