/** Issue #9, the pure parts of per-host totals: prefixes, the nft plan and its listing, element deltas, names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalAddress, parseCidr } from '../../src/config/cidr.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import type { CounterState } from '../../src/collector/deltas.js';
import { computeHostDeltas } from '../../src/flows/host-deltas.js';
import { hostIdOf, parseEtcHosts, parseIpNeighJson, parseLeases, parseProcNetArp } from '../../src/flows/host-names.js';
import { buildTablePlan, parseTableListing, type SetElement } from '../../src/flows/nft-plan.js';
import { hasNetAdmin } from '../../src/flows/probe.js';

test('parseCidr clears host bits and writes the canonical form; bad prefixes name the problem', () => {
  assert.equal(parseCidr('192.168.1.77/16').text, '192.168.0.0/16');
  assert.equal(parseCidr('FC00:0:0::1/7').text, 'fc00::/7');
  assert.equal(parseCidr('fe80::/10').family, 6);
  assert.throws(() => parseCidr('10.0.0.0'), /no prefix length/);
  assert.throws(() => parseCidr('10.0.0.0/33'), /0–32/);
  assert.throws(() => parseCidr('10.0.0/8'), /not an IPv4 or IPv6 address/);
  assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalAddress('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(canonicalAddress('host'), null);
});

test('loadConfig: flows are off by default with the private ranges as LAN; bad values stop with the variable named', () => {
  const c = loadConfig({});
  assert.equal(c.flows.enabled, false);
  assert.equal(c.flows.classify, false);
  assert.deepEqual(c.flows.lanCidrs.map((x) => x.text), ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fe80::/10']);
  assert.equal(c.flows.retentionDays, 7);
  assert.equal(c.flows.leasesPath, null);
  const on = loadConfig({ NETPULSE_FLOWS: 'on', NETPULSE_CLASSIFY: 'ON', NETPULSE_LAN_CIDRS: '192.168.1.0/24, fd00::/8', NETPULSE_DHCP_LEASES: '/var/lib/misc/dnsmasq.leases', NETPULSE_FLOW_RETENTION_DAYS: '30' });
  assert.equal(on.flows.enabled, true);
  assert.equal(on.flows.classify, true);
  assert.deepEqual(on.flows.lanCidrs.map((x) => x.text), ['192.168.1.0/24', 'fd00::/8']);
  assert.equal(on.flows.leasesPath, '/var/lib/misc/dnsmasq.leases');
  assert.equal(on.flows.retentionDays, 30);
  assert.throws(() => loadConfig({ NETPULSE_FLOWS: 'maybe' }), (e: unknown) => e instanceof ConfigError && e.variable === 'NETPULSE_FLOWS');
  assert.throws(() => loadConfig({ NETPULSE_LAN_CIDRS: '192.168.1.0/24,nonsense/8' }), (e: unknown) => e instanceof ConfigError && e.variable === 'NETPULSE_LAN_CIDRS');
  assert.throws(() => loadConfig({ NETPULSE_FLOW_RETENTION_DAYS: '0' }), (e: unknown) => e instanceof ConfigError && e.variable === 'NETPULSE_FLOW_RETENTION_DAYS');
});

test('buildTablePlan: router mode counts LAN addresses in the forward hook, host mode remote peers in input/output, one transaction', () => {
  const lan = [parseCidr('192.168.0.0/16'), parseCidr('fd00::/8')];
  const router = buildTablePlan('router', lan).script;
  assert.match(router, /^table inet netpulse \{\}\ndelete table inet netpulse\ntable inet netpulse \{/);
  assert.match(router, /hook forward/);
  assert.match(router, /ip daddr \{ 192\.168\.0\.0\/16 \} update @rx4 \{ ip daddr counter \}/);
  assert.match(router, /ip6 saddr \{ fd00::\/8 \} update @tx6 \{ ip6 saddr counter \}/);
  assert.doesNotMatch(router, /flush ruleset|hook input/);
  const host = buildTablePlan('host', lan).script;
  assert.match(host, /hook input[\s\S]*iif "lo" return[\s\S]*update @tx4 \{ ip saddr counter \}/);
  assert.match(host, /hook output[\s\S]*oif "lo" return[\s\S]*update @rx4 \{ ip daddr counter \}/);
  const v4only = buildTablePlan('router', [parseCidr('10.0.0.0/8')]).script;
  assert.doesNotMatch(v4only, /ip6 (s|d)addr/);
});

/** Recorded from nft 1.0.6 (`nft -j list table inet netpulse`), one counter raised past 2^53. */
const LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'netpulse', handle: 7 } },
    { set: { family: 'inet', name: 'rx4', table: 'netpulse', type: 'ipv4_addr', handle: 3, size: 65536, flags: ['timeout'], timeout: 86400, elem: [{ elem: { val: '10.9.0.10', expires: 86399, counter: { packets: 4, bytes: 768 } } }] } },
    { set: { family: 'inet', name: 'tx4', table: 'netpulse', type: 'ipv4_addr', handle: 4, size: 65536, flags: ['timeout'], timeout: 86400, elem: [{ elem: { val: '10.9.0.10', expires: 86000, counter: { packets: 12, bytes: 'BIG' } } }] } },
    { chain: { family: 'inet', table: 'netpulse', name: 'forward', handle: 1, type: 'filter', hook: 'forward', prio: 100, policy: 'accept' } },
    { rule: { family: 'inet', table: 'netpulse', chain: 'forward', handle: 6, expr: [{ set: { op: 'update', elem: { payload: { protocol: 'ip', field: 'daddr' } }, set: '@rx4', stmt: [{ counter: null }] } }] } },
  ],
}).replace('"BIG"', '9007199254740993');

test('parseTableListing reads every element with exact 64-bit counters; the fingerprint ignores handles and elements but not rules', () => {
  const l = parseTableListing(LISTING)!;
  assert.equal(l.handle, 7);
  assert.deepEqual(l.elements, [
    { set: 'rx4', address: '10.9.0.10', bytes: 768n, packets: 4n, expiresSec: 86399 },
    { set: 'tx4', address: '10.9.0.10', bytes: 9007199254740993n, packets: 12n, expiresSec: 86000 },
  ]);
  const moreTraffic = parseTableListing(LISTING.replace('"bytes":768', '"bytes":1768').replace('"handle":6', '"handle":9'))!;
  assert.equal(moreTraffic.fingerprint, l.fingerprint);
  const otherRule = parseTableListing(LISTING.replace('"field":"daddr"', '"field":"saddr"'))!;
  assert.notEqual(otherRule.fingerprint, l.fingerprint);
  assert.equal(parseTableListing(JSON.stringify({ nftables: [{ metainfo: {} }] })), null);
});

const el = (set: SetElement['set'], address: string, bytes: bigint, packets: bigint): SetElement => ({ set, address, bytes, packets, expiresSec: null });
const BOOT = 'boot-1';

function afterReading(elements: SetElement[], prev: CounterState | null, timeMs: number) {
  return computeHostDeltas(prev, elements, timeMs, BOOT);
}

test('computeHostDeltas: a new table counts every element from zero, then the growth, both directions per address', () => {
  const fresh: CounterState = { timeMs: 1000, bootId: BOOT, interfaces: new Map() };
  const a = afterReading([el('rx4', '10.0.0.5', 1500n, 3n), el('tx4', '10.0.0.5', 400n, 4n)], fresh, 31_000);
  assert.equal(a.baseline, false);
  assert.deepEqual(a.deltas, [{ address: '10.0.0.5', startMs: 1000, endMs: 31_000, rxBytes: 1500n, txBytes: 400n, rxPackets: 3n, txPackets: 4n }]);
  const b = afterReading([el('rx4', '10.0.0.5', 2500n, 5n), el('tx4', '10.0.0.5', 400n, 4n)], a.next, 61_000);
  assert.deepEqual(b.deltas, [{ address: '10.0.0.5', startMs: 31_000, endMs: 61_000, rxBytes: 1000n, txBytes: 0n, rxPackets: 2n, txPackets: 0n }]);
  const c = afterReading([el('rx4', '10.0.0.5', 2500n, 5n), el('tx4', '10.0.0.5', 400n, 4n)], b.next, 91_000);
  assert.deepEqual(c.deltas, [], 'nothing moved: no delta');
});

test('computeHostDeltas: an element that timed out and came back counts from zero, whether seen missing or smaller', () => {
  const start: CounterState = { timeMs: 0, bootId: BOOT, interfaces: new Map() };
  const a = afterReading([el('rx4', '10.0.0.5', 5000n, 10n)], start, 30_000);
  // Came back smaller between two reads (bytes down, packets up: still a new element, never a wrap).
  const b = afterReading([el('rx4', '10.0.0.5', 900n, 15n)], a.next, 60_000);
  assert.equal(b.deltas[0]!.rxBytes, 900n);
  assert.equal(b.deltas[0]!.rxPackets, 15n);
  // Missing at one read (timed out) and back at the next, larger than ever: from zero.
  const c = afterReading([], b.next, 90_000);
  assert.deepEqual(c.deltas, []);
  const d = afterReading([el('rx4', '10.0.0.5', 70_000n, 50n)], c.next, 120_000);
  assert.equal(d.deltas[0]!.rxBytes, 70_000n);
});

test('computeHostDeltas: no previous state is a baseline (a table of unknown history counts nothing twice)', () => {
  const r = afterReading([el('tx6', 'fd00::5', 123n, 1n)], null, 1000);
  assert.equal(r.baseline, true);
  assert.deepEqual(r.deltas, []);
  const next = afterReading([el('tx6', 'fd00::5', 200n, 2n)], r.next, 2000);
  assert.equal(next.deltas[0]!.txBytes, 77n);
});

test('neighbour table parsers give address → MAC, skipping incomplete entries', () => {
  const arp = `IP address       HW type     Flags       HW address            Mask     Device
10.9.0.10        0x1         0x2         02:00:00:09:00:10     *        br0
10.9.0.99        0x1         0x0         00:00:00:00:00:00     *        br0
`;
  assert.deepEqual([...parseProcNetArp(arp)], [['10.9.0.10', '02:00:00:09:00:10']]);
  const neigh = JSON.stringify([
    { dst: 'fd00::10', dev: 'br0', lladdr: '02:00:00:09:00:10', state: ['REACHABLE'] },
    { dst: 'FD00:0::11', dev: 'br0', lladdr: '02:00:00:09:00:11', state: ['STALE'] },
    { dst: 'fd00::12', dev: 'br0', state: ['FAILED'] },
  ]);
  assert.deepEqual([...parseIpNeighJson(neigh)], [['fd00::10', '02:00:00:09:00:10'], ['fd00::11', '02:00:00:09:00:11']]);
  assert.deepEqual([...parseIpNeighJson('not json')], []);
});

test('parseLeases reads dnsmasq and odhcpd leases; parseEtcHosts the first name per address', () => {
  const dnsmasq = `1764633600 02:00:00:09:00:10 192.168.1.10 laptop 01:02:00:00:09:00:10
1764633600 02:00:00:09:00:11 192.168.1.11 * *
duid 00:01:00:01:2c:aa:bb:cc:dd:ee:ff:00
1764633600 1234 fd00::10 phone 00:01:00:01
`;
  assert.deepEqual(parseLeases(dnsmasq), [
    { address: '192.168.1.10', mac: '02:00:00:09:00:10', name: 'laptop' },
    { address: 'fd00::10', mac: null, name: 'phone' },
  ]);
  const odhcpd = `# br-lan 000100012caabbccddeeff00 1a2b3c4d tv 1764633600 5 128 fd00::20/128 fd00::21/128
# br-lan 020000090012 020000090012 printer 1764633600 7 32 192.168.1.12/32
`;
  assert.deepEqual(parseLeases(odhcpd), [
    { address: 'fd00::20', mac: null, name: 'tv' },
    { address: 'fd00::21', mac: null, name: 'tv' },
    { address: '192.168.1.12', mac: '02:00:00:09:00:12', name: 'printer' },
  ]);
  const hosts = parseEtcHosts(`127.0.0.1 localhost
192.168.1.30   nas nas.lan # the NAS
192.168.1.30   other
# 192.168.1.31 commented
`);
  assert.deepEqual([...hosts], [['127.0.0.1', 'localhost'], ['192.168.1.30', 'nas']]);
  assert.equal(hostIdOf('fd00::1', null), 'ip-fd00--1');
  assert.equal(hostIdOf('10.0.0.1', '02:00:00:09:00:10'), 'mac-02-00-00-09-00-10');
});

test('hasNetAdmin reads bit 12 of CapEff', () => {
  assert.equal(hasNetAdmin('Name:\tnode\nCapEff:\t0000000000001000\n'), true);
  assert.equal(hasNetAdmin('CapEff:\t000001ffffffffff\n'), true);
  assert.equal(hasNetAdmin('CapEff:\t0000000000000000\n'), false);
  assert.equal(hasNetAdmin(''), false);
});
