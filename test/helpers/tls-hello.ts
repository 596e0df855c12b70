/**
 * TLS ClientHellos for the flows tests, built byte by byte: a server_name extension, GREASE values, and an
 * ML-KEM-sized key share that makes the hello bigger than one segment (like current browsers' hellos).
 */
import crypto from 'node:crypto';

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);

export interface HelloOptions {
  serverName: string | null;
  /** Bytes of the (X25519MLKEM768-like) key share; 1216 makes a ~1.7 KB hello. */
  keyShareBytes?: number;
  /** Put the server_name extension last (after the big key share), as shuffled extension orders may. */
  sniLast?: boolean;
}

/** The ClientHello handshake message (type 1 + length + body), without the record layer. */
export function clientHelloMessage(o: HelloOptions): Buffer {
  const grease = 0x0a0a;
  const exts: Buffer[] = [ext(grease, Buffer.alloc(0))];
  const sni = o.serverName === null ? null : ext(0x0000, (() => {
    const name = Buffer.from(o.serverName, 'latin1');
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    return Buffer.concat([u16(entry.length), entry]);
  })());
  if (sni && !o.sniLast) exts.push(sni);
  exts.push(ext(0x000a, Buffer.concat([u16(6), u16(0x2a2a), u16(0x11ec), u16(0x001d)]))); // groups: GREASE, X25519MLKEM768, x25519
  const share = crypto.randomBytes(o.keyShareBytes ?? 1216);
  const shareEntry = Buffer.concat([u16(0x11ec), u16(share.length), share]);
  exts.push(ext(0x0033, Buffer.concat([u16(shareEntry.length), shareEntry]))); // key_share
  exts.push(ext(0x002b, Buffer.from([4, 0x1a, 0x1a, 0x03, 0x04]))); // supported_versions with GREASE
  exts.push(ext(0x1a1a, Buffer.from([0]))); // a second GREASE extension, with a byte
  if ((o.keyShareBytes ?? 1216) > 1000) exts.push(ext(0x0010, Buffer.from('\x00\x0c\x02h2\x08http/1.1', 'latin1')), ext(0x0015, Buffer.alloc(300))); // ALPN, padding
  if (sni && o.sniLast) exts.push(sni);
  const extBytes = Buffer.concat(exts);
  const body = Buffer.concat([
    u16(0x0303),
    crypto.randomBytes(32),
    Buffer.from([32]),
    crypto.randomBytes(32),
    Buffer.concat([u16(6), u16(0x3a3a), u16(0x1301), u16(0x1302)]),
    Buffer.from([1, 0]),
    u16(extBytes.length),
    extBytes,
  ]);
  return Buffer.concat([Buffer.from([1]), u24(body.length), body]);
}

/** A ClientHello in TLS records (one record unless `recordBytes` fragments it over several). */
export function clientHelloRecords(o: HelloOptions & { recordBytes?: number }): Buffer {
  const msg = clientHelloMessage(o);
  const size = o.recordBytes ?? 16_384;
  const records: Buffer[] = [];
  for (let off = 0; off < msg.length; off += size) {
    const frag = msg.subarray(off, off + size);
    records.push(Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(frag.length), frag]));
  }
  return Buffer.concat(records);
}
