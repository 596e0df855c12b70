/**
 * Live rates for the dashboard: while anyone listens, read fresh counters every second (aligned) and
 * publish per-interface rates. Nothing is written: the database only ever gets the collector's deltas.
 * While the collector polls as often (1 s polling), its readings and deltas are offered here and published
 * as they are: the second read of /proc/net/dev and the second delta computation in the same second go.
 */
import type { CounterReading, CounterSource } from './counter-source.js';
import { computeDeltas, stateFromReading, type CounterState, type InterfaceDelta } from './deltas.js';
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
  /**
   * A reading the collector has just made, with its deltas from the collector's previous reading (taken at
   * prevTimeMs). When that span is about the live interval (at most 1.5 of it) the rates are published from it
   * and the timer reads nothing until the offers stop; a longer span (slower polling) only becomes the
   * baseline of the next read of the timer's own.
   */
  offer(reading: CounterReading, deltas: readonly InterfaceDelta[], prevTimeMs: number | null): void;
  close(): void;
}

export const LIVE_INTERVAL_MS = 1000;

/** The reasons whose deltas are traffic of the span; a counter that restarted (re-created interface, reset) has no rate for it. */
const COMPARABLE: ReadonlySet<InterfaceDelta['reason']> = new Set(['counted', 'wrap32', 'wrap64']);

export function ratesBetween(prev: CounterState, reading: CounterReading): LiveRate[] {
  const elapsedSec = (reading.timeMs - prev.timeMs) / 1000;
  if (elapsedSec <= 0) return [];
  return ratesOf(computeDeltas(prev, reading).deltas, elapsedSec);
}

function ratesOf(deltas: readonly InterfaceDelta[], elapsedSec: number): LiveRate[] {
  return deltas.filter((d) => COMPARABLE.has(d.reason)).map((d) => ({
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
  /** The newest reading offered, made into `prev` only if the timer needs it (offers stopped or are slow). */
  let offered: CounterReading | null = null;
  /** When (clock time) rates were last published from an offer. */
  let publishedOfferAtMs = -Infinity;
  let latest: LiveSnapshot | null = null;
  const publish = (snapshot: LiveSnapshot) => {
    latest = snapshot;
    for (const l of listeners) l(snapshot);
  };
  const timer = createAlignedTimer(async () => {
    // The collector's polls feed the view: nothing to read in this tick.
    if (clock.now() - publishedOfferAtMs <= intervalMs * 1.5) return;
    try {
      // The last offered reading is the baseline when the timer has none of its own from the last ticks (the
      // offers fed the view until now); a baseline of its own from the last tick stays (slow polling).
      if (offered !== null && (prev === null || (offered.timeMs > prev.timeMs && clock.now() - prev.timeMs > intervalMs * 1.5))) prev = stateFromReading(offered);
      offered = null;
      const reading = await source.readCounters();
      // No rate over a sliver of a second (a baseline a poll made just before this tick): the next tick has one.
      if (prev !== null && reading.bootId === prev.bootId && reading.timeMs - prev.timeMs >= intervalMs / 2) {
        publish({ timeMs: reading.timeMs, intervalMs: reading.timeMs - prev.timeMs, rates: ratesBetween(prev, reading) });
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
          offered = null;
          publishedOfferAtMs = -Infinity;
        }
      };
    },
    get subscribers() {
      return listeners.size;
    },
    get latest() {
      return latest;
    },
    offer(reading, deltas, prevTimeMs) {
      if (listeners.size === 0) return;
      offered = reading;
      const spanMs = prevTimeMs === null ? 0 : reading.timeMs - prevTimeMs;
      // About one interval: not a sliver (two polls in one second, as at start) nor slower polling.
      if (spanMs < intervalMs / 2 || spanMs > intervalMs * 1.5) return;
      publishedOfferAtMs = clock.now();
      publish({ timeMs: reading.timeMs, intervalMs: spanMs, rates: ratesOf(deltas, spanMs / 1000) });
    },
    close() {
      listeners.clear();
      timer.stop();
    },
  };
}
