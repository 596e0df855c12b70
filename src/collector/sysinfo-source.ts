import os from 'node:os';
import { ARPHRD, classifyInterface } from './classify.js';
import type { CounterReading, CounterSource, InterfaceAddress, InterfaceMeta, RawCounters } from './counter-source.js';

/**
 * The counter source for macOS and Windows, over the systeminformation package (which shells out to
 * netstat / PowerShell: a read costs tens to hundreds of ms, so it is not for Linux, where it also works).
 *
 * What it cannot know, compared with the Linux source:
 * - packets: networkStats() has none, so rxPackets and txPackets are always 0n;
 * - ifindex: null;
 * - bootId: null. Deriving one from the uptime would jitter across a rounding boundary and look like a
 *   reboot; readBootTimeMs() gives the boot time from the uptime instead, to the second.
 * - byte counters arrive as JS numbers, exact only up to 2^53.
 */

type SystemInformation = typeof import('systeminformation');

export interface SysinfoSourceOptions {
  /** Addresses per interface; defaults to os.networkInterfaces. */
  networkInterfaces?: () => ReturnType<typeof os.networkInterfaces>;
  /** Wall clock in ms since the epoch; defaults to Date.now. */
  now?: () => number;
}

let systemInformation: Promise<SystemInformation> | undefined;

/** Loaded on first use, so the Linux build never pays for the package. */
function loadSystemInformation(): Promise<SystemInformation> {
  systemInformation ??= import('systeminformation');
  return systemInformation;
}

function toCounter(value: number | null | undefined): bigint {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? BigInt(Math.trunc(value)) : 0n;
}

function toMac(address: string | null | undefined): string | null {
  if (!address || /^[0:-]+$/.test(address)) return null;
  return address.toLowerCase().replaceAll('-', ':');
}

function toSpeedMbps(speed: number | null | undefined): number | null {
  return typeof speed === 'number' && Number.isFinite(speed) && speed > 0 ? speed : null;
}

export function createSysinfoSource(options: SysinfoSourceOptions = {}): CounterSource {
  const now = options.now ?? Date.now;
  const networkInterfaces = options.networkInterfaces ?? os.networkInterfaces;

  async function readCounters(): Promise<CounterReading> {
    const si = await loadSystemInformation();
    const stats = await si.networkStats('*');
    const timeMs = now();
    return {
      timeMs,
      bootId: null,
      interfaces: stats.map((stat) => {
        const counters: RawCounters = {
          rxBytes: toCounter(stat.rx_bytes),
          txBytes: toCounter(stat.tx_bytes),
          rxPackets: 0n,
          txPackets: 0n,
          rxErrors: toCounter(stat.rx_errors),
          txErrors: toCounter(stat.tx_errors),
          rxDrops: toCounter(stat.rx_dropped),
          txDrops: toCounter(stat.tx_dropped),
        };
        return { name: stat.iface, ifindex: null, counters };
      }),
      failures: [],
    };
  }

  async function listInterfaces(): Promise<InterfaceMeta[]> {
    const si = await loadSystemInformation();
    const interfaces = await si.networkInterfaces();
    const allAddresses = networkInterfaces();
    return (Array.isArray(interfaces) ? interfaces : [interfaces]).map((info) => {
      const addresses: InterfaceAddress[] = (allAddresses[info.iface] ?? []).map((address) => ({
        family: address.family === 'IPv4' ? 'IPv4' : 'IPv6',
        address: address.address,
        netmask: address.netmask,
        cidr: address.cidr ?? null,
      }));
      const operState = info.operstate || 'unknown';
      return {
        name: info.iface,
        kind: classifyInterface({
          name: info.iface,
          linkType: info.type === 'wired' ? ARPHRD.ETHER : null,
          isLoopback: info.internal,
          isWireless: info.type === 'wireless',
          isBridge: false,
          isTunTap: false,
          isVirtual: info.virtual,
        }),
        ifindex: null,
        // systeminformation has no link flags: 'unknown' (loopback, tunnels) counts as up.
        isUp: operState === 'up' || operState === 'unknown',
        operState,
        mtu: info.mtu ?? null,
        speedMbps: toSpeedMbps(info.speed),
        mac: toMac(info.mac),
        isVirtual: info.virtual,
        addresses,
        hasDefaultRoute: info.default,
      };
    });
  }

  async function readBootTimeMs(): Promise<number | null> {
    const si = await loadSystemInformation();
    const uptimeSec = Number(si.time().uptime);
    if (!Number.isFinite(uptimeSec)) return null;
    return Math.round((now() - uptimeSec * 1000) / 1000) * 1000;
  }

  return { readCounters, listInterfaces, readBootTimeMs };
}
