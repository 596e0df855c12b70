import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { StreamStart, parseClientHello } from '../../src/flows/sni.js';
import { clientHelloRecords } from '../helpers/tls-hello.js';

/** The bytes Node's own TLS client sends first (a real ClientHello, recorded from a socket on loopback). */
async function recordNodeHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          resolve(buf);
          s.destroy();
        }
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const bytes = await got;
  client.destroy();
  server.close();
  return bytes;
}

test('parseClientHello reads the server name from a real Node ClientHello', async () => {
  const hello = await recordNodeHello('rr3.sn-npq.googlevideo.com');
  assert.deepEqual(parseClientHello(hello), { status: 'name', serverName: 'rr3.sn-npq.googlevideo.com' });
});

test('parseClientHello skips GREASE extensions and a post-quantum sized key share', () => {
  const hello = clientHelloRecords({ serverName: 'zoom.us', sniLast: true });
  assert.ok(hello.length > 1500, `a hello over one segment (${hello.length} B)`);
  assert.deepEqual(parseClientHello(hello), { status: 'name', serverName: 'zoom.us' });
});

test('parseClientHello asks for more on every prefix of a hello, then names it', () => {
  const hello = clientHelloRecords({ serverName: 'dl.steamcontent.com', sniLast: true });
  for (const cut of [1, 4, 5, 9, 100, 1448, hello.length - 1]) assert.deepEqual(parseClientHello(hello.subarray(0, cut)), { status: 'need-more' }, `cut at ${cut}`);
  assert.equal(parseClientHello(hello).status, 'name');
});

test('parseClientHello joins a handshake fragmented over several TLS records', () => {
  const hello = clientHelloRecords({ serverName: 'video.example.org', recordBytes: 300 });
  assert.deepEqual(parseClientHello(hello), { status: 'name', serverName: 'video.example.org' });
});

test('parseClientHello says no-name for a hello without server_name, and not-tls for other bytes', () => {
  assert.deepEqual(parseClientHello(clientHelloRecords({ serverName: null, keyShareBytes: 32 })), { status: 'no-name' });
  assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), { status: 'not-tls' });
  assert.deepEqual(parseClientHello(Buffer.from([0x17, 0x03, 0x03, 0, 5, 1, 2, 3, 4, 5])), { status: 'not-tls' });
});

test('parseClientHello refuses a server name that is not a host name', () => {
  const bad = clientHelloRecords({ serverName: 'a b\u0000c', keyShareBytes: 32 });
  assert.deepEqual(parseClientHello(bad), { status: 'not-tls' });
});

test('StreamStart puts segments back in order: a hello split over two segments arriving reversed', () => {
  const hello = clientHelloRecords({ serverName: 'split.voice.example', sniLast: true });
  const isn = 0xfffffff0; // the stream's bytes wrap past 2^32
  const s = new StreamStart();
  s.add(isn, 0x02, Buffer.alloc(0)); // SYN
  const first = hello.subarray(0, 1448);
  const second = hello.subarray(1448);
  s.add((isn + 1 + 1448) >>> 0, 0x18, second);
  assert.deepEqual(parseClientHello(s.contiguous()), { status: 'need-more' }, 'a gap: the first segment is missing');
  s.add((isn + 1) >>> 0, 0x10, first);
  s.add((isn + 1) >>> 0, 0x10, first); // a retransmission changes nothing
  assert.deepEqual(s.contiguous(), hello);
  assert.deepEqual(parseClientHello(s.contiguous()), { status: 'name', serverName: 'split.voice.example' });
});

test('StreamStart without the SYN starts at the earliest segment and handles an overlap', () => {
  const hello = clientHelloRecords({ serverName: 'x.example', keyShareBytes: 1216 });
  const s = new StreamStart();
  s.add(1000, 0x10, hello.subarray(0, 800));
  s.add(1000 + 700, 0x10, hello.subarray(700)); // overlaps 100 bytes
  assert.deepEqual(s.contiguous(), hello);
});
