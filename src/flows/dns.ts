/**
 * DNS answers → which name an address was looked up as. Decoding is dns-packet's (a maintained decoder);
 * this file picks what a flow label needs: for every A/AAAA record, the name the client asked for.
 * Pure, plus a bounded cache of address → name with the records' TTL.
 */
import dnsPacket from 'dns-packet';
import { isHostName } from './sni.js';

export interface DnsMapping {
  address: string;
  /** The name in the question (what the user's app asked for), not the CDN name at the end of a CNAME chain. */
  name: string;
  ttlSec: number;
}

/** The address → name pairs in one DNS response (UDP payload); [] for a query, an error or garbage. */
export function parseDnsAnswers(payload: Buffer): DnsMapping[] {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(payload);
  } catch {
    return [];
  }
  if (packet.type !== 'response' || ((packet.flags ?? 0) & 0x0f) !== 0) return []; // a query, or an error rcode
  const question = packet.questions?.[0]?.name?.toLowerCase().replace(/\.$/, '');
  const out: DnsMapping[] = [];
  for (const answer of packet.answers ?? []) {
    if (answer.type !== 'A' && answer.type !== 'AAAA') continue;
    const name = question !== undefined && isHostName(question) ? question : answer.name.toLowerCase();
    if (!isHostName(name) || typeof answer.data !== 'string') continue;
    out.push({ address: answer.data, name, ttlSec: answer.ttl ?? 0 });
  }
  return out;
}

/** address → name, bounded in entries; an entry lives at least `minTtlSec` (apps cache answers longer than TTLs say). */
export class DnsCache {
  private readonly entries = new Map<string, { name: string; expiresMs: number }>();

  constructor(
    private readonly maxEntries = 8192,
    private readonly minTtlSec = 300,
  ) {}

  add(m: DnsMapping, nowMs: number): void {
    this.entries.delete(m.address);
    this.entries.set(m.address, { name: m.name, expiresMs: nowMs + Math.max(m.ttlSec, this.minTtlSec) * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  lookup(address: string, nowMs: number): string | null {
    const e = this.entries.get(address);
    if (e === undefined) return null;
    if (e.expiresMs < nowMs) {
      this.entries.delete(address);
      return null;
    }
    return e.name;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
