/**
 * Netlink attributes (TLVs) as ctnetlink and nfnetlink_log use them: encode and decode, pure, no socket.
 * Every integer inside netfilter attributes is big-endian; the TLV header (length, type) is host order
 * (little-endian on every platform Net-Pulse runs on). Nested attributes carry NLA_F_NESTED.
 */

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = 0x3fff;
const NLA_HDRLEN = 4;

const align4 = (n: number): number => (n + 3) & ~3;

/** Decoded attributes of one level: type → payload (the last one wins, as the kernel's parser does). */
export type Attrs = Map<number, Buffer>;

/** Splits a buffer of attributes into a map; a truncated tail is ignored (the kernel never sends one). */
export function parseAttrs(buf: Buffer): Attrs {
  const out: Attrs = new Map();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    out.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/** One attribute: header + payload + padding to 4 bytes. */
export function attr(type: number, payload: Buffer): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, NLA_HDRLEN);
  return out;
}

export const nested = (type: number, children: Buffer[]): Buffer => attr(type | NLA_F_NESTED, Buffer.concat(children));

export function u8(value: number): Buffer {
  return Buffer.from([value & 0xff]);
}

export function be16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

export function be32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/** An unsigned big-endian integer of 1, 2, 4 or 8 bytes, as a bigint (counters are 64-bit). */
export function readBeUint(buf: Buffer | undefined): bigint | null {
  if (buf === undefined) return null;
  switch (buf.length) {
    case 1:
      return BigInt(buf.readUInt8(0));
    case 2:
      return BigInt(buf.readUInt16BE(0));
    case 4:
      return BigInt(buf.readUInt32BE(0));
    case 8:
      return buf.readBigUInt64BE(0);
    default:
      return null;
  }
}

/** nfgenmsg: the 4-byte header every nfnetlink message starts with (family, version 0, resource id). */
export function nfgenmsg(family: number, resId = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(family, 0);
  b.writeUInt8(0, 1);
  b.writeUInt16BE(resId, 2);
  return b;
}

export const NFGENMSG_LEN = 4;
