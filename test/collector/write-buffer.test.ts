/**
 * Issue #13: polls committed together every few seconds, with the crash rule of one commit per poll — the
 * stored counter state only advances with the samples it accounts for, readers see uncommitted polls, and
 * idle interfaces write no rows.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createCollector } from '../../src/collector/collector.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import type { CounterState } from '../../src/collector/deltas.js';
import { createWriteBuffer, flushBeforeReads } from '../../src/collector/write-buffer.js';
import { createGapsRepo, type CounterGap } from '../../src/storage/gaps-repo.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { TrafficSample } from '../../src/storage/traffic-repo.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { makeStore } from '../helpers/store.js';

function setup(t: TestContext, clockMs: { now: number }, commitEverySec = 10) {
  const tree = makeFixtureTree({
    interfaces: {
      lo: { type: 772, counters: { rxBytes: 10 } },
      eth0: { counters: { rxBytes: 1000, txBytes: 500, rxPackets: 10, txPackets: 5 } },
      eth1: { counters: { rxBytes: 7000, txBytes: 700, rxPackets: 70, txPackets: 7 } },
    },
    bootId: 'boot-1',
  });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const committed: TrafficSample[][] = [];
  const make = () =>
    createCollector({
      db: store.db,
      source: createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clockMs.now, networkInterfaces: () => ({}) }),
      traffic: store.traffic,
      state: store.state,
      runs: store.runs,
      monitored: () => new Set(['eth0', 'eth1']),
      speedMbps: () => 1000,
      logger: silentLogger,
      // Time as the test sets it (the timer is never started here).
      clock: { now: () => clockMs.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
      commitEverySec,
      onSamples: (samples) => committed.push([...samples]),
    });
  return { tree, store, make, committed };
}

/** eth0's counters, only growing (setCounters zeroes what it isn't given). */
const grow = (rxBytes: number) => ({ rxBytes, rxPackets: 10 + Math.floor(rxBytes / 100), txBytes: 500, txPackets: 5 });
/** eth1's. */
const grow1 = (rxBytes: number) => ({ rxBytes, rxPackets: 70 + Math.floor((rxBytes - 7000) / 100), txBytes: 700, txPackets: 7 });

/** What the database holds, read with SQL (no flushing wrapper in between). */
function storedRxOnDisk(store: ReturnType<typeof makeStore>, name: string): bigint {
  const row = store.db.prepare('SELECT COALESCE(SUM(rx_bytes), 0) AS s FROM traffic_1d WHERE interface_name = ?').safeIntegers(true).get(name) as { s: bigint };
  return row.s;
}
const rawRows = (store: ReturnType<typeof makeStore>, name: string) =>
  (store.db.prepare('SELECT COUNT(*) AS n FROM traffic_data WHERE interface_name = ?').get(name) as { n: number }).n;
const stateRx = (store: ReturnType<typeof makeStore>, name: string) =>
  (store.db.prepare('SELECT rx_bytes FROM counter_state WHERE interface_name = ?').get(name) as { rx_bytes: string } | undefined)?.rx_bytes;

test('write buffer holds polls until the commit interval has passed, then commits them in one transaction', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make, committed } = setup(t, clock, 10);
  const collector = make();
  await collector.pollNow(); // baseline, committed (a run starts on disk)
  for (let i = 1; i <= 5; i++) {
    clock.now += 1000;
    tree.setCounters('eth0', grow(1000 + i * 100));
    await collector.pollNow({ commit: false });
  }
  assert.equal(collector.stats().pendingPolls, 5);
  assert.equal(storedRxOnDisk(store, 'eth0'), 0n, 'nothing of the pending polls is on disk');
  assert.equal(stateRx(store, 'eth0'), '1000', 'the stored counter state stays at the last commit');
  assert.equal(committed.length, 0, 'onSamples follows commits');
  // Ten seconds after the last commit, the next poll commits all six.
  clock.now += 5000;
  tree.setCounters('eth0', grow(2000));
  await collector.pollNow({ commit: false });
  assert.equal(collector.stats().pendingPolls, 0);
  assert.equal(storedRxOnDisk(store, 'eth0'), 1000n);
  assert.equal(stateRx(store, 'eth0'), '2000');
  assert.equal(committed.length, 1);
  assert.equal(committed[0]!.length, 6, 'the six polls with traffic, in one commit');
  assert.equal(rawRows(store, 'eth0'), 6, 'raw samples keep their 1-second resolution');
});

test('write buffer answers through flushBeforeReads include the polls not yet committed', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock, 60);
  const collector = make();
  await collector.pollNow();
  clock.now += 1000;
  tree.setCounters('eth1', grow1(7700));
  await collector.pollNow({ commit: false });
  assert.equal(collector.stats().pendingPolls, 1);
  const reads = flushBeforeReads(store.traffic, () => collector.flush(), ['write'], (err) => assert.fail(String(err)));
  const sum = reads.sumByInterface('traffic_1d', ['eth1'], 0, Number.MAX_SAFE_INTEGER);
  assert.equal(BigInt(sum[0]!.rx_bytes), 700n, 'the read sees the pending poll');
  assert.equal(collector.stats().pendingPolls, 0);
  // Writers don't flush.
  clock.now += 1000;
  tree.setCounters('eth1', grow1(7800));
  await collector.pollNow({ commit: false });
  reads.write([]);
  assert.equal(collector.stats().pendingPolls, 1);
});

test('write buffer: a kill -9 between commits loses nothing, the next start counts the pending polls from the kernel once', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock, 300);
  const first = make();
  await first.pollNow();
  for (let i = 1; i <= 4; i++) {
    clock.now += 1000;
    tree.setCounters('eth0', grow(1000 + i * 250));
    tree.setCounters('eth1', grow1(7000 + i * 10));
    await first.pollNow({ commit: false });
  }
  assert.equal(first.stats().pendingPolls, 4);
  // "kill -9": the first collector is dropped without stop or shutdown; its pending polls never reach disk.
  clock.now += 1000;
  tree.setCounters('eth0', grow(3000));
  const second = make();
  const poll = await second.pollNow();
  assert.equal(poll?.baseline, false);
  assert.equal(storedRxOnDisk(store, 'eth0'), 2000n, 'every byte since the last commit, once');
  assert.equal(storedRxOnDisk(store, 'eth1'), 40n);
  // The restart's one sample spans the whole time since the last commit.
  assert.equal(poll?.samples.find((s) => s.interfaceName === 'eth0')?.endSec! - poll?.samples.find((s) => s.interfaceName === 'eth0')?.startSec!, 5);
});

test('write buffer: a commit that fails drops the pending polls and the next commit counts them again, exactly', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock, 300);
  const collector = make();
  await collector.pollNow();
  clock.now += 1000;
  tree.setCounters('eth0', grow(1500));
  await collector.pollNow({ commit: false });
  t.mock.method(store.runs, 'begin', () => {
    throw new Error('disk I/O error');
  }, { times: 1 });
  assert.throws(() => collector.flush(), /disk I\/O error/);
  assert.equal(collector.stats().pendingPolls, 0);
  assert.equal(storedRxOnDisk(store, 'eth0'), 0n);
  clock.now += 1000;
  tree.setCounters('eth0', grow(1800));
  const poll = await collector.pollNow();
  assert.equal(poll?.samples[0]?.counters.rxBytes, 800n, 'the dropped poll is counted again from the committed state');
  assert.equal(storedRxOnDisk(store, 'eth0'), 800n);
});

test('write buffer: idle interfaces write no rows, and shutdown commits what is pending', async (t) => {
  const clock = { now: 1_800_000_000_000 };
  const { tree, store, make } = setup(t, clock, 300);
  const collector = make();
  await collector.pollNow();
  for (let i = 1; i <= 3; i++) {
    clock.now += 1000;
    tree.setCounters('eth0', grow(1000 + i * 100)); // eth1 stays idle
    await collector.pollNow({ commit: false });
  }
  await collector.shutdown();
  assert.equal(collector.stats().pendingPolls, 0);
  assert.equal(storedRxOnDisk(store, 'eth0'), 300n);
  assert.equal(rawRows(store, 'eth1'), 0, 'no raw rows for the idle interface');
  for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d']) {
    assert.equal((store.db.prepare(`SELECT COUNT(*) AS n FROM ${tier} WHERE interface_name = 'eth1'`).get() as { n: number }).n, 0, `no ${tier} rows for the idle interface`);
  }
  const run = store.db.prepare('SELECT last_poll_at, ended_at FROM collector_runs ORDER BY id DESC LIMIT 1').get() as { last_poll_at: number; ended_at: number };
  assert.equal(run.ended_at, Math.floor(clock.now / 1000), 'the run ends at the last (committed) poll');
});

test('write buffer: one commit of several polls records every poll’s gaps, begins the run at the earliest span, and saves only the newest state', (t) => {
  const store = makeStore(t);
  const gaps = createGapsRepo(store.db);
  const clock = { now: 1_800_000_000_000 };
  const zero = { txBytes: 0n, rxPackets: 1n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
  const state = (rx: bigint): CounterState => ({ timeMs: clock.now, bootId: 'b', interfaces: new Map([['eth0', { ifindex: 2, counters: { rxBytes: rx, ...zero } }]]) });
  const gap = (startSec: number): CounterGap => ({ interfaceName: 'eth0', startSec, endSec: startSec + 1, reason: 'implausible', detail: { at: startSec } });
  const sample = (startSec: number, rx: bigint): TrafficSample => ({ interfaceName: 'eth0', startSec, endSec: startSec + 1, counters: { rxBytes: rx, ...zero } });
  const runs = () => store.runs.overlapping(0, 5000).map((r) => [r.startedAt, r.lastPollAt, r.endedAt]);
  const writes = createWriteBuffer({ db: store.db, traffic: store.traffic, state: store.state, runs: store.runs, gaps, now: () => clock.now, commitEveryMs: 10_000, committedState: null });
  writes.add({ samples: [], gaps: [], state: state(100n), spanStartSec: 1000, pollSec: 1000, monoMs: null }); // a baseline commits at once
  writes.closeRun(); // the collector stopped: the next commit begins a new run, with every poll it holds
  writes.add({ samples: [sample(1003, 5n)], gaps: [gap(1003)], state: state(105n), spanStartSec: 1003, pollSec: 1004, monoMs: 1 });
  writes.add({ samples: [sample(1004, 7n)], gaps: [], state: state(112n), spanStartSec: 1002, pollSec: 1005, monoMs: 2 });
  writes.add({ samples: [sample(1005, 1n)], gaps: [gap(1005)], state: state(113n), spanStartSec: 1005, pollSec: 1006, monoMs: 3 });
  assert.equal(writes.pendingPolls, 3);
  assert.equal(writes.state()?.interfaces.get('eth0')?.counters.rxBytes, 113n, 'the next poll counts from the newest pending state');
  assert.equal(writes.stateMonoMs(), 3);
  assert.equal(gaps.overlapping(0, 5000).length, 0, 'nothing pending is on disk');
  assert.equal(stateRx(store, 'eth0'), '100');
  writes.flush();
  assert.deepEqual(gaps.overlapping(0, 5000).map((g) => g.startSec), [1003, 1005]);
  assert.equal(storedRxOnDisk(store, 'eth0'), 13n);
  assert.equal(stateRx(store, 'eth0'), '113');
  assert.deepEqual(runs(), [[1000, 1000, 1000], [1002, 1006, null]], 'the new run begins at the earliest span of its polls, not the newest one’s');
  assert.equal(writes.pendingPolls, 0);
});
