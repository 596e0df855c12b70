/**
 * Who an address is: its MAC from the neighbour table (/proc/net/arp and `ip -j neigh`, re-read at most every
 * 30 s and only when an unknown address shows up), and a name from the DHCP leases file, /etc/hosts or
 * reverse DNS (in that order; the user's own name wins over all of them and is kept in the database).
 */
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseEtcHosts, parseIpNeighJson, parseLeases, parseProcNetArp, type Lease, type NeighbourMap } from './host-names.js';

const execFileAsync = promisify(execFile);
const NEIGHBOUR_REFRESH_MS = 30_000;
const NAMES_REFRESH_MS = 60_000;
const REVERSE_RETRY_MS = 3_600_000;
const REVERSE_CONCURRENCY = 4;

export interface IdentitySources {
  procRoot: string;
  leasesPath: string | null;
  etcHostsPath?: string;
  ipPath?: string;
  /** Reverse DNS; defaults to a resolver with a 2 s timeout and one try. */
  reverse?: (address: string) => Promise<string[]>;
  now: () => number;
}

export interface NameGuess {
  name: string;
  source: 'leases' | 'hosts' | 'dns';
}

export interface HostIdentity {
  /** Re-reads the neighbour table when it is older than 30 s (or `force` and older than 1 s). */
  refreshNeighbours(force?: boolean): Promise<void>;
  macOf(address: string): string | null;
  /** A name from the leases or /etc/hosts (re-read at most every minute), else null. */
  localName(addresses: readonly string[], mac: string | null): Promise<NameGuess | null>;
  /** Reverse DNS of the first address that has a PTR; null when none (asked again after an hour). */
  reverseName(addresses: readonly string[]): Promise<NameGuess | null>;
}

export function createHostIdentity(src: IdentitySources): HostIdentity {
  let neighbours: NeighbourMap = new Map();
  let neighboursAt = -Infinity;
  let neighbourRead: Promise<void> | null = null;
  let leases: Lease[] = [];
  let hosts = new Map<string, string>();
  let namesAt = -Infinity;
  const reverseTried = new Map<string, number>();
  let reverseInFlight = 0;
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  const reverse = src.reverse ?? ((a: string) => resolver.reverse(a));

  async function readNeighbours(): Promise<void> {
    const map: NeighbourMap = new Map();
    const arp = await readFile(path.join(src.procRoot, 'net', 'arp'), 'utf8').catch(() => '');
    parseProcNetArp(arp, map);
    const neigh = await execFileAsync(src.ipPath ?? 'ip', ['-j', 'neigh', 'show'], { timeout: 5000, maxBuffer: 8 * 1024 * 1024 }).catch(() => ({ stdout: '' }));
    parseIpNeighJson(neigh.stdout, map);
    neighbours = map;
    neighboursAt = src.now();
  }

  async function readNames(): Promise<void> {
    if (src.now() - namesAt < NAMES_REFRESH_MS) return;
    namesAt = src.now();
    leases = src.leasesPath === null ? [] : parseLeases(await readFile(src.leasesPath, 'utf8').catch(() => ''));
    hosts = parseEtcHosts(await readFile(src.etcHostsPath ?? '/etc/hosts', 'utf8').catch(() => ''));
  }

  return {
    async refreshNeighbours(force = false) {
      const age = src.now() - neighboursAt;
      if (age < (force ? 1000 : NEIGHBOUR_REFRESH_MS)) return;
      neighbourRead ??= readNeighbours().finally(() => (neighbourRead = null));
      await neighbourRead;
    },
    macOf(address) {
      return neighbours.get(address) ?? null;
    },
    async localName(addresses, mac) {
      await readNames();
      const set = new Set(addresses);
      const lease = leases.find((l) => set.has(l.address)) ?? (mac === null ? undefined : leases.find((l) => l.mac === mac));
      if (lease !== undefined) return { name: lease.name, source: 'leases' };
      for (const a of addresses) {
        const name = hosts.get(a);
        if (name !== undefined) return { name, source: 'hosts' };
      }
      return null;
    },
    async reverseName(addresses) {
      const nowMs = src.now();
      for (const a of addresses) {
        if (reverseInFlight >= REVERSE_CONCURRENCY) return null;
        const tried = reverseTried.get(a);
        if (tried !== undefined && nowMs - tried < REVERSE_RETRY_MS) continue;
        if (reverseTried.size > 10_000) reverseTried.clear();
        reverseTried.set(a, nowMs);
        reverseInFlight++;
        try {
          const names = await reverse(a);
          const name = names.find((n) => n.length > 0 && n.length <= 253);
          if (name !== undefined) return { name: name.replace(/\.$/, ''), source: 'dns' };
        } catch {
          // no PTR, or no resolver: asked again later
        } finally {
          reverseInFlight--;
        }
      }
      return null;
    },
  };
}
