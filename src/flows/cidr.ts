/** "Is this address one of ours?": a list of CIDRs (v4 and v6) compiled once, matched per flow. Pure. */
import { ipBytes } from './conntrack-codec.js';


interface Net {
  bytes: Buffer;
  bits: number;
}

/** Parses "a.b.c.d/n" or "v6/n" (a bare address is /32 or /128); null when it is not a CIDR. */
export function parseCidr(text: string): Net | null {
  const [addr = '', bitsText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  let bytes: Buffer;
  try {
    bytes = ipBytes(addr);
  } catch {
    return null;
  }
  const max = bytes.length * 8;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= max)) return null;
  return { bytes, bits };
}

function inNet(addr: Buffer, n: Net): boolean {
  if (addr.length !== n.bytes.length) return false;
  const full = n.bits >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== n.bytes[i]) return false;
  const rest = n.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === (n.bytes[full]! & mask);
}

export function createCidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  const nets = cidrs.map((c) => {
    const n = parseCidr(c);
    if (n === null) throw new Error(`not a CIDR: ${c}`);
    return n;
  });
  const memo = new Map<string, boolean>();
  return (address) => {
    const hit = memo.get(address);
    if (hit !== undefined) return hit;
    let bytes: Buffer;
    try {
      bytes = ipBytes(address);
    } catch {
      return false;
    }
    const result = nets.some((n) => inNet(bytes, n));
    if (memo.size > 4096) memo.clear();
    memo.set(address, result);
    return result;
  };
}
