import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { PacketClassifier } from '../../src/flows/packet-classifier.js';
import { QuicHello, clientInitialKeys, decryptInitial } from '../../src/flows/quic.js';
import { clientHelloMessage } from '../helpers/tls-hello.js';

const varint = (n: number) => (n < 64 ? Buffer.from([n]) : n < 16384 ? Buffer.from([0x40 | (n >> 8), n & 0xff]) : Buffer.from([0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]));

/** A client Initial as a client sends it: CRYPTO frames + PADDING to 1200 bytes, AEAD-sealed, header protected. */
function sealInitial(dcid: Buffer, pn: number, frames: { offset: number; data: Buffer }[], version = 1): Buffer {
  const keys = clientInitialKeys(dcid, version);
  let plain = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([0x06]), varint(f.offset), varint(f.data.length), f.data])));
  const pnLen = 2;
  const headerFixed = (len: number) =>
    Buffer.concat([Buffer.from([0xc0 | ((version === 1 ? 0 : 1) << 4) | (pnLen - 1)]), Buffer.from([version >>> 24, (version >> 16) & 0xff, (version >> 8) & 0xff, version & 0xff]), Buffer.from([dcid.length]), dcid, Buffer.from([0]), varint(0), Buffer.from([0x40 | (len >> 8), len & 0xff])]);
  const pad = Math.max(0, 1200 - (headerFixed(0).length + pnLen + plain.length + 16));
  plain = Buffer.concat([plain, Buffer.alloc(pad)]);
  const header = Buffer.concat([headerFixed(pnLen + plain.length + 16), Buffer.from([pn >> 8, pn & 0xff])]);
  const nonce = Buffer.from(keys.iv);
  nonce[11] = nonce[11]! ^ (pn & 0xff);
  nonce[10] = nonce[10]! ^ ((pn >> 8) & 0xff);
  const gcm = crypto.createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const sealed = Buffer.concat([gcm.update(plain), gcm.final(), gcm.getAuthTag()]);
  const packet = Buffer.concat([header, sealed]);
  const pnOffset = header.length - pnLen;
  const mask = crypto.createCipheriv('aes-128-ecb', keys.hp, null).update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0] = packet[0]! ^ (mask[0]! & 0x0f);
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i] = packet[pnOffset + i]! ^ mask[1 + i]!;
  return packet;
}

test('clientInitialKeys derives the keys of RFC 9001 appendix A.1', () => {
  const keys = clientInitialKeys(Buffer.from('8394c8f03e515708', 'hex'));
  assert.equal(keys.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(keys.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(keys.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
});

test('decryptInitial opens a sealed client Initial and refuses one with a flipped byte', () => {
  const dcid = crypto.randomBytes(8);
  const hello = clientHelloMessage({ serverName: 'www.youtube.com', keyShareBytes: 32 });
  const packet = sealInitial(dcid, 0, [{ offset: 0, data: hello }]);
  const opened = decryptInitial(packet);
  assert.ok(opened !== null);
  assert.deepEqual(opened.frames, [{ offset: 0, data: hello }]);
  const broken = Buffer.from(packet);
  broken[broken.length - 30] = broken[broken.length - 30]! ^ 1;
  assert.equal(decryptInitial(broken), null);
});

test('QuicHello names a post-quantum hello spread over two Initials, frames out of order', () => {
  const dcid = crypto.randomBytes(8);
  const hello = clientHelloMessage({ serverName: 'meet.google.com', sniLast: true });
  assert.ok(hello.length > 1200);
  const a = hello.subarray(0, 600);
  const b = hello.subarray(600, 1100);
  const c = hello.subarray(1100);
  const p1 = sealInitial(dcid, 0, [{ offset: 600, data: b }, { offset: 0, data: a }]);
  const p2 = sealInitial(dcid, 1, [{ offset: 1100, data: c }]);
  const q = new QuicHello();
  q.add(decryptInitial(p1)!.frames);
  assert.deepEqual(q.result(), { status: 'need-more' });
  q.add(decryptInitial(p2)!.frames);
  assert.deepEqual(q.result(), { status: 'name', serverName: 'meet.google.com' });
});

test('decryptInitial reads QUIC version 2 Initials too', () => {
  const dcid = crypto.randomBytes(8);
  const hello = clientHelloMessage({ serverName: 'v2.example.net', keyShareBytes: 32 });
  const opened = decryptInitial(sealInitial(dcid, 3, [{ offset: 0, data: hello }], 0x6b3343cf));
  assert.ok(opened !== null);
  assert.deepEqual(opened.frames[0]!.data, hello);
});

test('PacketClassifier names a QUIC flow from its UDP/443 datagrams', () => {
  const dcid = crypto.randomBytes(8);
  const hello = clientHelloMessage({ serverName: 'rr1.googlevideo.com', sniLast: true });
  const dgrams = [sealInitial(dcid, 0, [{ offset: 0, data: hello.subarray(0, 1000) }]), sealInitial(dcid, 1, [{ offset: 1000, data: hello.subarray(1000) }])];
  const names: string[] = [];
  const pc = new PacketClassifier({ onDns: () => undefined, onServerName: (key, name, protocol) => names.push(`${key} ${name} ${protocol}`) });
  for (const d of dgrams) pc.handle(ipv4Udp('10.0.0.5', 50000, '142.250.1.1', 443, d), 0);
  assert.deepEqual(names, ['17|10.0.0.5|50000|142.250.1.1|443 rr1.googlevideo.com quic']);
});

function ipv4Udp(src: string, sport: number, dst: string, dport: number, payload: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}
