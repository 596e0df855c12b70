/**
 * Delta maths: from the previous reading and the current one to the bytes and packets that crossed each
 * interface in between. Pure: it never reads the clock or the OS; both readings carry their own time.
 *
 * The rules, each with a named test in test/collector/deltas.test.ts (and all of them together in the
 * property test, test/collector/deltas.property.test.ts):
 * - No previous reading on this boot (first run ever, or boot id unknown before): a baseline, no deltas.
 * - Every counter on its own (vnStat's rule; drivers exist that keep some counters in 32 bits and others
 *   in 64). A counter that went down while the interface stayed (same ifindex) wrapped at 2^32 when its
 *   previous value fits in 32 bits, else at 2^64 — when the wrapped amount is plausible for the link in the
 *   time elapsed. Otherwise that counter was reset and counts from zero. When bytes and packets of one
 *   direction both went down, both were reset — unless both wraps are plausible and agree (packets <= bytes).
 * - An interface missing from a reading is remembered (a day, 64 at most); back with the same ifindex (moved
 *   to another namespace and back), its counters are compared with the last reading that had it.
 * - An interface that was not there at the previous reading, or whose ifindex changed, was created after it:
 *   its counters count from zero. So does everything after a reboot (the boot id changed): the counters
 *   started at zero when the machine booted, which was after our previous reading.
 * - Nothing is ever counted that the link could not have carried: every delta of an interface (grown,
 *   wrapped or from zero) is at most SUSPECT_FACTOR × link speed × elapsed time (packets, errors, drops:
 *   that over 64 bytes a frame; packets: never more than their direction's bytes), and below 2^63. When one is not, the reading is no traffic but a glitch or a replaced device (a reset to huge
 *   values): the interface is 'implausible' — nothing counted, the current reading becomes its baseline, and
 *   the caller warns and marks the interval.
 * - The time a link had is the monotonic time between the readings when the caller knows it (same process),
 *   else the wall-clock span, at least one second; a clock step thus never makes traffic implausible.
 * - The clock went back: the bytes are kept, the sample gets no duration (no rate).
 * - Above the link's nominal speed (but within the factor): kept, flagged `suspect` for the caller to log.
 *
 * Cheap when nothing changed: a source may return the very same RawCounters object for an interface whose
 * counters did not change (the Linux source does); its delta is then zero without any bigint arithmetic, and
 * its state object is carried over. Unchanged counters in a changed object subtract to a shared 0n.
 */
import { COUNTER_FIELDS, type CounterField, type CounterReading, type RawCounters } from './counter-source.js';

export const TWO_POW_32 = 1n << 32n;
export const TWO_POW_64 = 1n << 64n;
/** Nothing at or above this is ever stored (SQLite integers are signed 64-bit). */
export const MAX_STORED_DELTA = (1n << 63n) - 1n;

/** Assumed link speed when the OS doesn't know it (virtual links): 100 Gbit/s. */
const UNKNOWN_SPEED_MBPS = 100_000;
/**
 * The least speed a link is credited with: a reported speed can be stale (a link renegotiated from 100 Mbit/s
 * to 1 Gbit/s since it was read), and counter glitches are orders of magnitude beyond this anyway.
 */
const MIN_LINK_SPEED_MBPS = 1000;
/** A link is never credited with more than this many times its speed; above the speed itself it is suspect. */
export const SUSPECT_FACTOR = 2n;
/**
 * Packets (and errors, drops) are bounded by the link's plausible bytes at the least a frame takes in
 * /proc/net/dev (60 bytes; 64 here): a 32-bit packet counter reset from a small value must not pass for a
 * wrap of 4 billion packets. Packets are also never more than the bytes of their direction.
 */
const MIN_FRAME_BYTES = 64n;

export type DeltaReason = 'counted' | 'wrap32' | 'wrap64' | 'reset' | 'appeared' | 'recreated' | 'rebooted' | 'renamed' | 'implausible';

export interface InterfaceState {
  ifindex: number | null;
  counters: RawCounters;
  /**
   * Set while the interface is missing from the readings: when its counters were last read. Kept (a day,
   * at most MAX_GONE of them) so that an interface that comes back with the same ifindex — moved to another
   * network namespace and back, its counters running on — is compared with what we last saw instead of
   * counted from zero a second time.
   */
  seenAtMs?: number;
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
  /** Bytes above the link's nominal speed in the span (within the plausible factor): kept, but worth a log line. */
  suspect: boolean;
  /** For 'implausible': the readings compared (previous is null when the interface counted from zero). */
  rejected?: { previous: RawCounters | null; current: RawCounters; field: CounterField; delta: bigint; limit: bigint };
}

export interface DeltaOptions {
  /** Link speed in Mbit/s by interface name, null when unknown. */
  speedMbps?: (name: string) => number | null;
  /** When the machine booted (ms); a reboot's deltas start there. */
  bootTimeMs?: number | null;
  /**
   * Monotonic milliseconds between the previous reading and this one, when the caller measured both (same
   * process, same boot): the time the links really had, whatever the wall clock did.
   */
  monotonicElapsedMs?: number | null;
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

/** How long, and how many, interfaces that vanished are remembered for a return with the same ifindex. */
const GONE_KEEP_MS = 24 * 3600 * 1000;
const MAX_GONE = 64;

/** The state after `reading`; an interface whose ifindex and counters (object) are unchanged keeps its state object. */
function nextState(prev: CounterState | null, reading: CounterReading): CounterState {
  const interfaces = new Map<string, InterfaceState>();
  for (const iface of reading.interfaces) {
    const before = prev?.interfaces.get(iface.name);
    const same = before !== undefined && before.seenAtMs === undefined && before.counters === iface.counters && before.ifindex === iface.ifindex;
    interfaces.set(iface.name, same ? before : { ifindex: iface.ifindex, counters: iface.counters });
  }
  if (prev !== null && prev.bootId === reading.bootId) {
    // Vanished interfaces with an ifindex (the only way to tell one that comes back), newest first.
    const gone: [string, InterfaceState][] = [];
    for (const [name, s] of prev.interfaces) {
      if (interfaces.has(name) || s.ifindex === null) continue;
      const seenAtMs = s.seenAtMs ?? prev.timeMs;
      if (reading.timeMs - seenAtMs <= GONE_KEEP_MS) gone.push([name, s.seenAtMs === undefined ? { ...s, seenAtMs } : s]);
    }
    gone.sort((a, b) => b[1].seenAtMs! - a[1].seenAtMs!);
    for (const [name, s] of gone.slice(0, MAX_GONE)) interfaces.set(name, s);
  }
  return { timeMs: reading.timeMs, bootId: reading.bootId, interfaces };
}

/** The delta of counters that did not change: never modified (frozen), shared by every such delta. */
const NO_TRAFFIC: RawCounters = Object.freeze({ rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });

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

/** What a link may carry in one span: the plausible limits of byte and of packet counters, and the nominal bytes. */
interface SpanLimits {
  bytes: bigint;
  counts: bigint;
  nominalBytes: bigint;
}

function limitOf(field: CounterField, limits: SpanLimits): bigint {
  return field === 'rxBytes' || field === 'txBytes' ? limits.bytes : limits.counts;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function computeLimits(ms: number, speedMbps: number | null): SpanLimits {
  const mbps = speedMbps !== null && speedMbps > 0 ? Math.max(speedMbps, MIN_LINK_SPEED_MBPS) : UNKNOWN_SPEED_MBPS;
  const nominalBytes = (BigInt(Math.round(mbps * 1000)) * 1000n * BigInt(ms)) / 8n / 1000n;
  const bytes = min(nominalBytes * SUSPECT_FACTOR, MAX_STORED_DELTA);
  return { bytes, counts: bytes / MIN_FRAME_BYTES, nominalBytes };
}

/**
 * The last limits computed, by link speed, for one whole-ms span (polls at a steady interval ask for the
 * same few again and again). A cache of a pure function: it changes no result.
 */
let limitsSpanMs = -1;
const limitsBySpeed = new Map<number | null, SpanLimits>();

function spanLimits(elapsedMs: number, speedMbps: number | null): SpanLimits {
  const ms = Math.max(1000, Math.ceil(elapsedMs));
  if (ms !== limitsSpanMs) {
    limitsSpanMs = ms;
    limitsBySpeed.clear();
  }
  let limits = limitsBySpeed.get(speedMbps);
  if (limits === undefined) {
    limits = computeLimits(ms, speedMbps);
    if (limitsBySpeed.size < 64) limitsBySpeed.set(speedMbps, limits);
  }
  return limits;
}

type Outcome = { counters: RawCounters; reason: DeltaReason; rejected?: InterfaceDelta['rejected'] };

/** The first counter above its limit, or null when every one is plausible. */
function firstImplausible(counters: RawCounters, limits: SpanLimits): { field: CounterField; delta: bigint; limit: bigint } | null {
  for (const field of COUNTER_FIELDS) {
    const limit = limitOf(field, limits);
    if (counters[field] > limit) return { field, delta: counters[field], limit };
  }
  return null;
}

/** Counts an interface's counters from zero (it is new, or the machine rebooted), when that is plausible. */
function fromZero(cur: RawCounters, reason: DeltaReason, limits: SpanLimits): Outcome {
  const bad = firstImplausible(cur, limits);
  if (bad !== null) return { counters: NO_TRAFFIC, reason: 'implausible', rejected: { previous: null, current: cur, ...bad } };
  return { counters: { ...cur }, reason };
}

function wrappedAmount(before: bigint, now: bigint): bigint {
  return (before < TWO_POW_32 ? TWO_POW_32 : TWO_POW_64) - before + now;
}

/**
 * Bytes and packets of one direction both went down: a wrap of both only when both wrapped amounts are
 * plausible and agree (every packet carries at least a byte); otherwise the pair was reset.
 */
function pairWrapped(bytesBefore: bigint, bytesNow: bigint, packetsBefore: bigint, packetsNow: bigint, limits: SpanLimits): boolean {
  const bytes = wrappedAmount(bytesBefore, bytesNow);
  const packets = wrappedAmount(packetsBefore, packetsNow);
  return bytes <= limits.bytes && packets <= limits.counts && packets <= bytes;
}

/** The delta of one interface that stayed present (same ifindex, same boot) between two readings. */
function deltaOfSameInterface(prev: RawCounters, cur: RawCounters, limits: SpanLimits): Outcome {
  if (prev === cur) return { counters: NO_TRAFFIC, reason: 'counted' };
  const rxBothDown = cur.rxBytes < prev.rxBytes && cur.rxPackets < prev.rxPackets && !pairWrapped(prev.rxBytes, cur.rxBytes, prev.rxPackets, cur.rxPackets, limits);
  const txBothDown = cur.txBytes < prev.txBytes && cur.txPackets < prev.txPackets && !pairWrapped(prev.txBytes, cur.txBytes, prev.txPackets, cur.txPackets, limits);
  const out = {} as RawCounters;
  let reason: DeltaReason = 'counted';
  for (const field of COUNTER_FIELDS) {
    const before = prev[field];
    const now = cur[field];
    // COUNTER_FIELDS has the bytes before the packets: a direction's packets never exceed its bytes.
    const limit = field === 'rxPackets' ? min(limits.counts, out.rxBytes) : field === 'txPackets' ? min(limits.counts, out.txBytes) : limitOf(field, limits);
    let delta: bigint;
    if (now >= before) {
      delta = now === before ? 0n : now - before;
    } else {
      const pairedDown = field === 'rxBytes' || field === 'rxPackets' ? rxBothDown : field === 'txBytes' || field === 'txPackets' ? txBothDown : false;
      const wrapped = wrappedAmount(before, now);
      if (!pairedDown && wrapped <= limit) {
        delta = wrapped;
        if (reason === 'counted') reason = before < TWO_POW_32 ? 'wrap32' : 'wrap64';
      } else {
        // Reset: the counter started again from zero since the previous reading.
        delta = now;
        reason = 'reset';
      }
    }
    if (delta > limit) return { counters: NO_TRAFFIC, reason: 'implausible', rejected: { previous: prev, current: cur, field, delta, limit } };
    out[field] = delta;
  }
  return { counters: out, reason };
}

export function computeDeltas(prev: CounterState | null, cur: CounterReading, options: DeltaOptions = {}): DeltaResult {
  const next = nextState(prev, cur);
  // An interface whose read failed this time keeps its previous state: when it reads again it is compared
  // with what we last saw, not counted from zero a second time.
  if (prev !== null) {
    for (const failure of cur.failures) {
      // It carries when it was last read, so that the growth since is judged over all that time.
      const kept = prev.interfaces.get(failure.name);
      if (kept !== undefined && !cur.interfaces.some((i) => i.name === failure.name)) next.interfaces.set(failure.name, kept.seenAtMs === undefined ? { ...kept, seenAtMs: prev.timeMs } : kept);
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
  const monotonicMs = sameBoot ? (options.monotonicElapsedMs ?? null) : null;
  let bootStartMs = prev.timeMs;
  if (rebooted) {
    const bootMs = options.bootTimeMs ?? null;
    if (bootMs !== null && bootMs > prev.timeMs && bootMs <= cur.timeMs) bootStartMs = bootMs;
  }
  const startMs = clockWentBack ? cur.timeMs : rebooted ? bootStartMs : prev.timeMs;
  // The time the links had: monotonic when measured, else the wall-clock span (since boot after a reboot).
  const elapsedMs = monotonicMs !== null && monotonicMs >= 0 ? monotonicMs : cur.timeMs - (rebooted ? bootStartMs : prev.timeMs);
  const deltas: InterfaceDelta[] = [];
  let vanished: Map<number, [string, InterfaceState]> | null = null;
  for (const iface of cur.interfaces) {
    const speed = speedOf(iface.name);
    let before = prev.interfaces.get(iface.name);
    let renamedFrom: string | null = null;
    if (before === undefined && !rebooted && iface.ifindex !== null) {
      // A new name with the ifindex of one that is no longer there: the same device, renamed
      // (ip link set … name …). It carries on from the old name's last reading; the old name is forgotten.
      vanished ??= vanishedByIfindex(prev, cur);
      const old = vanished.get(iface.ifindex);
      if (old !== undefined) {
        renamedFrom = old[0];
        before = { ...old[1], seenAtMs: old[1].seenAtMs ?? prev.timeMs };
        vanished.delete(iface.ifindex);
        next.interfaces.delete(renamedFrom);
      }
    }
    // Back with the same ifindex after missing from readings: its counters ran on since it was last seen.
    const returned = !rebooted && before?.seenAtMs !== undefined && before.ifindex !== null && before.ifindex === iface.ifindex ? before.seenAtMs : null;
    const limits = returned === null ? spanLimits(elapsedMs, speed) : computeLimits(Math.max(1000, Math.ceil(cur.timeMs - returned)), speed);
    let result: Outcome;
    if (rebooted) {
      result = fromZero(iface.counters, 'rebooted', limits);
    } else if (before === undefined) {
      result = fromZero(iface.counters, 'appeared', limits);
    } else if (before.ifindex !== null && iface.ifindex !== null && before.ifindex !== iface.ifindex) {
      result = fromZero(iface.counters, 'recreated', limits);
    } else {
      result = deltaOfSameInterface(before.counters, iface.counters, limits);
      if (renamedFrom !== null && result.reason !== 'implausible') result = { ...result, reason: 'renamed' };
    }
    const c = result.counters;
    const delta: InterfaceDelta = {
      name: iface.name,
      startMs: returned !== null && !clockWentBack ? Math.min(returned, cur.timeMs) : startMs,
      endMs: cur.timeMs,
      counters: c,
      reason: result.reason,
      suspect: c !== NO_TRAFFIC && (c.rxBytes > limits.nominalBytes || c.txBytes > limits.nominalBytes),
    };
    if (result.rejected !== undefined) delta.rejected = result.rejected;
    deltas.push(delta);
  }
  return { baseline: false, clockWentBack, deltas, next };
}

/** Interfaces of `prev` (with an ifindex) that `cur` doesn't have, by ifindex. */
function vanishedByIfindex(prev: CounterState, cur: CounterReading): Map<number, [string, InterfaceState]> {
  const present = new Set(cur.interfaces.map((i) => i.name));
  for (const f of cur.failures) present.add(f.name);
  const out = new Map<number, [string, InterfaceState]>();
  for (const [name, s] of prev.interfaces) if (s.ifindex !== null && !present.has(name)) out.set(s.ifindex, [name, s]);
  return out;
}

function unknownSpeed(): number | null {
  return null;
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
