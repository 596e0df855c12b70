import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createCollector, type Collector, type LinkCounters } from '../../src/collector/collector.js';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { RTM_DELLINK, RTM_NEWLINK, countersFromStats64, createLinkEventHandler, parseLinkMessage, startLinkEvents, type LinkMessage } from '../../src/collector/link-events.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { attr } from '../../src/shared/netlink-attrs.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createGapsRepo } from '../../src/storage/gaps-repo.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { makeStore } from '../helpers/store.js';

/** struct rtnl_link_stats64 with the given u64 fields (by index), 24 of them as kernel 6.x sends (more than we read). */
function stats64(fields: Record<number, bigint>): Buffer {
  const b = Buffer.alloc(25 * 8);
  for (const [i, v] of Object.entries(fields)) b.writeBigUInt64LE(v, Number(i) * 8);
  return b;
}

function linkMessage(ifindex: number, flags: number, name: string, stats: Buffer | null): Buffer {
  const head = Buffer.alloc(16);
  head.writeInt32LE(ifindex, 4);
  head.writeUInt32LE(flags, 8);
  const parts = [head, attr(3, Buffer.from(`${name}\0`))];
  if (stats !== null) parts.push(attr(23, stats));
  return Buffer.concat(parts);
}

test('parseLinkMessage reads ifindex, name, flags and IFLA_STATS64 as /proc/net/dev prints them', () => {
  // rx_packets 0, tx_packets 1, rx_bytes 2, tx_bytes 3, rx_errors 4, tx_errors 5, rx_dropped 6, tx_dropped 7, rx_missed_errors 15.
  const stats = stats64({ 0: 10n, 1: 20n, 2: (1n << 60n) + 5n, 3: 4000n, 4: 1n, 5: 2n, 6: 3n, 7: 4n, 15: 7n });
  const m = parseLinkMessage(RTM_DELLINK, linkMessage(42, 0x1002, 'veth7', stats));
  assert.deepEqual(m, {
    kind: 'del',
    ifindex: 42,
    name: 'veth7',
    flags: 0x1002,
    counters: { rxPackets: 10n, txPackets: 20n, rxBytes: (1n << 60n) + 5n, txBytes: 4000n, rxErrors: 1n, txErrors: 2n, rxDrops: 10n, txDrops: 4n },
  });
  assert.equal(parseLinkMessage(RTM_NEWLINK, linkMessage(3, 1, 'eth0', null))?.counters, null);
  assert.equal(parseLinkMessage(20 /* RTM_NEWADDR */, linkMessage(3, 1, 'eth0', stats)), null);
  assert.equal(parseLinkMessage(RTM_NEWLINK, Buffer.alloc(8)), null, 'truncated');
  assert.equal(countersFromStats64(Buffer.alloc(64)), null, 'stats too short');
});

const T0 = 1_800_000_000_000;

function setup(t: TestContext) {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772 }, veth0: { ifindex: 7, counters: { rxBytes: 1000, txBytes: 1000, rxPackets: 10, txPackets: 10 } } }, bootId: 'boot-1' });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const clock = { now: T0, mono: 0 };
  const make = (): Collector =>
    createCollector({
      db: store.db,
      source: createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock.now, networkInterfaces: () => ({}) }),
      traffic: store.traffic,
      state: store.state,
      runs: store.runs,
      gaps: createGapsRepo(store.db),
      monitored: () => new Set(['veth0']),
      speedMbps: () => null,
      logger: silentLogger,
      monotonicMs: () => clock.mono,
    });
  const storedOf = (name = 'veth0') => {
    const rows = store.traffic.sumByInterface('traffic_1d', [name], 0, Number.MAX_SAFE_INTEGER);
    return { rx: rows.reduce((s, r) => s + BigInt(r.rx_bytes), 0n), tx: rows.reduce((s, r) => s + BigInt(r.tx_bytes), 0n) };
  };
  const tick = (ms: number) => {
    clock.now += ms;
    clock.mono += ms;
  };
  const link = (ifindex: number, c: Partial<RawCounters>, gone = true): LinkCounters => ({
    ifindex,
    name: 'veth0',
    counters: { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n, ...c },
    gone,
    timeMs: clock.now,
    monoMs: clock.mono,
  });
  return { tree, store, make, storedOf, tick, link };
}

test('a DELLINK counts the traffic since the last poll once: not again at the next poll, nor after a restart', async (t) => {
  const { tree, make, storedOf, tick, link } = setup(t);
  const collector = make();
  await collector.pollNow(); // baseline
  tick(1000);
  tree.setCounters('veth0', { rxBytes: 3000, txBytes: 2000, rxPackets: 30, txPackets: 20 });
  await collector.pollNow();
  assert.deepEqual(storedOf(), { rx: 2000n, tx: 1000n });

  // Deleted 600 ms later, after 5000 more bytes each way the polls never saw.
  tick(600);
  await collector.noteLinkCounters(link(7, { rxBytes: 8000n, txBytes: 7000n, rxPackets: 80n, txPackets: 70n }));
  assert.deepEqual(storedOf(), { rx: 7000n, tx: 6000n });
  // The same counters again (the RTM_NEWLINK going down came first; now RTM_DELLINK): nothing more.
  await collector.noteLinkCounters(link(7, { rxBytes: 8000n, txBytes: 7000n, rxPackets: 80n, txPackets: 70n }));
  tree.removeInterface('veth0');
  tick(400);
  await collector.pollNow();
  assert.deepEqual(storedOf(), { rx: 7000n, tx: 6000n });
  await collector.shutdown();

  // Re-created (new ifindex, counters from zero) and Net-Pulse restarted on the same database.
  tree.addInterface('veth0', { ifindex: 9, counters: { rxBytes: 500, txBytes: 100, rxPackets: 5, txPackets: 1 } });
  tick(1000);
  const again = make();
  await again.pollNow();
  assert.deepEqual(storedOf(), { rx: 7500n, tx: 6100n }, 'the new device from zero; the old one not again');
});

test('a counter a link message lacks (a veth rx of 0 once its pair is unlinked) keeps its reading and counts nothing', async (t) => {
  const { make, storedOf, tick, link } = setup(t);
  const collector = make();
  await collector.pollNow();
  tick(500);
  await collector.noteLinkCounters(link(7, { rxBytes: 0n, rxPackets: 0n, txBytes: 4000n, txPackets: 40n }));
  assert.deepEqual(storedOf(), { rx: 0n, tx: 3000n });
});

test('a DELLINK handled after a poll already saw the re-created device is counted once, from the replaced reading', async (t) => {
  const { tree, make, storedOf, tick, link } = setup(t);
  const collector = make();
  await collector.pollNow();
  tree.removeInterface('veth0');
  tree.addInterface('veth0', { ifindex: 8, counters: { rxBytes: 100, txBytes: 100, rxPackets: 1, txPackets: 1 } });
  tick(1000);
  await collector.pollNow(); // the new device, from zero
  assert.deepEqual(storedOf(), { rx: 100n, tx: 100n });
  await collector.noteLinkCounters(link(7, { rxBytes: 1500n, txBytes: 1200n, rxPackets: 15n, txPackets: 12n }));
  await collector.noteLinkCounters(link(7, { rxBytes: 1500n, txBytes: 1200n, rxPackets: 15n, txPackets: 12n }));
  assert.deepEqual(storedOf(), { rx: 600n, tx: 300n });
  tick(1000);
  tree.setCounters('veth0', { rxBytes: 150, txBytes: 100, rxPackets: 2, txPackets: 1 });
  await collector.pollNow();
  assert.deepEqual(storedOf(), { rx: 650n, tx: 300n }, 'the new device goes on from its own reading');
});

test('a link message with implausible counters counts nothing and marks a gap', async (t) => {
  const { store, make, storedOf, tick, link } = setup(t);
  const collector = make();
  await collector.pollNow();
  tick(1000);
  await collector.noteLinkCounters(link(7, { rxBytes: 1n << 62n, txBytes: 1000n, rxPackets: 10n, txPackets: 10n }));
  assert.deepEqual(storedOf(), { rx: 0n, tx: 0n });
  assert.equal(createGapsRepo(store.db).overlapping(0, Number.MAX_SAFE_INTEGER).length, 1);
});

test('a device that left with a DELLINK and came back with its ifindex carries on from the DELLINK counters', async (t) => {
  const { tree, make, storedOf, tick, link } = setup(t);
  const collector = make();
  await collector.pollNow();
  tick(500);
  await collector.noteLinkCounters(link(7, { rxBytes: 2000n, txBytes: 1500n, rxPackets: 20n, txPackets: 15n }));
  tree.removeInterface('veth0');
  tick(1000);
  await collector.pollNow();
  tree.addInterface('veth0', { ifindex: 7, counters: { rxBytes: 2500, txBytes: 1500, rxPackets: 25, txPackets: 15 } });
  tick(1000);
  await collector.pollNow();
  assert.deepEqual(storedOf(), { rx: 1500n, tx: 500n });
});

function fakeCollector(running: boolean) {
  const noted: LinkCounters[] = [];
  let polled = 0;
  return {
    noted,
    polls: () => polled,
    collector: {
      noteLinkCounters: async (l: LinkCounters) => {
        noted.push(l);
      },
      pollNow: async () => {
        polled++;
        return null;
      },
      stats: () => ({ running }) as ReturnType<Collector['stats']>,
    },
  };
}

const msg = (kind: 'new' | 'del', ifindex: number, name: string, flags: number, counters: RawCounters | null = null): LinkMessage => ({ kind, ifindex, name, flags, counters });
const some: RawCounters = { rxBytes: 1n, txBytes: 2n, rxPackets: 1n, txPackets: 1n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };

test('link event handler: every message invalidates the interfaces cache; DELLINK and a down device give their counters; a new device one poll soon', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const fake = fakeCollector(true);
  let invalidated = 0;
  const handler = createLinkEventHandler({ collector: fake.collector, invalidate: () => invalidated++, logger: silentLogger, pollDelayMs: 200 });
  handler.handle(msg('new', 5, 'veth5', 1, some)); // up: counters not taken
  handler.handle(msg('new', 6, 'veth6', 1));
  assert.equal(fake.noted.length, 0);
  assert.equal(fake.polls(), 0);
  t.mock.timers.tick(200);
  assert.equal(fake.polls(), 1, 'two new devices, one poll');
  handler.handle(msg('new', 5, 'veth5', 0, some)); // down, same name: counters, no poll
  handler.handle(msg('del', 5, 'veth5', 0, some));
  assert.deepEqual(fake.noted.map((n) => [n.ifindex, n.gone]), [[5, false], [5, true]]);
  handler.handle(msg('new', 6, 'renamed6', 1)); // a rename: polled
  t.mock.timers.tick(200);
  assert.equal(fake.polls(), 2);
  assert.equal(invalidated, 5);
  handler.close();
  handler.handle(msg('del', 6, 'renamed6', 0, some));
  assert.equal(fake.noted.length, 2, 'nothing after close');
});

test('link event handler does not poll a stopped collector', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const fake = fakeCollector(false);
  const handler = createLinkEventHandler({ collector: fake.collector, invalidate: () => undefined, logger: silentLogger });
  handler.handle(msg('new', 5, 'veth5', 1));
  t.mock.timers.tick(1000);
  assert.equal(fake.polls(), 0);
  handler.close();
});

test('startLinkEvents that cannot open its socket warns once and reports off with the reason', () => {
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(String(args[args.length - 1])) };
  const events = startLinkEvents({
    collector: fakeCollector(true).collector,
    invalidate: () => undefined,
    logger,
    openSocket: () => {
      throw Object.assign(new Error('socket: Operation not permitted'), { code: 'EPERM' });
    },
  });
  assert.equal(events.on, false);
  assert.match(events.reason ?? '', /Operation not permitted/);
  assert.equal(warnings.length, 1);
  events.close();
});

test('startLinkEvents opens an rtnetlink socket (any user may listen to link messages) and closes it', { skip: process.platform !== 'linux' ? 'not Linux' : false }, () => {
  const events = startLinkEvents({ collector: fakeCollector(true).collector, invalidate: () => undefined, logger: silentLogger });
  assert.equal(events.on, true);
  assert.equal(events.reason, null);
  events.close();
});
