/**
 * The server name in a QUIC Initial packet (UDP/443): the client's first packets are encrypted with keys
 * anyone can derive from the Destination Connection ID (RFC 9001 §5.2), so this removes header protection
 * and decrypts them (AES-128-GCM, node:crypto), then reads the TLS ClientHello from the CRYPTO frames —
 * reassembled by offset, since browsers spread a post-quantum hello over several frames and packets.
 * QUIC version 1 and 2 (RFC 9369). Pure.
 */
import crypto from 'node:crypto';
import { serverNameOf, type HelloResult } from './sni.js';

const V1 = 0x00000001;
const V2 = 0x6b3343cf;
const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');

function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  // HKDF-Expand for length ≤ 32 (one block): T(1) = HMAC(secret, info || 0x01).
  return crypto.createHmac('sha256', secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** The client's Initial keys for a Destination Connection ID (RFC 9001 §5.2; RFC 9369 §3.3.1 for v2). */
export function clientInitialKeys(dcid: Buffer, version = V1): InitialKeys {
  const v2 = version === V2;
  const initial = crypto.createHmac('sha256', v2 ? SALT_V2 : SALT_V1).update(dcid).digest();
  const client = hkdfExpandLabel(initial, 'client in', 32);
  const prefix = v2 ? 'quicv2 ' : 'quic ';
  return { key: hkdfExpandLabel(client, `${prefix}key`, 16), iv: hkdfExpandLabel(client, `${prefix}iv`, 12), hp: hkdfExpandLabel(client, `${prefix}hp`, 16) };
}

function readVarint(buf: Buffer, off: number): { value: number; next: number } | null {
  if (off >= buf.length) return null;
  const len = 1 << (buf[off]! >> 6);
  if (off + len > buf.length) return null;
  let value = buf[off]! & 0x3f;
  for (let i = 1; i < len; i++) value = value * 256 + buf[off + i]!;
  return { value, next: off + len };
}

export interface CryptoFrame {
  offset: number;
  data: Buffer;
}

/** Decrypts the Initial packet at the start of a UDP datagram; null when it is not a client Initial or does not authenticate. */
export function decryptInitial(datagram: Buffer): { dcid: Buffer; frames: CryptoFrame[] } | null {
  if (datagram.length < 7) return null;
  const first = datagram[0]!;
  if ((first & 0xc0) !== 0xc0) return null; // not a long header
  const version = datagram.readUInt32BE(1);
  const type = (first >> 4) & 0x03;
  if (!((version === V1 && type === 0) || (version === V2 && type === 1))) return null; // Initial only
  let p = 5;
  const dcidLen = datagram[p]!;
  if (dcidLen > 20 || p + 1 + dcidLen >= datagram.length) return null;
  const dcid = datagram.subarray(p + 1, p + 1 + dcidLen);
  p += 1 + dcidLen;
  const scidLen = datagram[p]!;
  if (scidLen > 20) return null;
  p += 1 + scidLen;
  const token = readVarint(datagram, p);
  if (token === null) return null;
  p = token.next + token.value;
  const length = readVarint(datagram, p);
  if (length === null) return null;
  const pnOffset = length.next;
  const end = pnOffset + length.value;
  if (end > datagram.length || pnOffset + 4 + 16 > end) return null;

  const keys = clientInitialKeys(dcid, version);
  const sample = datagram.subarray(pnOffset + 4, pnOffset + 20);
  const ecb = crypto.createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(sample);
  const header = Buffer.from(datagram.subarray(0, pnOffset + 4));
  header[0] = first ^ (mask[0]! & 0x0f);
  const pnLen = (header[0]! & 0x03) + 1;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    header[pnOffset + i] = header[pnOffset + i]! ^ mask[1 + i]!;
    pn = pn * 256 + header[pnOffset + i]!;
  }
  const aad = header.subarray(0, pnOffset + pnLen);
  const body = datagram.subarray(pnOffset + pnLen, end);
  if (body.length < 16) return null;
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i] = nonce[11 - i]! ^ (Math.floor(pn / 2 ** (8 * i)) & 0xff);
  let plain: Buffer;
  try {
    const gcm = crypto.createDecipheriv('aes-128-gcm', keys.key, nonce);
    gcm.setAAD(aad);
    gcm.setAuthTag(body.subarray(body.length - 16));
    plain = Buffer.concat([gcm.update(body.subarray(0, body.length - 16)), gcm.final()]);
  } catch {
    return null;
  }
  return { dcid: Buffer.from(dcid), frames: cryptoFramesOf(plain) };
}

/** The CRYPTO frames of a decrypted Initial payload (PADDING, PING and ACK skipped; anything else ends the walk). */
export function cryptoFramesOf(plain: Buffer): CryptoFrame[] {
  const frames: CryptoFrame[] = [];
  let p = 0;
  while (p < plain.length) {
    const type = plain[p]!;
    if (type === 0x00 || type === 0x01) {
      p++;
      continue;
    }
    if (type === 0x06) {
      const off = readVarint(plain, p + 1);
      const len = off && readVarint(plain, off.next);
      if (!off || !len || len.next + len.value > plain.length) break;
      frames.push({ offset: off.value, data: Buffer.from(plain.subarray(len.next, len.next + len.value)) });
      p = len.next + len.value;
      continue;
    }
    if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then ranges (and ECN counts for 0x03).
      let q = p + 1;
      const fields: number[] = [];
      for (let i = 0; i < 4; i++) {
        const v = readVarint(plain, q);
        if (!v) return frames;
        fields.push(v.value);
        q = v.next;
      }
      const more = fields[2]! * 2 + (type === 0x03 ? 3 : 0);
      for (let i = 0; i < more; i++) {
        const v = readVarint(plain, q);
        if (!v) return frames;
        q = v.next;
      }
      p = q;
      continue;
    }
    break;
  }
  return frames;
}

/** The ClientHello carried by one connection's CRYPTO frames, put together by offset across packets. */
export class QuicHello {
  private readonly frames: CryptoFrame[] = [];
  private bytes = 0;

  add(frames: readonly CryptoFrame[]): void {
    for (const f of frames) {
      if (this.bytes > 32_768 || f.offset > 32_768) return;
      this.frames.push(f);
      this.bytes += f.data.length;
    }
  }

  result(): HelloResult {
    const sorted = [...this.frames].sort((a, b) => a.offset - b.offset);
    const parts: Buffer[] = [];
    let end = 0;
    for (const f of sorted) {
      if (f.offset > end) break;
      const from = end - f.offset;
      if (from < f.data.length) {
        parts.push(f.data.subarray(from));
        end += f.data.length - from;
      }
    }
    const stream = Buffer.concat(parts);
    if (stream.length < 4) return { status: 'need-more' };
    if (stream[0] !== 0x01) return { status: 'not-tls' };
    const need = 4 + stream.readUIntBE(1, 3);
    if (need > 32_768) return { status: 'not-tls' };
    if (stream.length < need) return { status: 'need-more' };
    const name = serverNameOf(stream.subarray(4, need));
    if (name === undefined) return { status: 'not-tls' };
    return name === null ? { status: 'no-name' } : { status: 'name', serverName: name };
  }
}
