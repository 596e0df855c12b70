/**
 * The server name (SNI) of a TLS ClientHello, from the first TCP segments of a flow: a ClientHello may span
 * several segments (browsers' post-quantum key shares make it ~1.7 KB, over one MSS) and several TLS
 * records. Pure: bytes in, a name (or a reason there is none) out.
 */

export type HelloResult =
  | { status: 'name'; serverName: string }
  /** A whole ClientHello without a server_name extension (an IP literal, or ECH's outer hello without one). */
  | { status: 'no-name' }
  | { status: 'need-more' }
  | { status: 'not-tls' };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
/** A ClientHello is far below this; more is either not TLS or not worth buffering. */
export const MAX_HELLO_BYTES = 16_384;

/**
 * Parses a ClientHello out of the start of a TCP stream (the bytes the client sent first, in order).
 * Handles a handshake message fragmented over several records and records split over several segments.
 */
export function parseClientHello(stream: Buffer): HelloResult {
  // 1. Gather the handshake bytes from consecutive handshake records.
  const fragments: Buffer[] = [];
  let have = 0;
  let need: number | null = null;
  let off = 0;
  while (need === null || have < need) {
    if (off + 5 > stream.length) return looksLikeTls(stream) ? { status: 'need-more' } : { status: 'not-tls' };
    if (stream[off] !== HANDSHAKE || stream[off + 1] !== 0x03) return { status: 'not-tls' };
    const len = stream.readUInt16BE(off + 3);
    if (len === 0 || len > 16_384 + 256) return { status: 'not-tls' };
    const body = stream.subarray(off + 5, off + 5 + len);
    fragments.push(body);
    have += body.length;
    if (need === null && have >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO) return { status: 'not-tls' };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_HELLO_BYTES) return { status: 'not-tls' };
    }
    if (body.length < len) return { status: 'need-more' };
    off += 5 + len;
  }
  const hello = Buffer.concat(fragments).subarray(4, need);
  const name = serverNameOf(hello);
  if (name === undefined) return { status: 'not-tls' };
  return name === null ? { status: 'no-name' } : { status: 'name', serverName: name };
}

function looksLikeTls(stream: Buffer): boolean {
  return (stream.length < 1 || stream[0] === HANDSHAKE) && (stream.length < 2 || stream[1] === 0x03);
}

/** The host_name in a ClientHello body; null when it has none; undefined when the body is malformed. */
export function serverNameOf(hello: Buffer): string | null | undefined {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > hello.length) return undefined;
  p += 1 + hello[p]!; // session id
  if (p + 2 > hello.length) return undefined;
  p += 2 + hello.readUInt16BE(p); // cipher suites
  if (p + 1 > hello.length) return undefined;
  p += 1 + hello[p]!; // compression methods
  if (p === hello.length) return null; // no extensions at all
  if (p + 2 > hello.length) return undefined;
  const extEnd = p + 2 + hello.readUInt16BE(p);
  if (extEnd > hello.length) return undefined;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = hello.readUInt16BE(p);
    const len = hello.readUInt16BE(p + 2);
    const data = p + 4;
    if (data + len > extEnd) return undefined;
    if (type === 0x0000) return hostNameIn(hello.subarray(data, data + len));
    p = data + len; // GREASE (0x?a?a), key_share with an ML-KEM share, padding: all skipped the same way
  }
  return null;
}

function hostNameIn(ext: Buffer): string | null | undefined {
  if (ext.length < 2) return undefined;
  const listEnd = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= listEnd) {
    const type = ext[p]!;
    const len = ext.readUInt16BE(p + 1);
    if (p + 3 + len > listEnd) return undefined;
    if (type === 0) {
      const name = ext.subarray(p + 3, p + 3 + len).toString('latin1').toLowerCase().replace(/\.$/, '');
      return isHostName(name) ? name : undefined;
    }
    p += 3 + len;
  }
  return null;
}

export function isHostName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(name);
}

/**
 * The first bytes of one TCP stream direction put back in order from segments that may come out of order,
 * overlap or repeat. Bounded: it keeps at most `maxBytes` from the stream's start.
 */
export class StreamStart {
  private base: number | null = null;
  private readonly segments: { seq: number; data: Buffer }[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes = MAX_HELLO_BYTES + 512) {}

  /** Feeds one segment: `syn` marks the SYN (its seq + 1 is where data starts). */
  add(seq: number, flags: number, payload: Buffer): void {
    if ((flags & 0x02) !== 0) this.base = (seq + 1) >>> 0;
    if (payload.length === 0 || this.bytes >= this.maxBytes) return;
    this.segments.push({ seq, data: Buffer.from(payload) });
    this.bytes += payload.length;
  }

  /** The bytes from the stream's start that arrived without a gap. */
  contiguous(): Buffer {
    if (this.segments.length === 0) return Buffer.alloc(0);
    // Without the SYN, the earliest segment is the start (offsets are mod 2^32, relative to the first seen).
    const ref = this.segments[0]!.seq;
    const rel = (seq: number) => ((seq - ref) | 0);
    const start = this.base !== null ? rel(this.base) : Math.min(...this.segments.map((s) => rel(s.seq)));
    const sorted = [...this.segments].map((s) => ({ at: rel(s.seq) - start, data: s.data })).sort((a, b) => a.at - b.at);
    const parts: Buffer[] = [];
    let end = 0;
    for (const s of sorted) {
      if (s.at > end) break; // a gap: wait for the missing segment
      const from = end - s.at;
      if (from < s.data.length) {
        parts.push(s.data.subarray(from));
        end += s.data.length - from;
      }
    }
    return Buffer.concat(parts);
  }
}
