/**
 * ctnetlink messages, pure: the dump request, the mark update, and a conntrack entry decoded from a dump
 * reply or an event. The socket side lives in conntrack.ts. Constants from linux/netfilter/nfnetlink*.h.
 */
import net from 'node:net';
import { NFGENMSG_LEN, attr, be16, be32, nested, nfgenmsg, parseAttrs, readBeUint, u8 } from '../shared/netlink-attrs.js';

export const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
/** Multicast groups (1-based group numbers, as addMembership takes them). */
export const NFNLGRP_CONNTRACK_NEW = 1;
export const NFNLGRP_CONNTRACK_DESTROY = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;

const AF_INET = 2;
const AF_INET6 = 10;

const CTA = { TUPLE_ORIG: 1, TUPLE_REPLY: 2, STATUS: 3, MARK: 8, COUNTERS_ORIG: 9, COUNTERS_REPLY: 10, ID: 12, ZONE: 18, TIMESTAMP: 20, MARK_MASK: 21 } as const;
const CTA_TUPLE = { IP: 1, PROTO: 2, ZONE: 3 } as const;
const CTA_IP = { V4_SRC: 1, V4_DST: 2, V6_SRC: 3, V6_DST: 4 } as const;
const CTA_PROTO = { NUM: 1, SRC_PORT: 2, DST_PORT: 3 } as const;
const CTA_COUNTERS = { PACKETS: 1, BYTES: 2, PACKETS32: 3, BYTES32: 4 } as const;
const CTA_TIMESTAMP = { START: 1, STOP: 2 } as const;

export type FlowProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'sctp' | 'other';

export interface CtTuple {
  family: 4 | 6;
  /** IANA protocol number (6 tcp, 17 udp, …). */
  protoNum: number;
  src: string;
  dst: string;
  /** 0 for protocols without ports. */
  srcPort: number;
  dstPort: number;
}

export interface CtEntry {
  /** The kernel's id of the entry (CTA_ID): unique while the entry lives. */
  id: number;
  orig: CtTuple;
  reply: CtTuple | null;
  /** Counters need net.netfilter.nf_conntrack_acct=1 when the flow was created; null when absent. */
  origPackets: bigint | null;
  origBytes: bigint | null;
  replyPackets: bigint | null;
  replyBytes: bigint | null;
  mark: number;
  zone: number;
  /** Wall-clock ns from CTA_TIMESTAMP (needs nf_conntrack_timestamp=1); null when absent. */
  startNs: bigint | null;
  stopNs: bigint | null;
}

export function protocolName(num: number): FlowProtocol {
  switch (num) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmpv6';
    case 132:
      return 'sctp';
    default:
      return 'other';
  }
}

/** nlmsg type of a ctnetlink message. */
export const ctMsgType = (msg: number): number => (NFNL_SUBSYS_CTNETLINK << 8) | msg;

/** An address as text: dotted IPv4, or IPv6 in the RFC 5952 form (longest zero run as "::"). */
export function ipText(buf: Buffer): string {
  if (buf.length === 4) return `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(i).toString(16));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (bestAt < 0) return parts.join(':');
  return `${parts.slice(0, bestAt).join(':')}::${parts.slice(bestAt + bestLen).join(':')}`;
}

/** An address's bytes (v4: 4, v6: 16); throws on text that is not an address. */
export function ipBytes(text: string): Buffer {
  if (net.isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!net.isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  let s = text;
  const last = s.lastIndexOf(':');
  if (s.slice(last + 1).includes('.')) {
    const v4 = ipBytes(s.slice(last + 1));
    s = `${s.slice(0, last + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const hp = head === '' ? [] : head.split(':');
  const tp = tail === undefined || tail === '' ? [] : tail.split(':');
  const words = tail === undefined ? hp : [...hp, ...new Array<string>(8 - hp.length - tp.length).fill('0'), ...tp];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}

function parseTuple(buf: Buffer | undefined): CtTuple | null {
  if (buf === undefined) return null;
  const t = parseAttrs(buf);
  const ip = t.get(CTA_TUPLE.IP);
  const proto = t.get(CTA_TUPLE.PROTO);
  if (ip === undefined || proto === undefined) return null;
  const ipa = parseAttrs(ip);
  const pa = parseAttrs(proto);
  const v4s = ipa.get(CTA_IP.V4_SRC);
  const v4d = ipa.get(CTA_IP.V4_DST);
  const v6s = ipa.get(CTA_IP.V6_SRC);
  const v6d = ipa.get(CTA_IP.V6_DST);
  const family = v4s !== undefined ? 4 : 6;
  const src = v4s ?? v6s;
  const dst = v4d ?? v6d;
  const num = pa.get(CTA_PROTO.NUM);
  if (src === undefined || dst === undefined || num === undefined) return null;
  return {
    family,
    protoNum: num.readUInt8(0),
    src: ipText(src),
    dst: ipText(dst),
    srcPort: pa.get(CTA_PROTO.SRC_PORT)?.readUInt16BE(0) ?? 0,
    dstPort: pa.get(CTA_PROTO.DST_PORT)?.readUInt16BE(0) ?? 0,
  };
}

function parseCounters(buf: Buffer | undefined): { packets: bigint | null; bytes: bigint | null } {
  if (buf === undefined) return { packets: null, bytes: null };
  const c = parseAttrs(buf);
  return { packets: readBeUint(c.get(CTA_COUNTERS.PACKETS) ?? c.get(CTA_COUNTERS.PACKETS32)), bytes: readBeUint(c.get(CTA_COUNTERS.BYTES) ?? c.get(CTA_COUNTERS.BYTES32)) };
}

/** Decodes the payload of a ctnetlink message (nfgenmsg + attributes); null when it has no usable tuple. */
export function parseCtMessage(payload: Buffer): CtEntry | null {
  if (payload.length < NFGENMSG_LEN) return null;
  const a = parseAttrs(payload.subarray(NFGENMSG_LEN));
  const orig = parseTuple(a.get(CTA.TUPLE_ORIG));
  if (orig === null) return null;
  const co = parseCounters(a.get(CTA.COUNTERS_ORIG));
  const cr = parseCounters(a.get(CTA.COUNTERS_REPLY));
  const ts = a.get(CTA.TIMESTAMP);
  const tsa = ts === undefined ? null : parseAttrs(ts);
  return {
    id: Number(readBeUint(a.get(CTA.ID)) ?? 0n),
    orig,
    reply: parseTuple(a.get(CTA.TUPLE_REPLY)),
    origPackets: co.packets,
    origBytes: co.bytes,
    replyPackets: cr.packets,
    replyBytes: cr.bytes,
    mark: Number(readBeUint(a.get(CTA.MARK)) ?? 0n),
    zone: Number(readBeUint(a.get(CTA.ZONE)) ?? 0n),
    startNs: tsa === null ? null : readBeUint(tsa.get(CTA_TIMESTAMP.START)),
    stopNs: tsa === null ? null : readBeUint(tsa.get(CTA_TIMESTAMP.STOP)),
  };
}

/** The payload of a dump request for every family (AF_UNSPEC). */
export function dumpRequest(): Buffer {
  return nfgenmsg(0);
}

function encodeTuple(type: number, t: CtTuple): Buffer {
  const [srcType, dstType] = t.family === 4 ? [CTA_IP.V4_SRC, CTA_IP.V4_DST] : [CTA_IP.V6_SRC, CTA_IP.V6_DST];
  const proto = [attr(CTA_PROTO.NUM, u8(t.protoNum))];
  if (t.protoNum === 6 || t.protoNum === 17 || t.protoNum === 132 || t.protoNum === 136) {
    proto.push(attr(CTA_PROTO.SRC_PORT, be16(t.srcPort)), attr(CTA_PROTO.DST_PORT, be16(t.dstPort)));
  }
  return nested(type, [nested(CTA_TUPLE.IP, [attr(srcType, ipBytes(t.src)), attr(dstType, ipBytes(t.dst))]), nested(CTA_TUPLE.PROTO, proto)]);
}

/**
 * The payload of an IPCTNL_MSG_CT_NEW (sent without NLM_F_CREATE: it updates the existing entry) that sets
 * only the bits of `mask` in the entry's mark to `value`; the kernel computes (mark & ~mask) ^ value.
 */
export function markUpdateRequest(orig: CtTuple, value: number, mask: number, zone = 0): Buffer {
  const parts = [encodeTuple(CTA.TUPLE_ORIG, orig), attr(CTA.MARK, be32(value & mask)), attr(CTA.MARK_MASK, be32(mask))];
  if (zone !== 0) parts.push(attr(CTA.ZONE, be16(zone)));
  return Buffer.concat([nfgenmsg(orig.family === 4 ? AF_INET : AF_INET6), ...parts]);
}

/** Encodes an entry the way the kernel does (for tests and the benchmark's recorded dumps). */
export function encodeCtMessage(e: CtEntry): Buffer {
  const counters = (type: number, packets: bigint | null, bytes: bigint | null): Buffer[] => {
    if (packets === null || bytes === null) return [];
    const p = Buffer.alloc(8);
    p.writeBigUInt64BE(packets);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(bytes);
    return [nested(type, [attr(CTA_COUNTERS.PACKETS, p), attr(CTA_COUNTERS.BYTES, b)])];
  };
  const parts = [encodeTuple(CTA.TUPLE_ORIG, e.orig)];
  if (e.reply !== null) parts.push(encodeTuple(CTA.TUPLE_REPLY, e.reply));
  parts.push(attr(CTA.STATUS, be32(0x8 | 0x2)), attr(CTA.MARK, be32(e.mark)), ...counters(CTA.COUNTERS_ORIG, e.origPackets, e.origBytes), ...counters(CTA.COUNTERS_REPLY, e.replyPackets, e.replyBytes), attr(CTA.ID, be32(e.id)));
  if (e.startNs !== null) {
    const s = Buffer.alloc(8);
    s.writeBigUInt64BE(e.startNs);
    const ts = [attr(CTA_TIMESTAMP.START, s)];
    if (e.stopNs !== null) {
      const st = Buffer.alloc(8);
      st.writeBigUInt64BE(e.stopNs);
      ts.push(attr(CTA_TIMESTAMP.STOP, st));
    }
    parts.push(nested(CTA.TIMESTAMP, ts));
  }
  return Buffer.concat([nfgenmsg(e.orig.family === 4 ? AF_INET : AF_INET6), ...parts]);
}
