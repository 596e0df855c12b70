/**
 * What the NFLOG copies say, pure: each copied packet (IP header on) → a DNS mapping (address → name) or a
 * flow's server name from its TLS ClientHello, reassembled over the flow's first segments. Bounded: at most
 * `maxStreams` hellos in progress, each given up after `streamTtlMs` or when it cannot be a ClientHello.
 */
import { parseDnsAnswers, type DnsMapping } from './dns.js';
import { flowKey, parsePacket } from './packet.js';
import { StreamStart, parseClientHello } from './sni.js';
import { QuicHello, decryptInitial } from './quic.js';

export interface PacketClassifierEvents {
  onDns(mapping: DnsMapping): void;
  /** A flow's server name; `key` is its original-direction tuple (flowKey). */
  onServerName(key: string, name: string, protocol: 'tls' | 'quic'): void;
}

export interface PacketClassifierStats {
  packets: number;
  dnsAnswers: number;
  names: number;
  /** Hellos that ended without a name (no SNI, not TLS, or given up). */
  unnamed: number;
  inProgress: number;
}

export class PacketClassifier {
  private readonly streams = new Map<string, { stream: StreamStart | QuicHello; startedMs: number }>();
  private readonly done = new Map<string, true>();
  readonly stats: PacketClassifierStats = { packets: 0, dnsAnswers: 0, names: 0, unnamed: 0, inProgress: 0 };

  constructor(
    private readonly events: PacketClassifierEvents,
    private readonly options: { maxStreams?: number; streamTtlMs?: number; maxDone?: number } = {},
  ) {}

  handle(packet: Buffer, nowMs: number): void {
    this.stats.packets++;
    const p = parsePacket(packet);
    if (p === null) return;
    if (p.protoNum === 17 && p.srcPort === 53) {
      for (const m of parseDnsAnswers(p.payload)) {
        this.stats.dnsAnswers++;
        this.events.onDns(m);
      }
      return;
    }
    if (p.dstPort !== 443) return;
    const key = flowKey(p.protoNum, p.src, p.srcPort, p.dst, p.dstPort);
    if (this.done.has(key)) return;
    if (p.protoNum !== 6 && p.protoNum !== 17) return;
    const quic = p.protoNum === 17;
    let initial: ReturnType<typeof decryptInitial> = null;
    if (quic) {
      initial = decryptInitial(p.payload);
      if (initial === null) {
        // Not a client Initial (a short-header packet, or 0-RTT): nothing to learn from this flow's later packets.
        if (!this.streams.has(key)) this.finish(key, null, 'quic');
        return;
      }
    }
    let s = this.streams.get(key);
    if (s === undefined) {
      this.expire(nowMs);
      s = { stream: quic ? new QuicHello() : new StreamStart(), startedMs: nowMs };
      this.streams.set(key, s);
    }
    const hello = s.stream instanceof QuicHello ? (s.stream.add(initial!.frames), s.stream.result()) : (s.stream.add(p.seq, p.flags, p.payload), parseClientHello(s.stream.contiguous()));
    if (hello.status === 'name') this.finish(key, hello.serverName, quic ? 'quic' : 'tls');
    else if (hello.status !== 'need-more') this.finish(key, null, quic ? 'quic' : 'tls');
    this.stats.inProgress = this.streams.size;
  }

  private finish(key: string, name: string | null, protocol: 'tls' | 'quic'): void {
    this.streams.delete(key);
    this.done.set(key, true);
    while (this.done.size > (this.options.maxDone ?? 8192)) this.done.delete(this.done.keys().next().value!);
    if (name === null) {
      this.stats.unnamed++;
      return;
    }
    this.stats.names++;
    this.events.onServerName(key, name, protocol);
  }

  private expire(nowMs: number): void {
    const ttl = this.options.streamTtlMs ?? 10_000;
    for (const [key, s] of this.streams) {
      if (nowMs - s.startedMs <= ttl) break; // insertion order = age order
      this.streams.delete(key);
      this.stats.unnamed++;
    }
    const max = this.options.maxStreams ?? 1024;
    while (this.streams.size >= max) {
      this.streams.delete(this.streams.keys().next().value!);
      this.stats.unnamed++;
    }
  }
}
