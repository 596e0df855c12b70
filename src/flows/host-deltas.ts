/**
 * Per-host counter maths. A set element's counter is a counter like an interface's, so the interfaces' delta
 * maths (src/collector/deltas.ts) does the work: each element becomes one "interface" of a CounterReading,
 * named `<set>/<address>`, its counter in the rx or tx fields. What is particular to set elements:
 * - nft counters are 64-bit and never wrap in practice, so any counter that went down means the element
 *   timed out and was added again: it gets a new generation (passed as the ifindex), so it counts from zero;
 * - an element missing from a reading timed out: its state is dropped, and when it comes back it counts from
 *   zero (an "appeared" interface);
 * - a re-created table (new handle) makes every element new: the caller passes an empty previous state.
 * Pure: the caller gives the listing, the time and the boot id.
 */
import type { CounterReading, InterfaceCounters, RawCounters } from '../collector/counter-source.js';
import { anyCounterWentDown, computeDeltas, isZeroDelta, type CounterState } from '../collector/deltas.js';
import type { SetElement } from './nft-plan.js';

export interface HostDelta {
  address: string;
  startMs: number;
  endMs: number;
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
}

export interface HostDeltaResult {
  baseline: boolean;
  deltas: HostDelta[];
  next: CounterState;
}

function elementCounters(e: SetElement): RawCounters {
  const rx = e.set.startsWith('rx');
  return {
    rxBytes: rx ? e.bytes : 0n,
    txBytes: rx ? 0n : e.bytes,
    rxPackets: rx ? e.packets : 0n,
    txPackets: rx ? 0n : e.packets,
    rxErrors: 0n,
    txErrors: 0n,
    rxDrops: 0n,
    txDrops: 0n,
  };
}

function sameCounters(a: RawCounters, b: RawCounters): boolean {
  return a.rxBytes === b.rxBytes && a.txBytes === b.txBytes && a.rxPackets === b.rxPackets && a.txPackets === b.txPackets;
}

/** The elements as a CounterReading; unchanged elements keep their previous counters object (cheap deltas). */
export function readingOfElements(elements: readonly SetElement[], prev: CounterState | null, timeMs: number, bootId: string | null): CounterReading {
  const interfaces: InterfaceCounters[] = [];
  for (const e of elements) {
    const name = `${e.set}/${e.address}`;
    const before = prev?.interfaces.get(name);
    let counters = elementCounters(e);
    let generation = 0;
    if (before !== undefined) {
      generation = before.ifindex ?? 0;
      if (sameCounters(before.counters, counters)) counters = before.counters;
      else if (anyCounterWentDown(before.counters, counters)) generation++;
    }
    interfaces.push({ name, ifindex: generation, counters });
  }
  return { timeMs, bootId, interfaces, failures: [] };
}

/** From the previous state and a listing's elements to the bytes each address received and sent in between. */
export function computeHostDeltas(prev: CounterState | null, elements: readonly SetElement[], timeMs: number, bootId: string | null): HostDeltaResult {
  const reading = readingOfElements(elements, prev, timeMs, bootId);
  const result = computeDeltas(prev, reading);
  // An element missing from this listing timed out: forget it (the interface maths would remember it as a
  // vanished interface and carry on from its old counters when it comes back), so it returns from zero.
  for (const [name, state] of result.next.interfaces) if (state.seenAtMs !== undefined) result.next.interfaces.delete(name);
  const byAddress = new Map<string, HostDelta>();
  for (const d of result.deltas) {
    if (isZeroDelta(d.counters)) continue;
    const address = d.name.slice(d.name.indexOf('/') + 1);
    let h = byAddress.get(address);
    if (h === undefined) {
      h = { address, startMs: d.startMs, endMs: d.endMs, rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n };
      byAddress.set(address, h);
    }
    h.startMs = Math.min(h.startMs, d.startMs);
    h.rxBytes += d.counters.rxBytes;
    h.txBytes += d.counters.txBytes;
    h.rxPackets += d.counters.rxPackets;
    h.txPackets += d.counters.txPackets;
  }
  return { baseline: result.baseline, deltas: [...byAddress.values()], next: result.next };
}
