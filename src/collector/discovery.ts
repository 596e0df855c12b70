import { setTimeout as sleepMs } from 'node:timers/promises';
import type { CounterReading, CounterSource, InterfaceKind, InterfaceMeta, RawCounters } from './counter-source.js';

/**
 * Which interfaces to watch when the user said nothing, and which one is the machine's main link.
 * Seed 002: traffic-based scoring, total_bytes + packets_per_second × 1000, at least 1 KB to count.
 */

/** An interface that moved fewer bytes than this during the sample is never primary by traffic alone. */
export const MIN_PRIMARY_BYTES = 1000;

export interface TrafficScore {
  /** Bytes received + sent during the sample. */
  totalBytes: number;
  /** Packets received + sent per second during the sample. */
  packetsPerSec: number;
  /** totalBytes + packetsPerSec × 1000. */
  score: number;
}

export interface DiscoveryResult {
  interfaces: InterfaceMeta[];
  /** The main link: the default route's interface, else the busiest; null when nothing qualifies. */
  primary: string | null;
  /** What to monitor when the configuration names nothing. */
  defaultMonitored: string[];
}

export interface DiscoverOptions {
  /** Time between the two counter reads; default 1000. */
  sampleMs?: number;
  /** Waits that long; injected so tests do not wait. Default: timers/promises setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The kinds a first start monitors: the physical ones (ethernet, wireless, and 'other' — hardware whose link
 * type we do not name, such as InfiniBand). Virtual kinds (bridges, tunnels, veths and other virtual links,
 * container plumbing, loopback) carry traffic that also crosses a physical link, or never leaves the machine:
 * they are monitored only when asked for (the Settings page, the API or NETPULSE_INTERFACES).
 */
export const DEFAULT_MONITORED_KINDS: ReadonlySet<InterfaceKind> = new Set<InterfaceKind>(['ethernet', 'wireless', 'other']);

/** Interfaces of a virtual kind and interfaces that are not up are left out unless asked for. */
export function excludedByDefault(meta: InterfaceMeta): boolean {
  return !DEFAULT_MONITORED_KINDS.has(meta.kind) || !meta.isUp;
}

/** A counter that went down (re-created interface, wrap) contributes nothing, rather than a negative. */
function grown(before: bigint, after: bigint): number {
  return after > before ? Number(after - before) : 0;
}

export function scoreTraffic(before: RawCounters, after: RawCounters, elapsedMs: number): TrafficScore {
  const totalBytes = grown(before.rxBytes, after.rxBytes) + grown(before.txBytes, after.txBytes);
  const packets = grown(before.rxPackets, after.rxPackets) + grown(before.txPackets, after.txPackets);
  const packetsPerSec = elapsedMs > 0 ? (packets * 1000) / elapsedMs : 0;
  return { totalBytes, packetsPerSec, score: totalBytes + packetsPerSec * 1000 };
}

/** Highest score first; ties go to the lowest ifindex (unknown last), then the name. */
function best(candidates: InterfaceMeta[], scores: ReadonlyMap<string, TrafficScore>): InterfaceMeta | undefined {
  const scoreOf = (meta: InterfaceMeta): number => scores.get(meta.name)?.score ?? 0;
  const ifindexOf = (meta: InterfaceMeta): number => meta.ifindex ?? Number.POSITIVE_INFINITY;
  return [...candidates].sort(
    (a, b) =>
      scoreOf(b) - scoreOf(a) || ifindexOf(a) - ifindexOf(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )[0];
}

/**
 * The interface a default route leaves through (the busiest of several), else the busiest interface
 * that moved at least MIN_PRIMARY_BYTES, else null. Loopback and container plumbing are never primary.
 */
export function pickPrimary(
  metas: readonly InterfaceMeta[],
  scores: ReadonlyMap<string, TrafficScore>,
): string | null {
  const eligible = metas.filter((meta) => meta.kind !== 'loopback' && meta.kind !== 'container');
  const routed = eligible.filter((meta) => meta.hasDefaultRoute);
  if (routed.length > 0) return best(routed, scores)?.name ?? null;
  const busy = eligible.filter((meta) => (scores.get(meta.name)?.totalBytes ?? 0) >= MIN_PRIMARY_BYTES);
  return best(busy, scores)?.name ?? null;
}

function scoreReadings(first: CounterReading, second: CounterReading, fallbackElapsedMs: number) {
  const elapsedMs = second.timeMs > first.timeMs ? second.timeMs - first.timeMs : fallbackElapsedMs;
  const before = new Map(first.interfaces.map((entry) => [entry.name, entry]));
  const scores = new Map<string, TrafficScore>();
  for (const after of second.interfaces) {
    const previous = before.get(after.name);
    // Re-created between the reads: its counters are not comparable.
    if (previous === undefined || previous.ifindex !== after.ifindex) continue;
    scores.set(after.name, scoreTraffic(previous.counters, after.counters, elapsedMs));
  }
  return scores;
}

/**
 * Lists the interfaces while sampling their counters sampleMs apart, so it takes about sampleMs.
 * defaultMonitored is every interface not excludedByDefault, or [primary] when none is left.
 */
export async function discoverInterfaces(
  source: CounterSource,
  options: DiscoverOptions = {},
): Promise<DiscoveryResult> {
  const sampleMs = options.sampleMs ?? 1000;
  const sleep = options.sleep ?? ((ms: number) => sleepMs(ms));
  const sample = async (): Promise<[CounterReading, CounterReading]> => {
    const first = await source.readCounters();
    await sleep(sampleMs);
    return [first, await source.readCounters()];
  };
  const [interfaces, [first, second]] = await Promise.all([source.listInterfaces(), sample()]);
  const primary = pickPrimary(interfaces, scoreReadings(first, second, sampleMs));
  const monitored = interfaces.filter((meta) => !excludedByDefault(meta)).map((meta) => meta.name);
  return {
    interfaces,
    primary,
    defaultMonitored: monitored.length === 0 && primary !== null ? [primary] : monitored,
  };
}
