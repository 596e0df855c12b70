/**
 * Issue #9: the netlink set-element codec on bytes recorded from the real kernel (6.18, a namespace of its own:
 * test/helpers/nft-sets-child.ts, loopback datagrams counted into the netpulse sets), plus built bytes for
 * what the recording lacks (NFTA_SET_ELEM_EXPRESSIONS, counters past 2^53) and the IPv6 text nft prints.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, nested, nfgenmsg } from '../../src/shared/netlink-attrs.js';
import { formatIpv6, getSetElemRequest, getTableRequest, nftMsgType, parseSetElemMessage, parseTableHandle, NFT_MSG_GETSETELEM } from '../../src/flows/nft-netlink.js';
import type { SetElement, SetName } from '../../src/flows/nft-plan.js';

/** NFT_MSG_NEWSETELEM payloads (after the nlmsghdr) of one dump per set; the last of each is the empty tail. */
const RECORDED: Record<SetName, string[]> = {
  rx4: [
    '010000030d0001006e657470756c736500000000080002007278340094000300480001000c000100080001000a0102032c0007000c000100636f756e746572001c0002000c00010000000000000000600c00020000000000000000020c0005000000000005265be8480001000c000100080001007f0000012c0007000c000100636f756e746572001c0002000c00010000000000000000260c00020000000000000000010c0005000000000005265be8',
    '010000030d0001006e657470756c736500000000080002007278340004000300',
  ],
  tx4: [
    '010000030d0001006e657470756c7365000000000800020074783400ac000300540001000c000100080001000a0102032c0007000c000100636f756e746572001c0002000c00010000000000000000600c00020000000000000000020c000400000000000036ee800c000500000000000036ee64540001000c000100080001007f0000012c0007000c000100636f756e746572001c0002000c00010000000000000000260c00020000000000000000010c000400000000000036ee800c000500000000000036ee64',
    '010000030d0001006e657470756c736500000000080002007478340004000300',
  ],
  rx6: [
    '010000030d0001006e657470756c736500000000080002007278360054010300540001001800010014000100000000000000000000000000000000012c0007000c000100636f756e746572001c0002000c00010000000000000000ea0c00020000000000000000030c0005000000000005265be854000100180001001400010020010db80000000000010000000000012c0007000c000100636f756e746572001c0002000c00010000000000000001ea0c00020000000000000000050c0005000000000005265be854000100180001001400010020010db800aa00bb00cc00dd00ee00ff2c0007000c000100636f756e746572001c0002000c00010000000000000002880c00020000000000000000060c0005000000000005265be854000100180001001400010020010db80000000000000000000000012c0007000c000100636f756e746572001c0002000c00010000000000000001600c00020000000000000000040c0005000000000005265be8',
    '010000030d0001006e657470756c736500000000080002007278360004000300',
  ],
  tx6: [
    '010000030d0001006e657470756c736500000000080002007478360004000300',
  ],
};

/** What parseTableListing(libnftables) said of the same table a moment later (sorted by set, address). */
const LIBNFTABLES: SetElement[] = [
  { set: 'rx4', address: '10.1.2.3', bytes: 96n, packets: 2n, expiresSec: 86399 },
  { set: 'rx4', address: '127.0.0.1', bytes: 38n, packets: 1n, expiresSec: 86399 },
  { set: 'rx6', address: '2001:db8::1', bytes: 352n, packets: 4n, expiresSec: 86399 },
  { set: 'rx6', address: '2001:db8::1:0:0:1', bytes: 490n, packets: 5n, expiresSec: 86399 },
  { set: 'rx6', address: '2001:db8:aa:bb:cc:dd:ee:ff', bytes: 648n, packets: 6n, expiresSec: 86399 },
  { set: 'rx6', address: '::1', bytes: 234n, packets: 3n, expiresSec: 86399 },
  { set: 'tx4', address: '10.1.2.3', bytes: 96n, packets: 2n, expiresSec: 3599 },
  { set: 'tx4', address: '127.0.0.1', bytes: 38n, packets: 1n, expiresSec: 3599 },
];

const byKey = (a: SetElement, b: SetElement) => (a.set + a.address < b.set + b.address ? -1 : 1);

test('recorded NEWSETELEM messages decode to the elements libnftables listed', () => {
  const got: SetElement[] = [];
  for (const [set, msgs] of Object.entries(RECORDED)) for (const hex of msgs) parseSetElemMessage(set as SetName, Buffer.from(hex, 'hex'), got);
  got.sort(byKey);
  assert.deepEqual(got.map(({ expiresSec: _, ...e }) => e), LIBNFTABLES.map(({ expiresSec: _, ...e }) => e));
  // Expiry is read a moment apart by the two readers: within a second or two of nft's.
  for (const [i, e] of got.entries()) assert.ok(Math.abs((e.expiresSec ?? -99) - (LIBNFTABLES[i]!.expiresSec ?? 0)) <= 2, e.address);
});

function be64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}
const counterExpr = (type: number, bytes: bigint, packets: bigint) =>
  nested(type, [attr(1, Buffer.from('counter\0')), nested(2, [attr(1, be64(bytes)), attr(2, be64(packets))])]);
const message = (elems: Buffer[]) => Buffer.concat([nfgenmsg(1), attr(1, Buffer.from('netpulse\0')), attr(2, Buffer.from('rx6\0')), nested(3, elems)]);
const key = (addr: Buffer) => nested(1, [attr(1, addr)]);

test('counters past 2^53 stay exact; NFTA_SET_ELEM_EXPRESSIONS (11) is read too; elements without a counter are skipped', () => {
  const big = 2n ** 63n + 12345n;
  const addr = Buffer.from('20010db8000000000000000000000001', 'hex');
  const msg = message([
    nested(1, [key(addr), counterExpr(7, big, 2n ** 53n + 1n)]),
    nested(1, [key(Buffer.from('fe800000000000000000000000000002', 'hex')), nested(11, [nested(1, [attr(1, Buffer.from('limit\0'))]), counterExpr(1, 5n, 1n)])]),
    nested(1, [key(Buffer.from('fe800000000000000000000000000003', 'hex'))]),
  ]);
  assert.deepEqual(parseSetElemMessage('rx6', msg), [
    { set: 'rx6', address: '2001:db8::1', bytes: big, packets: 2n ** 53n + 1n, expiresSec: null },
    { set: 'rx6', address: 'fe80::2', bytes: 5n, packets: 1n, expiresSec: null },
  ]);
});

// Expected texts checked against glibc's inet_ntop (Python's socket.inet_ntop) on this machine.
test('IPv6 text is what inet_ntop (and so nft) prints', () => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010db800aa00bb00cc00dd00ee00ff', '2001:db8:aa:bb:cc:dd:ee:ff'],
    ['20010db8000100000001000000010000', '2001:db8:1:0:1:0:1:0'],
    ['00000000000000000000ffff0a000001', '::ffff:10.0.0.1'],
    ['fe800000000000000000000000000000', 'fe80::'],
    ['00000000000000000000000000000002', '::2'],
    ['0000000000000000000000000a000001', '::10.0.0.1'],
  ];
  for (const [hex, text] of cases) assert.equal(formatIpv6(Buffer.from(hex, 'hex')), text, hex);
});

test('requests carry the table and set names; the table answer yields its handle', () => {
  assert.equal(nftMsgType(NFT_MSG_GETSETELEM), (10 << 8) | 13);
  const req = getSetElemRequest('tx4');
  assert.equal(req.subarray(0, 4).toString('hex'), '01000000');
  assert.ok(req.includes(Buffer.from('netpulse\0')) && req.includes(Buffer.from('tx4\0')));
  assert.ok(getTableRequest().includes(Buffer.from('netpulse\0')));
  const answer = Buffer.concat([nfgenmsg(1), attr(1, Buffer.from('netpulse\0')), attr(4, be64(42n))]);
  assert.equal(parseTableHandle(answer), 42);
  assert.equal(parseTableHandle(nfgenmsg(1)), null);
});
