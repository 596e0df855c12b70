/**
 * IPv4/IPv6 prefixes (CIDR) as the configuration spells them: parsed and checked once, written back in
 * canonical form (`10.0.0.0/8`, `fc00::/7`). Pure; lives beside the config because NETPULSE_LAN_CIDRS is
 * checked there, before any optional feature is loaded.
 */
import net from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** The network address, host bits cleared, canonical text. */
  address: string;
  prefixLength: number;
  /** `address/prefixLength`. */
  text: string;
}

function v4ToBigInt(a: string): bigint {
  return a.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function bigIntToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

/** The 8 groups of an IPv6 address (with an embedded IPv4 tail expanded), as one 128-bit number. */
export function v6ToBigInt(a: string): bigint {
  let text = a.toLowerCase();
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const n = v4ToBigInt(v4tail[1]!);
    text = text.slice(0, -v4tail[1]!.length) + `${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An address as a socket or a Host header gives it, made plain: no brackets, no zone, lower case (`[FE80::1%eth0]` → `fe80::1`). */
export function plainAddress(text: string): string {
  let a = text.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  return zone === -1 ? a : a.slice(0, zone);
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, however it is spelled) carries; null for any other. */
export function mappedV4(v6: bigint): string | null {
  return v6 >> 32n === 0xffffn ? bigIntToV4(v6 & 0xffffffffn) : null;
}

function bigIntToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt((7 - i) * 16)) & 0xffffn));
  // Canonical (RFC 5952): the longest run of two or more zero groups becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an IP address (IPv6 compressed, lower case), or null when it is not one. */
export function canonicalAddress(text: string): string | null {
  const family = net.isIP(text);
  if (family === 4) return bigIntToV4(v4ToBigInt(text));
  if (family === 6) return bigIntToV6(v6ToBigInt(text));
  return null;
}

/** Parses `a.b.c.d/n` or `x::/n` (host bits are cleared); throws an Error saying what is wrong. */
export function parseCidr(raw: string): Cidr {
  const text = raw.trim();
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`"${raw}" has no prefix length (write it like 192.168.0.0/16 or fd00::/8)`);
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const family = net.isIP(addr);
  if (family === 0) throw new Error(`"${addr}" is not an IPv4 or IPv6 address`);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) throw new Error(`"${raw}": the prefix length must be 0–${max}`);
  const len = Number(lenText);
  const bits = BigInt(max);
  const value = family === 4 ? v4ToBigInt(addr) : v6ToBigInt(addr);
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << (bits - BigInt(len));
  const network = value & mask;
  const address = family === 4 ? bigIntToV4(network) : bigIntToV6(network);
  return { family: family as 4 | 6, address, prefixLength: len, text: `${address}/${len}` };
}
