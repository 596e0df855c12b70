/**
 * The network and transport headers of a packet NFLOG copied (it starts at the IP header): enough to
 * know the flow (5-tuple), the TCP sequence number and flags, and where the payload starts. Pure.
 */
import { ipText, type CtTuple } from './conntrack-codec.js';

/** The packet's flow as conntrack names one (CtTuple), plus what the classifier reads. */
export interface PacketInfo extends CtTuple {
  /** TCP only: the sequence number and flags (SYN 0x02, FIN 0x01, RST 0x04). */
  seq: number;
  flags: number;
  payload: Buffer;
}

const TCP = 6;
const UDP = 17;

/** null for anything that is not an unfragmented TCP or UDP packet over IPv4/IPv6 with a full header. */
export function parsePacket(buf: Buffer): PacketInfo | null {
  if (buf.length < 1) return null;
  const version = buf[0]! >> 4;
  let family: 4 | 6;
  let protoNum: number;
  let l4: number;
  let end: number;
  let src: string;
  let dst: string;
  if (version === 4) {
    if (buf.length < 20) return null;
    const ihl = (buf[0]! & 0x0f) * 4;
    const total = buf.readUInt16BE(2);
    const fragment = buf.readUInt16BE(6) & 0x3fff; // MF flag or an offset: not the first whole piece
    if (ihl < 20 || buf.length < ihl || fragment !== 0) return null;
    family = 4;
    protoNum = buf[9]!;
    src = ipText(buf.subarray(12, 16));
    dst = ipText(buf.subarray(16, 20));
    l4 = ihl;
    end = Math.min(buf.length, total);
  } else if (version === 6) {
    if (buf.length < 40) return null;
    family = 6;
    protoNum = buf[6]!;
    src = ipText(buf.subarray(8, 24));
    dst = ipText(buf.subarray(24, 40));
    l4 = 40;
    end = Math.min(buf.length, 40 + buf.readUInt16BE(4));
    // Skip the common extension headers (hop-by-hop 0, routing 43, destination options 60); a fragment (44) stops.
    for (let hops = 0; (protoNum === 0 || protoNum === 43 || protoNum === 60) && hops < 8; hops++) {
      if (l4 + 8 > end) return null;
      protoNum = buf[l4]!;
      l4 += (buf[l4 + 1]! + 1) * 8;
    }
  } else {
    return null;
  }
  if (protoNum === TCP) {
    if (l4 + 20 > end) return null;
    const dataOff = (buf[l4 + 12]! >> 4) * 4;
    if (dataOff < 20 || l4 + dataOff > end) return null;
    return { family, protoNum, src, dst, srcPort: buf.readUInt16BE(l4), dstPort: buf.readUInt16BE(l4 + 2), seq: buf.readUInt32BE(l4 + 4), flags: buf[l4 + 13]!, payload: buf.subarray(l4 + dataOff, end) };
  }
  if (protoNum === UDP) {
    if (l4 + 8 > end) return null;
    return { family, protoNum, src, dst, srcPort: buf.readUInt16BE(l4), dstPort: buf.readUInt16BE(l4 + 2), seq: 0, flags: 0, payload: buf.subarray(l4 + 8, end) };
  }
  return null;
}

/** The key of a flow in its original direction (client → server), as conntrack's orig tuple reads. */
export function flowKey(protoNum: number, src: string, srcPort: number, dst: string, dstPort: number): string {
  return `${protoNum}|${src}|${srcPort}|${dst}|${dstPort}`;
}
