import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createProcNetDevParser, parseProcNetDev } from '../../src/collector/proc-net-dev.js';
import { formatProcNetDev } from '../helpers/fixture-tree.js';

const capture = (name: string): string =>
  readFileSync(new URL(`../fixtures/proc-net-dev/${name}`, import.meta.url), 'utf8');

test('parseProcNetDev maps the kernel columns onto the eight counters', () => {
  const text = formatProcNetDev([
    [
      'eth0',
      {
        rxBytes: 1n, rxPackets: 2n, rxErrors: 3n, rxDrops: 4n, rxFifo: 5n, rxFrame: 6n, rxCompressed: 7n, rxMulticast: 8n,
        txBytes: 9n, txPackets: 10n, txErrors: 11n, txDrops: 12n, txFifo: 13n, txCollisions: 14n, txCarrier: 15n, txCompressed: 16n,
      },
    ],
  ]);
  assert.deepEqual(parseProcNetDev(text).get('eth0'), {
    rxBytes: 1n, rxPackets: 2n, rxErrors: 3n, rxDrops: 4n,
    txBytes: 9n, txPackets: 10n, txErrors: 11n, txDrops: 12n,
  });
});

test('parseProcNetDev reads every interface of a laptop capture in file order', () => {
  const text = readFileSync(new URL('../fixtures/laptop/proc/net/dev', import.meta.url), 'utf8');
  const parsed = parseProcNetDev(text);
  assert.deepEqual([...parsed.keys()], ['lo', 'enp0s31f6', 'wlan0', 'docker0', 'br-1a2b3c4d5e6f', 'veth1a2b3c4']);
  assert.equal(parsed.get('wlan0')?.rxBytes, 4823115402n);
  assert.equal(parsed.get('wlan0')?.rxDrops, 1843n);
  assert.equal(parsed.get('docker0')?.txDrops, 2n);
});

test('parseProcNetDev keeps counters above 2^53 exact up to 2^64-1', () => {
  const eth0 = parseProcNetDev(capture('huge-counters.txt')).get('eth0');
  assert.equal(eth0?.rxBytes, 18446744073709551615n);
  assert.equal(eth0?.rxPackets, 9007199254740993n);
  assert.equal(eth0?.txBytes, 9007199254740993n);
  assert.equal(eth0?.txPackets, 18446744073709551614n);
  assert.equal(typeof eth0?.rxBytes, 'bigint');
});

test('parseProcNetDev reads counters glued to the colon in the old kernel layout', () => {
  const parsed = parseProcNetDev(capture('old-kernel-glued-colon.txt'));
  assert.deepEqual([...parsed.keys()], ['lo', 'eth0', 'wlan0']);
  assert.equal(parsed.get('lo')?.rxBytes, 14231882n);
  assert.equal(parsed.get('eth0')?.rxBytes, 18446744073709551615n);
  assert.equal(parsed.get('eth0')?.rxPackets, 4294967296n);
  assert.equal(parsed.get('eth0')?.txBytes, 123456789012n);
});

test('parseProcNetDev reads 15-byte names wider than the 6-column padding', () => {
  const parsed = parseProcNetDev(capture('long-names.txt'));
  assert.deepEqual([...parsed.keys()], ['veth1a2b3c4', 'br-1a2b3c4d5e6f', 'wlp0s20f3']);
  assert.equal(parsed.get('br-1a2b3c4d5e6f')?.txBytes, 2097152n);
});

test('parseProcNetDev skips malformed lines and keeps the good ones', () => {
  const parsed = parseProcNetDev(capture('malformed-lines.txt'));
  // Skipped: 15 and 17 columns, a word, a negative, 2^64, no name, no colon, a fraction, a truncated line.
  assert.deepEqual([...parsed.keys()], ['lo', 'eth0']);
  assert.equal(parsed.get('eth0')?.rxBytes, 224642662n);
});

test('parseProcNetDev splits the name at the last colon before the counters', () => {
  const parsed = parseProcNetDev('  odd:name: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n');
  assert.equal(parsed.get('odd:name')?.txBytes, 9n);
});

test('parseProcNetDev returns an empty map for empty text or headers only', () => {
  assert.equal(parseProcNetDev('').size, 0);
  assert.equal(parseProcNetDev(formatProcNetDev([])).size, 0);
});

test('parseProcNetDev accepts CRLF line ends and a missing final newline', () => {
  const parsed = parseProcNetDev('lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\r\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16');
  assert.deepEqual([...parsed.keys()], ['lo', 'eth0']);
});

test('parseProcNetDev keeps the first line of a name listed twice', () => {
  const parsed = parseProcNetDev(formatProcNetDev([['eth0', { rxBytes: 1n }], ['eth0', { rxBytes: 2n }]]));
  assert.equal(parsed.get('eth0')?.rxBytes, 1n);
});

test('parseProcNetDev separates columns by what a regular expression calls whitespace, no more', () => {
  const line = (gap: string) => `eth0:1${gap}2 3 4 5 6 7 8 9 10 11 12 13 14 15 16`;
  for (const gap of ['\t', '\u00a0', '\u2003', '\u3000', '\ufeff']) assert.equal(parseProcNetDev(line(gap)).get('eth0')?.rxPackets, 2n, JSON.stringify(gap));
  for (const gap of ['\u200b', '\u0085', '\u180e', '_']) assert.equal(parseProcNetDev(line(gap)).size, 0, JSON.stringify(gap));
});

test('createProcNetDevParser gives the same counters object again for a line that did not change', () => {
  const parser = createProcNetDevParser();
  const text = formatProcNetDev([['lo', { rxBytes: 10n }], ['eth0', { rxBytes: 500n, txBytes: 70n }]]);
  const first = parser.parse(text);
  const changed = formatProcNetDev([['lo', { rxBytes: 10n }], ['eth0', { rxBytes: 900n, txBytes: 70n }]]);
  const second = parser.parse(changed);
  assert.equal(second[0]?.counters, first[0]?.counters, 'lo did not change: same object');
  assert.notEqual(second[1]?.counters, first[1]?.counters);
  assert.deepEqual(second[1]?.counters, { rxBytes: 900n, txBytes: 70n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });
});

test('createProcNetDevParser reads what parseProcNetDev reads as lines change, appear, vanish, move and break', () => {
  const parser = createProcNetDevParser();
  const texts = [
    formatProcNetDev([['lo', { rxBytes: 1n }], ['eth0', { rxBytes: 2n }], ['eth1', { rxBytes: 3n }]]),
    formatProcNetDev([['lo', { rxBytes: 1n }], ['eth1', { rxBytes: 3n }]]),
    formatProcNetDev([['eth1', { rxBytes: 3n }], ['lo', { rxBytes: 1n }], ['eth0', { rxBytes: 18446744073709551615n, rxPackets: 9007199254740993n }]]),
    formatProcNetDev([['eth1', { rxBytes: 4n }], ['lo', { rxBytes: 1n }], ['eth0', { rxBytes: 5n, rxPackets: 9007199254740993n }]]),
    capture('malformed-lines.txt'),
    formatProcNetDev([['eth0', { rxBytes: 1n }], ['eth0', { rxBytes: 2n }]]),
    '',
    capture('old-kernel-glued-colon.txt'),
  ];
  for (const text of [...texts, ...texts.reverse()]) {
    assert.deepEqual(
      parser.parse(text).map((entry) => [entry.name, entry.counters]),
      [...parseProcNetDev(text)],
    );
  }
});
