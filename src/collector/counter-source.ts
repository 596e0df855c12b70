import type { InterfaceKind } from '../shared/api-types.js';

/**
 * The boundary between Net-Pulse and the operating system. The collector asks a CounterSource for raw
 * counters and interface metadata; nothing else in the program touches /proc, /sys or systeminformation.
 */

/** The ten kernel counters Net-Pulse keeps per interface, exact past 2^53. */
export interface RawCounters {
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxDrops: bigint;
  txDrops: bigint;
}

export const COUNTER_FIELDS = [
  'rxBytes',
  'txBytes',
  'rxPackets',
  'txPackets',
  'rxErrors',
  'txErrors',
  'rxDrops',
  'txDrops',
] as const satisfies readonly (keyof RawCounters)[];

export type CounterField = (typeof COUNTER_FIELDS)[number];

/** One interface's counters as read at one moment. */
export interface InterfaceCounters {
  name: string;
  /** Kernel ifindex; a changed ifindex means the interface was re-created. null where the OS has none. */
  ifindex: number | null;
  counters: RawCounters;
}

/** Everything read in one pass: the counters of every interface, stamped with the time of the read. */
export interface CounterReading {
  /** Wall-clock milliseconds since the epoch when the read was made. */
  timeMs: number;
  /** Identifies the current boot; counters restart from zero when it changes. null when unknown. */
  bootId: string | null;
  interfaces: InterfaceCounters[];
  /** Interfaces whose read failed (vanished mid-read, permission), with the reason; the rest are still read. */
  failures: { name: string; error: string }[];
}

export type { InterfaceKind };

export interface InterfaceAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  netmask: string;
  cidr: string | null;
}

/** What discovery knows of one interface besides its counters. */
export interface InterfaceMeta {
  name: string;
  kind: InterfaceKind;
  ifindex: number | null;
  isUp: boolean;
  /** operstate as the OS reports it (up, down, unknown, dormant, …). */
  operState: string;
  mtu: number | null;
  /** Link speed in Mbit/s, null when unknown (virtual interfaces, link down). */
  speedMbps: number | null;
  mac: string | null;
  isVirtual: boolean;
  addresses: InterfaceAddress[];
  /** True when a default route (IPv4 or IPv6) leaves through this interface. */
  hasDefaultRoute: boolean;
}

export interface CounterSource {
  /** Reads every interface's counters; one interface failing never fails the whole read. */
  readCounters(): Promise<CounterReading>;
  /** Lists interfaces with their metadata (kind, state, addresses, default route). */
  listInterfaces(): Promise<InterfaceMeta[]>;
  /**
   * The link speed of each named interface (Mbit/s, null when unknown or gone): one attribute, where
   * listInterfaces reads a dozen per interface. Optional: without it, speeds come from listInterfaces.
   */
  linkSpeeds?(names: readonly string[]): Promise<Map<string, number | null>>;
  /** Boot time in ms since the epoch, or null when unknown. */
  readBootTimeMs(): Promise<number | null>;
}
