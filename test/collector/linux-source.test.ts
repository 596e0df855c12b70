import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InterfaceMeta } from '../../src/collector/counter-source.js';
import { createLinuxSource, parseDefaultRouteInterfaces } from '../../src/collector/linux-source.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';

const fixture = (tree: string) => ({
  procRoot: fileURLToPath(new URL(`../fixtures/${tree}/proc`, import.meta.url)),
  sysRoot: fileURLToPath(new URL(`../fixtures/${tree}/sys`, import.meta.url)),
});
const fixedNow = () => 1767268800000;
const noAddresses = () => ({});

const laptopAddresses = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  wlan0: [
    { address: '192.168.1.23', netmask: '255.255.255.0', family: 'IPv4', mac: '3c:a9:f4:52:7e:10', internal: false, cidr: '192.168.1.23/24' },
    { address: 'fe80::3ea9:f4ff:fe52:7e10', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '3c:a9:f4:52:7e:10', internal: false, cidr: 'fe80::3ea9:f4ff:fe52:7e10/64', scopeid: 3 },
  ],
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
});

function byName(metas: InterfaceMeta[]): Map<string, InterfaceMeta> {
  return new Map(metas.map((meta) => [meta.name, meta]));
}

test('readCounters reads every interface of the laptop capture with its ifindex, boot id and read time', async () => {
  const source = createLinuxSource({ ...fixture('laptop'), now: fixedNow });
  const reading = await source.readCounters();
  assert.equal(reading.timeMs, 1767268800000);
  assert.equal(reading.bootId, '3f6c1e0a-92b4-4d1f-8a7e-5c2b9d04e6a1');
  assert.deepEqual(reading.failures, []);
  assert.deepEqual(
    reading.interfaces.map(({ name, ifindex }) => [name, ifindex]),
    [['lo', 1], ['enp0s31f6', 2], ['wlan0', 3], ['docker0', 4], ['br-1a2b3c4d5e6f', 5], ['veth1a2b3c4', 7]],
  );
  const wlan0 = reading.interfaces.find((entry) => entry.name === 'wlan0');
  assert.equal(wlan0?.counters.rxBytes, 4823115402n);
  assert.equal(wlan0?.counters.txPackets, 1186533n);
});

test('readCounters keeps a server counter above 2^53 exact', async () => {
  const reading = await createLinuxSource(fixture('server')).readCounters();
  const eth0 = reading.interfaces.find((entry) => entry.name === 'eth0');
  assert.equal(eth0?.counters.rxBytes, 9007199254741111n);
  assert.equal(eth0?.counters.rxPackets, 6512339871204n);
});

test('readCounters puts an interface gone from /sys into failures and reads the others', async (t) => {
  const tree = makeFixtureTree({
    interfaces: { lo: { type: 772 }, eth0: { counters: { rxBytes: 500n } }, veth9: { virtual: true, inSys: false } },
  });
  t.after(() => tree.cleanup());
  const reading = await createLinuxSource(tree).readCounters();
  assert.deepEqual(reading.interfaces.map((entry) => entry.name), ['lo', 'eth0']);
  assert.equal(reading.failures.length, 1);
  assert.equal(reading.failures[0]?.name, 'veth9');
  assert.match(reading.failures[0]?.error ?? '', /ENOENT/);
});

test('readCounters does not touch /sys for a known interface whose counters grew', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, eth0: { ifindex: 2, counters: { rxBytes: 100n } } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  await source.readCounters();
  tree.removeFromSys('eth0');
  tree.removeFromSys('lo');
  tree.setCounters('eth0', { rxBytes: 200n });
  const reading = await source.readCounters();
  assert.deepEqual(reading.failures, []);
  assert.deepEqual(reading.interfaces.map(({ name, ifindex }) => [name, ifindex]), [['lo', 1], ['eth0', 2]]);
});

test('readCounters re-reads the ifindex when counters go down, as after a re-created interface', async (t) => {
  const tree = makeFixtureTree({ interfaces: { eth0: { ifindex: 2, counters: { rxBytes: 5000n, txBytes: 700n } } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  assert.equal((await source.readCounters()).interfaces[0]?.ifindex, 2);
  tree.setIfindex('eth0', 9);
  tree.setCounters('eth0', { rxBytes: 6000n, txBytes: 800n });
  assert.equal((await source.readCounters()).interfaces[0]?.ifindex, 2, 'counters grew: cached ifindex');
  tree.setCounters('eth0', { rxBytes: 10n, txBytes: 800n });
  assert.equal((await source.readCounters()).interfaces[0]?.ifindex, 9);
});

test('readCounters re-reads the ifindex of an interface that vanished and came back', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, veth0: { ifindex: 5, virtual: true } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  await source.readCounters();
  tree.removeInterface('veth0');
  assert.deepEqual((await source.readCounters()).interfaces.map((entry) => entry.name), ['lo']);
  tree.addInterface('veth0', { ifindex: 11, virtual: true, counters: { rxBytes: 1n } });
  const reading = await source.readCounters();
  assert.equal(reading.interfaces.find((entry) => entry.name === 'veth0')?.ifindex, 11);
});

test('readCounters reports a name that is not a valid interface name as a failure without a /sys lookup', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 } } });
  t.after(() => tree.cleanup());
  tree.writeNetDev('    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n   ../x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n');
  const reading = await createLinuxSource(tree).readCounters();
  assert.deepEqual(reading.interfaces.map((entry) => entry.name), ['lo']);
  assert.deepEqual(reading.failures.map((failure) => failure.name), ['../x']);
});

test('readCounters reads the boot id once and keeps it', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 } }, bootId: 'first-boot' });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  assert.equal((await source.readCounters()).bootId, 'first-boot');
  rmSync(`${tree.procRoot}/sys/kernel/random/boot_id`);
  assert.equal((await source.readCounters()).bootId, 'first-boot');
});

test('readCounters gives a null boot id when boot_id cannot be read', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 } }, bootId: null });
  t.after(() => tree.cleanup());
  assert.equal((await createLinuxSource(tree).readCounters()).bootId, null);
});

test('readCounters rejects with the path when /proc/net/dev cannot be read', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 } } });
  t.after(() => tree.cleanup());
  rmSync(`${tree.procRoot}/net/dev`);
  await assert.rejects(createLinuxSource(tree).readCounters(), /cannot read interface counters from .*net\/dev.*ENOENT/);
});

test('listInterfaces describes the laptop: kinds, state, speed, MAC, addresses and default route', async () => {
  const source = createLinuxSource({ ...fixture('laptop'), networkInterfaces: laptopAddresses });
  const metas = byName(await source.listInterfaces());
  assert.deepEqual([...metas.keys()], ['lo', 'enp0s31f6', 'wlan0', 'docker0', 'br-1a2b3c4d5e6f', 'veth1a2b3c4']);
  assert.deepEqual(
    [...metas.values()].map((meta) => [meta.name, meta.kind, meta.isUp, meta.isVirtual]),
    [
      ['lo', 'loopback', true, true],
      ['enp0s31f6', 'ethernet', false, false],
      ['wlan0', 'wireless', true, false],
      ['docker0', 'container', true, true],
      ['br-1a2b3c4d5e6f', 'container', false, true],
      ['veth1a2b3c4', 'container', true, true],
    ],
  );
  assert.deepEqual(metas.get('wlan0'), {
    name: 'wlan0',
    kind: 'wireless',
    ifindex: 3,
    isUp: true,
    operState: 'up',
    mtu: 1500,
    speedMbps: null,
    mac: '3c:a9:f4:52:7e:10',
    isVirtual: false,
    addresses: [
      { family: 'IPv4', address: '192.168.1.23', netmask: '255.255.255.0', cidr: '192.168.1.23/24' },
      { family: 'IPv6', address: 'fe80::3ea9:f4ff:fe52:7e10', netmask: 'ffff:ffff:ffff:ffff::', cidr: 'fe80::3ea9:f4ff:fe52:7e10/64' },
    ],
    hasDefaultRoute: true,
  });
  assert.equal(metas.get('lo')?.mac, null);
  assert.equal(metas.get('lo')?.operState, 'unknown');
  assert.equal(metas.get('enp0s31f6')?.speedMbps, null, 'speed -1 is unknown');
  assert.equal(metas.get('veth1a2b3c4')?.speedMbps, 10000);
  assert.deepEqual(
    [...metas.values()].filter((meta) => meta.hasDefaultRoute).map((meta) => meta.name),
    ['wlan0'],
  );
});

test('listInterfaces describes the server: bridge, WireGuard and tun up on unknown operstate', async () => {
  const metas = byName(await createLinuxSource({ ...fixture('server'), networkInterfaces: noAddresses }).listInterfaces());
  assert.deepEqual(
    [...metas.values()].map((meta) => [meta.name, meta.kind, meta.isUp, meta.hasDefaultRoute]),
    [
      ['lo', 'loopback', true, false],
      ['eth0', 'ethernet', true, true],
      ['br0', 'bridge', true, false],
      ['wg0', 'tunnel', true, false],
      ['tun0', 'tunnel', true, false],
    ],
  );
  assert.equal(metas.get('eth0')?.speedMbps, 1000);
  assert.equal(metas.get('wg0')?.mac, null);
  assert.equal(metas.get('wg0')?.mtu, 1420);
  assert.equal(metas.get('wg0')?.speedMbps, null);
  assert.equal(metas.get('tun0')?.speedMbps, 10);
});

test('listInterfaces counts unknown operstate as down when the interface is not administratively up', async (t) => {
  const tree = makeFixtureTree({ interfaces: { wg1: { type: 65534, virtual: true, operstate: 'unknown', flags: 0x90, carrier: null } } });
  t.after(() => tree.cleanup());
  const [wg1] = await createLinuxSource({ ...tree, networkInterfaces: noAddresses }).listInterfaces();
  assert.equal(wg1?.isUp, false);
});

test('listInterfaces leaves out an interface gone from /sys', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, veth9: { virtual: true, inSys: false } } });
  t.after(() => tree.cleanup());
  const metas = await createLinuxSource({ ...tree, networkInterfaces: noAddresses }).listInterfaces();
  assert.deepEqual(metas.map((meta) => meta.name), ['lo']);
});

test('listInterfaces finds an IPv6-only default route', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, eth0: {}, eth1: {} }, defaultRouteV6: ['eth1'] });
  t.after(() => tree.cleanup());
  const metas = await createLinuxSource({ ...tree, networkInterfaces: noAddresses }).listInterfaces();
  assert.deepEqual(metas.filter((meta) => meta.hasDefaultRoute).map((meta) => meta.name), ['eth1']);
});

test('parseDefaultRouteInterfaces takes 0/0 routes that are up and skips reject routes, lo and other prefixes', () => {
  const v4 =
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' +
    'eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n' +
    'eth2\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0\n' + // not RTF_UP
    '*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n'; // unreachable default
  const zero = '0'.repeat(32);
  const v6 =
    `${zero} 00 ${zero} 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     wlan0\n` +
    `20010db8000000000000000000000000 20 ${zero} 00 ${zero} 00000100 00000001 00000000 00000001     eth3\n` +
    `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 00200200       lo\n` +
    `${zero} 00 ${zero} 00 ${zero} 00000400 00000001 00000000 00000201     eth4\n`; // reject
  assert.deepEqual([...parseDefaultRouteInterfaces(v4, v6)], ['eth0', 'wlan0']);
  assert.deepEqual([...parseDefaultRouteInterfaces('', '')], []);
});

test('readBootTimeMs reads btime from /proc/stat in milliseconds', async () => {
  assert.equal(await createLinuxSource(fixture('laptop')).readBootTimeMs(), 1767250812000);
});

test('readBootTimeMs gives null when /proc/stat has no btime', async (t) => {
  const tree = makeFixtureTree({ interfaces: {} });
  t.after(() => tree.cleanup());
  tree.writeNetDev('');
  rmSync(`${tree.procRoot}/stat`);
  assert.equal(await createLinuxSource(tree).readBootTimeMs(), null);
});

test('readCounters on this machine\'s /proc returns lo with bigint counters and a boot id', { skip: process.platform !== 'linux' }, async () => {
  const reading = await createLinuxSource({ procRoot: '/proc', sysRoot: '/sys' }).readCounters();
  const lo = reading.interfaces.find((entry) => entry.name === 'lo');
  assert.ok(lo, 'lo is listed');
  assert.equal(lo.ifindex, 1);
  assert.equal(typeof lo.counters.rxBytes, 'bigint');
  assert.equal(typeof lo.counters.txPackets, 'bigint');
  assert.match(reading.bootId ?? '', /^[0-9a-f-]{36}$/);
});

test('readCounters returns the same counters for an interface whose line did not change, and new ones for one whose did', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 10n } }, eth0: { counters: { rxBytes: 100n } } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  const first = await source.readCounters();
  tree.setCounters('eth0', { rxBytes: 250n });
  const second = await source.readCounters();
  assert.equal(second.interfaces[0]?.counters, first.interfaces[0]?.counters);
  assert.equal(second.interfaces[0]?.ifindex, 1);
  assert.equal(second.interfaces[1]?.counters.rxBytes, 250n);
  assert.notEqual(second.interfaces[1]?.counters, first.interfaces[1]?.counters);
});

test('readCounters reads /proc/net/dev afresh after the file was replaced or deleted', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 10n } } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  assert.equal((await source.readCounters()).interfaces[0]?.counters.rxBytes, 10n);
  const netDev = `${tree.procRoot}/net/dev`;
  writeFileSync(`${netDev}.new`, '    lo: 20 1 0 0 0 0 0 0 20 1 0 0 0 0 0 0\n');
  renameSync(`${netDev}.new`, netDev);
  assert.equal((await source.readCounters()).interfaces[0]?.counters.rxBytes, 20n, 'replaced by a rename');
  tree.writeNetDev('    lo: 30 1 0 0 0 0 0 0 30 1 0 0 0 0 0 0\n');
  assert.equal((await source.readCounters()).interfaces[0]?.counters.rxBytes, 30n, 'rewritten in place');
  rmSync(netDev);
  await assert.rejects(source.readCounters(), /cannot read interface counters from .*net\/dev.*ENOENT/);
  tree.writeNetDev('    lo: 40 1 0 0 0 0 0 0 40 1 0 0 0 0 0 0\n');
  assert.equal((await source.readCounters()).interfaces[0]?.counters.rxBytes, 40n, 'back again');
});

test('readCounters reads a /proc/net/dev larger than its first buffer', async (t) => {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 } } });
  t.after(() => tree.cleanup());
  const source = createLinuxSource(tree);
  await source.readCounters();
  const filler = `${'x'.repeat(100_000)}\n`;
  tree.writeNetDev(`${filler}    lo: 7 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n${filler}`);
  const reading = await source.readCounters();
  assert.deepEqual(reading.interfaces.map((entry) => [entry.name, entry.counters.rxBytes]), [['lo', 7n]]);
});

test('readCounters on this machine\'s /proc sees new traffic at every read', { skip: process.platform !== 'linux' }, async (t) => {
  const source = createLinuxSource({ procRoot: '/proc', sysRoot: '/sys' });
  const loPackets = async () => (await source.readCounters()).interfaces.find((entry) => entry.name === 'lo')?.counters.rxPackets ?? -1n;
  const before = await loPackets();
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  await new Promise<void>((resolve, reject) => socket.send('netpulse', 9, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  assert.ok((await loPackets()) > before);
});
