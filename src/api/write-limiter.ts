/**
 * How many writes one client may send in a fixed window (issue #4), counted in memory. A client is its
 * socket address: an IPv4 address, or the /64 an IPv6 address belongs to (one host usually owns a whole
 * /64, so counting single IPv6 addresses would let it rotate through them).
 *
 * The table is bounded: past `maxClients`, windows that ended are dropped first, then the oldest.
 * Written here rather than taken from @fastify/rate-limit, whose store, IP parser and plugin a server
 * that sees a write a day kept in memory all the time (issue #13).
 */
import { isIP } from 'node:net';
import { mappedV4, plainAddress, v6ToBigInt } from '../config/cidr.js';

export interface WriteLimit {
  max: number;
  timeWindowMs: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** Seconds until the client's window ends (at least 1). */
  retryAfterSec: number;
}

const DEFAULT_MAX_CLIENTS = 10_000;

interface Window {
  count: number;
  endsAtMs: number;
}

export function createWriteLimiter(limit: WriteLimit, now: () => number = Date.now, maxClients = DEFAULT_MAX_CLIENTS) {
  const windows = new Map<string, Window>();

  function makeRoom(atMs: number): void {
    for (const [key, window] of windows) {
      if (window.endsAtMs <= atMs) windows.delete(key);
    }
    // Oldest windows first: a window is (re)inserted when it starts.
    for (const key of windows.keys()) {
      if (windows.size < maxClients) break;
      windows.delete(key);
    }
  }

  return {
    /** Counts one write from `address` and says whether it is within the limit. */
    hit(address: string | undefined): LimitDecision {
      const atMs = now();
      const key = clientKey(address);
      let window = windows.get(key);
      if (window === undefined || window.endsAtMs <= atMs) {
        windows.delete(key);
        if (windows.size >= maxClients) makeRoom(atMs);
        window = { count: 0, endsAtMs: atMs + limit.timeWindowMs };
        windows.set(key, window);
      }
      window.count++;
      return { allowed: window.count <= limit.max, retryAfterSec: Math.max(1, Math.ceil((window.endsAtMs - atMs) / 1000)) };
    },
    /** Clients with a window in the table (for tests). */
    size: () => windows.size,
  };
}

/** An IPv4 address as it is, an IPv6 address as its /64 (`2001:db8:0:1::/64`), an IPv4-mapped one as IPv4. */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const a = plainAddress(address);
  if (isIP(a) !== 6) return a;
  const n = v6ToBigInt(a);
  const v4 = mappedV4(n);
  if (v4 !== null) return v4;
  return `${[112n, 96n, 80n, 64n].map((shift) => ((n >> shift) & 0xffffn).toString(16)).join(':')}::/64`;
}
