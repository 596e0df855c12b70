/**
 * Live rates for the dashboard: while anyone listens, read fresh counters every second (aligned) and
 * publish per-interface rates. Nothing is written: the database only ever gets the collector's deltas.
 */
import type { CounterReading, CounterSource } from './counter-source.js';
import { computeDeltas, stateFromReading, type CounterState } from './deltas.js';
import { createAlignedTimer, systemClock, type Clock } from './scheduler.js';

export interface LiveRate {
  name: string;
  rxBytesPerSec: number;
  txBytesPerSec: number;
  rxPacketsPerSec: number;
  txPacketsPerSec: number;
}

export interface LiveSnapshot {
  timeMs: number;
  intervalMs: number;
  rates: LiveRate[];
}

export type LiveListener = (snapshot: LiveSnapshot) => void;

export interface LiveMonitor {
  subscribe(listener: LiveListener): () => void;
  readonly subscribers: number;
  /** The latest snapshot, if any listener has been active. */
  readonly latest: LiveSnapshot | null;
  close(): void;
}

export const LIVE_INTERVAL_MS = 1000;

export function ratesBetween(prev: CounterState, reading: CounterReading): LiveRate[] {
  const elapsedSec = (reading.timeMs - prev.timeMs) / 1000;
  if (elapsedSec <= 0) return [];
  const { deltas } = computeDeltas(prev, reading);
  // A counter that restarted (re-created interface, reset) has no meaningful rate for this second: 0.
  const comparable = new Set(['counted', 'wrap32', 'wrap64']);
  return deltas.filter((d) => comparable.has(d.reason)).map((d) => ({
    name: d.name,
    rxBytesPerSec: Number(d.counters.rxBytes) / elapsedSec,
    txBytesPerSec: Number(d.counters.txBytes) / elapsedSec,
    rxPacketsPerSec: Number(d.counters.rxPackets) / elapsedSec,
    txPacketsPerSec: Number(d.counters.txPackets) / elapsedSec,
  }));
}

export function createLiveMonitor(source: CounterSource, clock: Clock = systemClock, intervalMs = LIVE_INTERVAL_MS): LiveMonitor {
  const listeners = new Set<LiveListener>();
  let prev: CounterState | null = null;
  let latest: LiveSnapshot | null = null;
  const timer = createAlignedTimer(async () => {
    try {
      const reading = await source.readCounters();
      if (prev !== null && reading.bootId === prev.bootId) {
        latest = { timeMs: reading.timeMs, intervalMs: reading.timeMs - prev.timeMs, rates: ratesBetween(prev, reading) };
        for (const l of listeners) l(latest);
      }
      prev = stateFromReading(reading);
    } catch {
      // A failed read skips one tick; the next one tries again.
    }
  }, clock);

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (!timer.running) timer.start(intervalMs);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          timer.stop();
          prev = null;
        }
      };
    },
    get subscribers() {
      return listeners.size;
    },
    get latest() {
      return latest;
    },
    close() {
      listeners.clear();
      timer.stop();
    },
  };
}
