import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createCollector } from '../../src/collector/collector.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { makeStore } from '../helpers/store.js';

function setup(t: TestContext, clockMs: { now: number }) {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 10 } }, eth0: { counters: { rxBytes: 1000, txBytes: 500, rxPackets: 10, txPackets: 5 } } }, bootId: 'boot-1' });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const make = () =>
    createCollector({
      db: store.db,
      source: createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clockMs.now, networkInterfaces: () => ({}) }),
      traffic: store.traffic,
      state: store.state,
      runs: store.runs,
      monitored: () => new Set(['eth0']),
      speedMbps: () => 1000,
      logger: silentLogger,
    });
  return { tree, store, make };
}

/** Counters that only grow: bytes as given, packets and tx alongside (setCounters zeroes what it isn't given). */
function grow(rxBytes: number) {
  return { rxBytes, rxPackets: 10 + Math.floor(rxBytes / 100), txBytes: 500, txPackets: 5 };
}

function storedRx(store: ReturnType<typeof makeStore>, name: string): bigint {
  return store.traffic.sumByInterface('traffic_1d', [name], 0, Number.MAX_SAFE_INTEGER).reduce((s, r) => s + BigInt(r.rx_bytes), 0n);
}

test('collector stores the deltas of monitored interfaces only, after a baseline', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const collector = make();
  const first = await collector.pollNow();
  assert.equal(first?.baseline, true);
  tree.setCounters('eth0', { rxBytes: 4000, txBytes: 600, rxPackets: 13, txPackets: 6 });
  tree.setCounters('lo', { rxBytes: 999 });
  clock.now += 1000;
  const second = await collector.pollNow();
  assert.equal(second?.samples.length, 1);
  assert.equal(second?.samples[0]?.interfaceName, 'eth0');
  assert.equal(storedRx(store, 'eth0'), 3000n);
  assert.equal(storedRx(store, 'lo'), 0n);
  const raw = store.db.prepare('SELECT COUNT(*) AS n FROM traffic_data').get() as { n: number };
  assert.equal(raw.n, 1);
});

test('collector after a restart on the same boot counts the traffic that passed while it was down once', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const before = make();
  await before.pollNow();
  tree.setCounters('eth0', grow(2000));
  clock.now += 1000;
  await before.pollNow();
  // The process dies without a goodbye (kill -9): nothing in memory survives. Traffic goes on for an hour.
  tree.setCounters('eth0', grow(2000 + 3_600_000));
  clock.now += 3_600_000;
  const after = make();
  const poll = await after.pollNow();
  assert.equal(poll?.baseline, false);
  assert.equal(storedRx(store, 'eth0'), 1000n + 3_600_000n);
  // The gap is spread over the minutes it spans, not drawn as one spike.
  const minutes = store.traffic.sumByBucket('traffic_1m', ['eth0'], 0, Number.MAX_SAFE_INTEGER);
  assert.ok(minutes.length >= 60, `expected the hour spread over ≥ 60 minute buckets, got ${minutes.length}`);
  const biggest = minutes.reduce((m, r) => (BigInt(r.rx_bytes) > m ? BigInt(r.rx_bytes) : m), 0n);
  assert.ok(biggest <= 61_000n, `no minute should hold more than its share; the biggest has ${biggest}`);
});

test('collector goes on after a failed read and counts the bytes once when reads work again', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const collector = make();
  await collector.pollNow();
  tree.writeNetDev('garbage that is not /proc/net/dev\n');
  clock.now += 1000;
  await collector.pollNow();
  tree.setCounters('eth0', grow(1500));
  clock.now += 1000;
  await collector.pollNow();
  assert.equal(storedRx(store, 'eth0'), 500n);
});

test('collector records its runs so buckets before the first poll are not covered', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { store, make } = setup(t, clock);
  const collector = make();
  await collector.pollNow();
  const runs = store.runs.overlapping(0, Number.MAX_SAFE_INTEGER);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]?.startedAt, 1_800_000_000);
  assert.equal(store.runs.overlapping(0, 1_799_999_000).length, 0);
});

test('collector shutdown takes a last poll so nothing pending is lost', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const collector = make();
  await collector.pollNow();
  tree.setCounters('eth0', grow(8000));
  clock.now += 500;
  await collector.shutdown();
  assert.equal(storedRx(store, 'eth0'), 7000n);
});

test('collector after a reboot counts the traffic since boot from zero, spread from the boot time', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const before = make();
  await before.pollNow();
  // Down for two hours; the machine booted one hour ago and the counters started again from zero.
  clock.now += 2 * 3_600_000;
  const bootSec = Math.floor(clock.now / 1000) - 3600;
  fs.writeFileSync(path.join(tree.procRoot, 'sys', 'kernel', 'random', 'boot_id'), 'boot-2\n');
  const stat = fs.readFileSync(path.join(tree.procRoot, 'stat'), 'utf8');
  fs.writeFileSync(path.join(tree.procRoot, 'stat'), stat.replace(/^btime \d+$/m, `btime ${bootSec}`));
  tree.setCounters('eth0', grow(360_000));
  const after = make();
  const poll = await after.pollNow();
  assert.equal(poll?.baseline, false);
  assert.equal(poll?.samples[0]?.startSec, bootSec);
  assert.equal(storedRx(store, 'eth0'), 360_000n);
  // Nothing lands in the hour the machine was off.
  const minutes = store.traffic.sumByBucket('traffic_1m', ['eth0'], 0, Number.MAX_SAFE_INTEGER);
  assert.ok(minutes.every((m) => Number(m.bucket_start) >= bootSec - 60), 'no bytes before the boot');
});

test('collector after a poll whose transaction rolled back stores every interface\'s counters at the next poll, so a restart counts nothing twice', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock);
  const collector = make();
  await collector.pollNow();
  tree.setCounters('eth0', grow(3000));
  tree.setCounters('lo', { rxBytes: 50 });
  clock.now += 1000;
  // The write fails after the counter state was saved: the whole poll rolls back.
  t.mock.method(store.runs, 'begin', () => {
    throw new Error('disk I/O error');
  }, { times: 1 });
  assert.equal(await collector.pollNow(), null);
  // Nothing moves after the failed poll; the next poll stores its deltas and the counters as read.
  clock.now += 1000;
  assert.equal((await collector.pollNow())?.samples.length, 1);
  const rows = store.db.prepare('SELECT interface_name, rx_bytes FROM counter_state ORDER BY interface_name').all();
  assert.deepEqual(rows, [{ interface_name: 'eth0', rx_bytes: '3000' }, { interface_name: 'lo', rx_bytes: '50' }]);
  // kill -9 and start again: the bytes already stored are not counted again.
  tree.setCounters('eth0', grow(3500));
  clock.now += 1000;
  await make().pollNow();
  assert.equal(storedRx(store, 'eth0'), 2500n);
});
