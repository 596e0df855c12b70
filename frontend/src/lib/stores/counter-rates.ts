/**
 * Current rates for the settings list, from two reads of /api/interfaces' kernel counters. Works for
 * every interface, monitored or not; a counter that went down (reset, re-created) gives no rate.
 */
import type { ApiInterface } from '$shared/api-types';

export interface CounterReading {
  rxBytes: number;
  txBytes: number;
  atMs: number;
}

export interface CounterRate {
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

export function readCounters(interfaces: readonly ApiInterface[], atMs: number): Map<string, CounterReading> {
  const readings = new Map<string, CounterReading>();
  for (const nic of interfaces) {
    if (nic.counters) readings.set(nic.name, { rxBytes: nic.counters.rx_bytes, txBytes: nic.counters.tx_bytes, atMs });
  }
  return readings;
}

export function ratesBetween(
  previous: ReadonlyMap<string, CounterReading>,
  current: ReadonlyMap<string, CounterReading>,
): Map<string, CounterRate> {
  const rates = new Map<string, CounterRate>();
  for (const [name, now] of current) {
    const before = previous.get(name);
    if (!before) continue;
    const seconds = (now.atMs - before.atMs) / 1000;
    const rx = now.rxBytes - before.rxBytes;
    const tx = now.txBytes - before.txBytes;
    if (seconds <= 0 || rx < 0 || tx < 0) continue;
    rates.set(name, { rxBytesPerSec: rx / seconds, txBytesPerSec: tx / seconds });
  }
  return rates;
}
