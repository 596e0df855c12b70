/**
 * Delta maths: from the previous reading and the current one to the bytes and packets that crossed each
 * interface in between. Pure: it never reads the clock or the OS; both readings carry their own time.
 *
 * The rules, each with a named test in test/collector/deltas.test.ts:
 * - No previous reading on this boot (first run ever, or boot id unknown before): a baseline, no deltas.
 * - A counter that went down while the interface stayed (same ifindex): a 32-bit wrap when the previous value
 *   fits in 32 bits and the wrapped delta is plausible for the link in the time elapsed; else a 64-bit wrap
 *   when that is plausible; else a reset, and then every counter of the interface counts from zero.
 *   When bytes and packets of one direction both went down, it is a reset (wraps don't come in pairs).
 * - An interface that was not there at the previous reading, or whose ifindex changed, was created after it:
 *   its counters count from zero. So does everything after a reboot (the boot id changed): the counters
 *   started at zero when the machine booted, which was after our previous reading.
 * - The clock went back: the bytes are kept, the sample gets no duration (no rate).
 * - Far above the link speed: kept, flagged `suspect` for the caller to log.
 *
 * Cheap when nothing changed: a source may return the very same RawCounters object for an interface whose
 * counters did not change (the Linux source does); its delta is then zero without any bigint arithmetic, and
 * its state object is carried over. Unchanged counters in a changed object subtract to a shared 0n.
 */
import { COUNTER_FIELDS, type CounterField, type CounterReading, type RawCounters } from './counter-source.js';

export const TWO_POW_32 = 1n << 32n;
export const TWO_POW_64 = 1n << 64n;

/** Assumed link speed when the OS doesn't know it (virtual links): 100 Gbit/s. */
const UNKNOWN_SPEED_BYTES_PER_SEC = 100_000_000_000n / 8n;
/** A link is never credited with more than this many times its nominal speed before a sample is suspect. */
const SUSPECT_FACTOR = 2n;
/** Packets per second no link carries (minimum-size frames at 100 Gbit/s are ~150 Mpps). */
const MAX_PACKETS_PER_SEC = 200_000_000n;

export type DeltaReason = 'counted' | 'wrap32' | 'wrap64' | 'reset' | 'appeared' | 'recreated' | 'rebooted';

export interface InterfaceState {
  ifindex: number | null;
  counters: RawCounters;
}

/** The last reading kept between polls (and persisted, so a restart carries on). */
export interface CounterState {
  timeMs: number;
  bootId: string | null;
  interfaces: Map<string, InterfaceState>;
}

export interface InterfaceDelta {
  name: string;
  /** The span the traffic happened in: [startMs, endMs]. startMs === endMs when the clock went back. */
  startMs: number;
  endMs: number;
  counters: RawCounters;
  reason: DeltaReason;
  /** Bytes above what the link can carry in the span: kept, but worth a log line. */
  suspect: boolean;
}

export interface DeltaOptions {
  /** Link speed in Mbit/s by interface name, null when unknown. */
  speedMbps?: (name: string) => number | null;
  /** When the machine booted (ms); a reboot's deltas start there. */
  bootTimeMs?: number | null;
}

export interface DeltaResult {
  /** True when this reading only set the baseline. */
  baseline: boolean;
  clockWentBack: boolean;
  deltas: InterfaceDelta[];
  /** The state to keep for the next reading: every interface of the current reading. */
  next: CounterState;
}

export function stateFromReading(reading: CounterReading): CounterState {
  return nextState(null, reading);
}

/** The state after `reading`; an interface whose ifindex and counters (object) are unchanged keeps its state object. */
function nextState(prev: CounterState | null, reading: CounterReading): CounterState {
  const interfaces = new Map<string, InterfaceState>();
  for (const iface of reading.interfaces) {
    const before = prev?.interfaces.get(iface.name);
    const same = before !== undefined && before.counters === iface.counters && before.ifindex === iface.ifindex;
    interfaces.set(iface.name, same ? before : { ifindex: iface.ifindex, counters: iface.counters });
  }
  return { timeMs: reading.timeMs, bootId: reading.bootId, interfaces };
}

/** The delta of counters that did not change: never modified (frozen), shared by every such delta. */
const NO_TRAFFIC: RawCounters = Object.freeze({ rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });

/** now - before for a counter known not to have gone down; 0n (no allocation) when it did not move. */
function grown(now: bigint, before: bigint): bigint {
  return now === before ? 0n : now - before;
}

/** True when any counter is smaller than before (a wrap, a reset or another device); false for the same object. */
export function anyCounterWentDown(prev: RawCounters, cur: RawCounters): boolean {
  if (prev === cur) return false;
  return (
    cur.rxBytes < prev.rxBytes ||
    cur.txBytes < prev.txBytes ||
    cur.rxPackets < prev.rxPackets ||
    cur.txPackets < prev.txPackets ||
    cur.rxErrors < prev.rxErrors ||
    cur.txErrors < prev.txErrors ||
    cur.rxDrops < prev.rxDrops ||
    cur.txDrops < prev.txDrops
  );
}

/** The counted delta when no counter went down (the usual case); null when one did. */
function countedDelta(prev: RawCounters, cur: RawCounters): RawCounters | null {
  if (prev === cur) return NO_TRAFFIC;
  if (anyCounterWentDown(prev, cur)) return null;
  return {
    rxBytes: grown(cur.rxBytes, prev.rxBytes),
    txBytes: grown(cur.txBytes, prev.txBytes),
    rxPackets: grown(cur.rxPackets, prev.rxPackets),
    txPackets: grown(cur.txPackets, prev.txPackets),
    rxErrors: grown(cur.rxErrors, prev.rxErrors),
    txErrors: grown(cur.txErrors, prev.txErrors),
    rxDrops: grown(cur.rxDrops, prev.rxDrops),
    txDrops: grown(cur.txDrops, prev.txDrops),
  };
}

function maxBytesIn(elapsedMs: number, speedMbps: number | null): bigint {
  const bytesPerSec = speedMbps !== null && speedMbps > 0 ? (BigInt(Math.round(speedMbps * 1000)) * 1000n) / 8n : UNKNOWN_SPEED_BYTES_PER_SEC;
  const ms = BigInt(Math.max(1000, Math.ceil(elapsedMs)));
  return (bytesPerSec * ms) / 1000n;
}

function maxPlausible(field: CounterField, elapsedMs: number, speedMbps: number | null): bigint {
  const ms = BigInt(Math.max(1000, Math.ceil(elapsedMs)));
  if (field === 'rxBytes' || field === 'txBytes') return maxBytesIn(elapsedMs, speedMbps) * SUSPECT_FACTOR;
  return (MAX_PACKETS_PER_SEC * ms) / 1000n;
}

function unknownSpeed(): number | null {
  return null;
}

function fromZero(counters: RawCounters): RawCounters {
  return { ...counters };
}

/**
 * The delta of one interface that stayed present (same ifindex) between two readings, or null when it was
 * reset (every counter then counts from zero).
 */
function deltaOfSameInterface(
  prev: RawCounters,
  cur: RawCounters,
  elapsedMs: number,
  speedMbps: number | null,
): { counters: RawCounters; reason: DeltaReason } {
  const rxBothDown = cur.rxBytes < prev.rxBytes && cur.rxPackets < prev.rxPackets;
  const txBothDown = cur.txBytes < prev.txBytes && cur.txPackets < prev.txPackets;
  if (rxBothDown || txBothDown) return { counters: fromZero(cur), reason: 'reset' };

  const all32 = COUNTER_FIELDS.every((f) => prev[f] < TWO_POW_32);
  const out = {} as RawCounters;
  let reason: DeltaReason = 'counted';
  for (const field of COUNTER_FIELDS) {
    const before = prev[field];
    const now = cur[field];
    if (now >= before) {
      out[field] = now - before;
      continue;
    }
    const limit = maxPlausible(field, elapsedMs, speedMbps);
    const wrapped32 = TWO_POW_32 - before + now;
    const wrapped64 = TWO_POW_64 - before + now;
    if (all32 && wrapped32 <= limit) {
      out[field] = wrapped32;
      reason = 'wrap32';
    } else if (wrapped64 <= limit) {
      out[field] = wrapped64;
      reason = 'wrap64';
    } else {
      return { counters: fromZero(cur), reason: 'reset' };
    }
  }
  return { counters: out, reason };
}

/**
 * The last suspect limits computed, by link speed, for one whole-ms span (polls at a steady interval ask for
 * the same few again and again). A cache of a pure function: it changes no result.
 */
let limitsSpanMs = -1;
const limitsBySpeed = new Map<number | null, bigint>();

function suspectLimit(spanMs: number, speedMbps: number | null): bigint {
  const ms = Math.max(1000, Math.ceil(spanMs));
  if (ms !== limitsSpanMs) {
    limitsSpanMs = ms;
    limitsBySpeed.clear();
  }
  let limit = limitsBySpeed.get(speedMbps);
  if (limit === undefined) {
    limit = maxBytesIn(spanMs, speedMbps) * SUSPECT_FACTOR;
    if (limitsBySpeed.size < 64) limitsBySpeed.set(speedMbps, limit);
  }
  return limit;
}

function isSuspect(counters: RawCounters, spanMs: number, speedMbps: number | null): boolean {
  const limit = suspectLimit(spanMs, speedMbps);
  return counters.rxBytes > limit || counters.txBytes > limit;
}

export function computeDeltas(prev: CounterState | null, cur: CounterReading, options: DeltaOptions = {}): DeltaResult {
  const next = nextState(prev, cur);
  // An interface whose read failed this time keeps its previous state: when it reads again it is compared
  // with what we last saw, not counted from zero a second time.
  if (prev !== null) {
    for (const failure of cur.failures) {
      const kept = prev.interfaces.get(failure.name);
      if (kept !== undefined && !next.interfaces.has(failure.name)) next.interfaces.set(failure.name, kept);
    }
  }
  const sameBoot = prev !== null && prev.bootId === cur.bootId;
  const rebooted = prev !== null && prev.bootId !== null && cur.bootId !== null && prev.bootId !== cur.bootId;
  if (prev === null || (!sameBoot && !rebooted)) {
    // Nothing to compare with on this boot (first run, or a boot id appeared/vanished): a baseline.
    return { baseline: true, clockWentBack: false, deltas: [], next };
  }

  const clockWentBack = cur.timeMs < prev.timeMs;
  const speedOf = options.speedMbps ?? unknownSpeed;
  const deltas: InterfaceDelta[] = [];
  for (const iface of cur.interfaces) {
    const speed = speedOf(iface.name);
    let startMs = prev.timeMs;
    let result: { counters: RawCounters; reason: DeltaReason };
    const before = prev.interfaces.get(iface.name);
    if (rebooted) {
      const bootMs = options.bootTimeMs ?? null;
      if (bootMs !== null && bootMs > startMs && bootMs <= cur.timeMs) startMs = bootMs;
      result = { counters: fromZero(iface.counters), reason: 'rebooted' };
    } else if (before === undefined) {
      result = { counters: fromZero(iface.counters), reason: 'appeared' };
    } else if (before.ifindex !== null && iface.ifindex !== null && before.ifindex !== iface.ifindex) {
      result = { counters: fromZero(iface.counters), reason: 'recreated' };
    } else {
      const counted = countedDelta(before.counters, iface.counters);
      result = counted !== null ? { counters: counted, reason: 'counted' } : deltaOfSameInterface(before.counters, iface.counters, cur.timeMs - prev.timeMs, speed);
    }
    if (clockWentBack) startMs = cur.timeMs;
    const spanMs = cur.timeMs - startMs;
    deltas.push({
      name: iface.name,
      startMs,
      endMs: cur.timeMs,
      counters: result.counters,
      reason: result.reason,
      suspect: !clockWentBack && isSuspect(result.counters, spanMs, speed),
    });
  }
  return { baseline: false, clockWentBack, deltas, next };
}

export function isZeroDelta(counters: RawCounters): boolean {
  return (
    counters === NO_TRAFFIC ||
    (counters.rxBytes === 0n &&
      counters.txBytes === 0n &&
      counters.rxPackets === 0n &&
      counters.txPackets === 0n &&
      counters.rxErrors === 0n &&
      counters.txErrors === 0n &&
      counters.rxDrops === 0n &&
      counters.txDrops === 0n)
  );
}
