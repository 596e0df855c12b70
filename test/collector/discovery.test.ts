import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CounterSource, InterfaceMeta, RawCounters } from '../../src/collector/counter-source.js';
import {
  discoverInterfaces,
  excludedByDefault,
  pickPrimary,
  scoreTraffic,
  type TrafficScore,
} from '../../src/collector/discovery.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';

const zero: RawCounters = {
  rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n,
};

function meta(name: string, overrides: Partial<InterfaceMeta> = {}): InterfaceMeta {
  return {
    name, kind: 'ethernet', ifindex: null, isUp: true, operState: 'up', mtu: 1500, speedMbps: null, mac: null,
    isVirtual: false, addresses: [], hasDefaultRoute: false, ...overrides,
  };
}

const score = (totalBytes: number, packetsPerSec = 0): TrafficScore => ({
  totalBytes, packetsPerSec, score: totalBytes + packetsPerSec * 1000,
});

test('excludedByDefault keeps the physical kinds and leaves out virtual kinds and interfaces that are not up', () => {
  assert.equal(excludedByDefault(meta('lo', { kind: 'loopback' })), true);
  assert.equal(excludedByDefault(meta('docker0', { kind: 'container' })), true);
  assert.equal(excludedByDefault(meta('enp0s31f6', { isUp: false, operState: 'down' })), true);
  assert.equal(excludedByDefault(meta('wg0', { kind: 'tunnel' })), true);
  assert.equal(excludedByDefault(meta('br0', { kind: 'bridge' })), true);
  assert.equal(excludedByDefault(meta('np0', { kind: 'virtual', isVirtual: true })), true);
  assert.equal(excludedByDefault(meta('eth0')), false);
  assert.equal(excludedByDefault(meta('wlan0', { kind: 'wireless' })), false);
  assert.equal(excludedByDefault(meta('ib0', { kind: 'other' })), false);
});

test('discoverInterfaces on a machine with a veth up monitors the physical interface only, as the README says', async (t) => {
  // The report of issue 12: eth0 plus a veth np0 (kind virtual) gave ["eth0","np0"].
  const tree = makeFixtureTree({
    interfaces: {
      lo: { type: 772, virtual: true, speed: null },
      eth0: { counters: { rxBytes: 1000n } },
      np0: { virtual: true, speed: 10000, counters: { rxBytes: 5000n } },
      br0: { virtual: true, bridge: true, speed: null },
      wg0: { virtual: true, type: 65534, address: '', speed: null },
    },
    defaultRouteV4: ['eth0'],
  });
  t.after(() => tree.cleanup());
  const source = createLinuxSource({ ...tree, networkInterfaces: () => ({}) });
  const result = await discoverInterfaces(source, { sleep: async () => {} });
  assert.equal(result.interfaces.find((m) => m.name === 'np0')?.kind, 'virtual');
  assert.deepEqual(result.defaultMonitored, ['eth0']);
});

test('scoreTraffic adds bytes moved to packets per second times 1000', () => {
  const after = { ...zero, rxBytes: 3000n, txBytes: 1000n, rxPackets: 30n, txPackets: 10n };
  assert.deepEqual(scoreTraffic(zero, after, 2000), { totalBytes: 4000, packetsPerSec: 20, score: 24000 });
});

test('scoreTraffic counts a counter that went down as no traffic', () => {
  const before = { ...zero, rxBytes: 5000n, txBytes: 100n, rxPackets: 50n };
  const after = { ...zero, rxBytes: 10n, txBytes: 600n, rxPackets: 1n };
  assert.deepEqual(scoreTraffic(before, after, 1000), { totalBytes: 500, packetsPerSec: 0, score: 500 });
});

test('scoreTraffic gives no packet rate for a zero-length sample', () => {
  assert.equal(scoreTraffic(zero, { ...zero, rxPackets: 10n }, 0).packetsPerSec, 0);
});

test('pickPrimary prefers the default route over a busier interface', () => {
  const metas = [meta('eth0', { hasDefaultRoute: true }), meta('eth1')];
  assert.equal(pickPrimary(metas, new Map([['eth0', score(10)], ['eth1', score(1e9)]])), 'eth0');
});

test('pickPrimary picks the busiest of several default-route interfaces', () => {
  const metas = [meta('eth0', { hasDefaultRoute: true, ifindex: 2 }), meta('wlan0', { hasDefaultRoute: true, ifindex: 3 })];
  assert.equal(pickPrimary(metas, new Map([['eth0', score(10)], ['wlan0', score(5000)]])), 'wlan0');
});

test('pickPrimary breaks a score tie between default routes with the lowest ifindex', () => {
  const metas = [meta('wlan0', { hasDefaultRoute: true, ifindex: 3 }), meta('eth0', { hasDefaultRoute: true, ifindex: 2 })];
  assert.equal(pickPrimary(metas, new Map()), 'eth0');
});

test('pickPrimary falls back to the busiest interface without a default route', () => {
  const metas = [meta('eth0'), meta('eth1'), meta('wg0', { kind: 'tunnel' })];
  const scores = new Map([['eth0', score(2000)], ['eth1', score(1500, 10)], ['wg0', score(1000)]]);
  assert.equal(pickPrimary(metas, scores), 'eth1');
});

test('pickPrimary returns null when no interface moved 1000 bytes, however many packets', () => {
  const metas = [meta('eth0'), meta('eth1')];
  assert.equal(pickPrimary(metas, new Map([['eth0', score(999, 500)], ['eth1', score(0)]])), null);
  assert.equal(pickPrimary([], new Map()), null);
});

test('pickPrimary never picks loopback or container plumbing', () => {
  const metas = [meta('lo', { kind: 'loopback' }), meta('docker0', { kind: 'container' }), meta('eth0')];
  const scores = new Map([['lo', score(1e9)], ['docker0', score(1e8)], ['eth0', score(1000)]]);
  assert.equal(pickPrimary(metas, scores), 'eth0');
});

test('discoverInterfaces samples twice sampleMs apart and picks the laptop uplink', async (t) => {
  const tree = makeFixtureTree({
    interfaces: {
      lo: { type: 772, virtual: true, operstate: 'unknown', flags: 0x9, counters: { rxBytes: 10n } },
      enp0s31f6: { operstate: 'down', counters: {} },
      wlan0: { wireless: true, counters: { rxBytes: 1000n, rxPackets: 10n } },
      docker0: { virtual: true, bridge: true, counters: {} },
      veth1a2b3c4: { virtual: true, counters: {} },
    },
    defaultRouteV4: ['wlan0'],
  });
  t.after(() => tree.cleanup());
  let clockMs = 1_000_000;
  const source = createLinuxSource({ ...tree, networkInterfaces: () => ({}), now: () => clockMs });
  const sleeps: number[] = [];
  const result = await discoverInterfaces(source, {
    sampleMs: 500,
    sleep: async (ms) => {
      sleeps.push(ms);
      clockMs += ms;
      tree.setCounters('wlan0', { rxBytes: 90_000n, rxPackets: 110n });
      tree.setCounters('docker0', { rxBytes: 5_000_000n });
    },
  });
  assert.deepEqual(sleeps, [500]);
  assert.equal(result.primary, 'wlan0');
  assert.deepEqual(result.defaultMonitored, ['wlan0']);
  assert.deepEqual(result.interfaces.map((entry) => entry.name), ['lo', 'enp0s31f6', 'wlan0', 'docker0', 'veth1a2b3c4']);
});

function fakeSource(metas: InterfaceMeta[], before: RawCounters, after: RawCounters, events: string[] = []): CounterSource {
  let reads = 0;
  return {
    async readCounters() {
      events.push('readCounters');
      const counters = reads++ === 0 ? before : after;
      return { timeMs: reads * 1000, bootId: null, interfaces: metas.map((m) => ({ name: m.name, ifindex: m.ifindex, counters })), failures: [] };
    },
    async listInterfaces() {
      events.push('listInterfaces');
      return metas;
    },
    async readBootTimeMs() {
      return null;
    },
  };
}

test('discoverInterfaces lists interfaces while it samples, so it takes one sample period', async () => {
  const events: string[] = [];
  const source = fakeSource([meta('eth0')], zero, zero, events);
  await discoverInterfaces(source, { sleep: async (ms) => void events.push(`sleep ${ms}`) });
  assert.deepEqual(events.filter((event) => event !== 'listInterfaces'), ['readCounters', 'sleep 1000', 'readCounters']);
  assert.ok(events.indexOf('listInterfaces') < events.indexOf('sleep 1000'), events.join(', '));
});

test('discoverInterfaces monitors only the primary when every interface is excluded', async () => {
  const dormant = meta('wlan0', { kind: 'wireless', isUp: false, operState: 'dormant' });
  const source = fakeSource([meta('lo', { kind: 'loopback' }), dormant], zero, { ...zero, rxBytes: 4000n });
  const result = await discoverInterfaces(source, { sleep: async () => {} });
  assert.equal(result.primary, 'wlan0');
  assert.deepEqual(result.defaultMonitored, ['wlan0']);
});

test('discoverInterfaces returns no primary and nothing monitored on an idle machine with only loopback', async () => {
  const source = fakeSource([meta('lo', { kind: 'loopback' })], zero, { ...zero, rxBytes: 1_000_000n });
  const result = await discoverInterfaces(source, { sleep: async () => {} });
  assert.equal(result.primary, null);
  assert.deepEqual(result.defaultMonitored, []);
});

test('discoverInterfaces ignores an interface re-created between the two reads', async () => {
  let reads = 0;
  const source: CounterSource = {
    async readCounters() {
      reads += 1;
      return {
        timeMs: reads * 1000, bootId: null, failures: [],
        interfaces: [{ name: 'eth0', ifindex: reads === 1 ? 2 : 7, counters: { ...zero, rxBytes: reads === 1 ? 0n : 50_000n } }],
      };
    },
    async listInterfaces() {
      return [meta('eth0', { isUp: false })];
    },
    async readBootTimeMs() {
      return null;
    },
  };
  const result = await discoverInterfaces(source, { sleep: async () => {} });
  assert.equal(result.primary, null);
});
