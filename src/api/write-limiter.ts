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
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return a;
  const groups = expandIpv6(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail becomes the last two). */
function expandIpv6(address: string): number[] {
  let text = address;
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted !== null) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
