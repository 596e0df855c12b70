/**
 * Where a host's MAC and name come from, as pure parsers of what the OS and the DHCP server write:
 * the neighbour table (/proc/net/arp, `ip -j neigh`), a dnsmasq or odhcpd leases file, /etc/hosts.
 * The readers that fetch the text (and reverse DNS) are in host-identity.ts.
 */
import { canonicalAddress } from '../config/cidr.js';

/** address (canonical) → MAC (lower case, colon-separated). */
export type NeighbourMap = Map<string, string>;

function normalMac(raw: string): string | null {
  const hex = raw.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || hex === '000000000000') return null;
  return hex.match(/../g)!.join(':');
}

/** /proc/net/arp: `IP address  HW type  Flags  HW address  Mask  Device`; incomplete entries (flags 0) skipped. */
export function parseProcNetArp(text: string, into: NeighbourMap = new Map()): NeighbourMap {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const flags = parseInt(f[2]!, 16);
    const address = canonicalAddress(f[0]!);
    const mac = normalMac(f[3]!);
    if (address !== null && mac !== null && (flags & 0x2) !== 0) into.set(address, mac);
  }
  return into;
}

/** `ip -j neigh show`: entries with a lladdr that are not FAILED/INCOMPLETE. */
export function parseIpNeighJson(text: string, into: NeighbourMap = new Map()): NeighbourMap {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return into;
  }
  if (!Array.isArray(rows)) return into;
  for (const r of rows as { dst?: unknown; lladdr?: unknown; state?: unknown }[]) {
    if (typeof r.dst !== 'string' || typeof r.lladdr !== 'string') continue;
    const states = Array.isArray(r.state) ? (r.state as string[]) : [];
    if (states.includes('FAILED') || states.includes('INCOMPLETE')) continue;
    const address = canonicalAddress(r.dst.split('%')[0]!);
    const mac = normalMac(r.lladdr);
    if (address !== null && mac !== null) into.set(address, mac);
  }
  return into;
}

export interface Lease {
  address: string;
  mac: string | null;
  name: string;
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * A leases file in either format:
 * - dnsmasq: `<expiry> <mac> <ip> <hostname|*> <client-id|*>` (one line per lease; `duid …` lines skipped);
 * - odhcpd: `# <iface> <duid> <iaid> <hostname> <valid-until> <assigned> <prefix-len> <addr>/<len> …`, whose
 *   DUID of a DHCPv4 lease is the MAC, and the hosts-file style `<ip> <hostname>` it also writes.
 */
export function parseLeases(text: string): Lease[] {
  const leases: Lease[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f[0] === '#' && f.length >= 9) {
      const name = f[4]!;
      if (!HOST_NAME.test(name) || name === '-') continue;
      const mac = normalMac(f[2]!);
      for (const a of f.slice(8)) {
        const address = canonicalAddress(a.split('/')[0]!);
        if (address !== null) leases.push({ address, mac, name });
      }
      continue;
    }
    if (f.length >= 4 && /^\d+$/.test(f[0]!)) {
      const address = canonicalAddress(f[2]!);
      const name = f[3]!;
      if (address !== null && name !== '*' && HOST_NAME.test(name)) leases.push({ address, mac: normalMac(f[1]!), name });
      continue;
    }
    if (f.length >= 2 && !line.startsWith('#')) {
      const address = canonicalAddress(f[0]!);
      if (address !== null && HOST_NAME.test(f[1]!)) leases.push({ address, mac: null, name: f[1]! });
    }
  }
  return leases;
}

/** /etc/hosts: address → the first name on its line (comments and loopback/broadcast names skipped). */
export function parseEtcHosts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [addr, name] = line.split(/\s+/);
    if (addr === undefined || name === undefined) continue;
    const address = canonicalAddress(addr);
    if (address === null || out.has(address) || !HOST_NAME.test(name)) continue;
    out.set(address, name);
  }
  return out;
}

/** A URL-safe id for a host: its MAC when known (a device), else its address. */
export function hostIdOf(address: string, mac: string | null): string {
  return mac !== null ? `mac-${mac.replace(/:/g, '-')}` : `ip-${address.replace(/:/g, '-')}`;
}
