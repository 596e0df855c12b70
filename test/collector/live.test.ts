/**
 * Issue #13: the live view takes the collector's readings while it polls every second, and reads on its own
 * when the collector polls slower or stops. Real counter reads of a fixture /proc; time is a manual clock.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { CounterSource } from '../../src/collector/counter-source.js';
import { computeDeltas, stateFromReading, type CounterState } from '../../src/collector/deltas.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import { createLiveMonitor, type LiveSnapshot } from '../../src/collector/live.js';
import type { Clock } from '../../src/collector/scheduler.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';

/** A clock whose time moves only when the test says; due timeouts run then, in order. */
function manualClock(startMs: number) {
  let now = startMs;
  let nextId = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      due.set(++nextId, { at: now + ms, fn });
      return nextId;
    },
    clearTimeout: (h) => void due.delete(h as number),
  };
  return {
    clock,
    /** Moves to `ms` without running the timeouts due by then (something else happens first at that instant). */
    moveTo(ms: number) {
      now = ms;
    },
    /** Moves to `ms`, running every timeout due on the way, and lets their async work finish. */
    async advanceTo(ms: number) {
      for (;;) {
        const next = [...due].filter(([, t]) => t.at <= ms).sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      }
      now = ms;
    },
  };
}

function setup(t: TestContext) {
  const tree = makeFixtureTree({ interfaces: { lo: { type: 772, counters: { rxBytes: 10 } }, eth0: { counters: { rxBytes: 1000, txBytes: 100 } } }, bootId: 'boot-1' });
  t.after(() => tree.cleanup());
  const time = manualClock(1_800_000_000_000);
  const source = createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: time.clock.now, networkInterfaces: () => ({}) });
  let liveReads = 0;
  const counted: CounterSource = { ...source, readCounters: () => (liveReads++, source.readCounters()) };
  const live = createLiveMonitor(counted, time.clock, 1000);
  const events: LiveSnapshot[] = [];
  t.after(() => live.close());
  let collectorPrev: CounterState | null = null;
  /** What the collector does at a poll: a read, its deltas from its previous read, the offer. */
  const poll = async () => {
    const reading = await source.readCounters();
    live.offer(reading, computeDeltas(collectorPrev, reading).deltas, collectorPrev?.timeMs ?? null);
    collectorPrev = stateFromReading(reading);
  };
  const rx = (e: LiveSnapshot) => e.rates.find((r) => r.name === 'eth0')?.rxBytesPerSec;
  return { tree, time, live, events, poll, rx, reads: () => liveReads, start: time.clock.now() };
}

test('live view: while the collector polls every second its readings are published, and the view reads nothing of its own', async (t) => {
  const { tree, time, live, events, poll, rx, reads, start } = setup(t);
  live.subscribe((e) => events.push(e));
  await poll(); // the collector's baseline: nothing to publish
  for (let i = 1; i <= 5; i++) {
    tree.setCounters('eth0', { rxBytes: 1000 + 500 * i, txBytes: 100 });
    // The collector's poll and the view's tick fall on the same second; the poll first or second.
    if (i % 2 === 0) {
      time.moveTo(start + i * 1000);
      await poll();
    }
    await time.advanceTo(start + i * 1000);
    if (i % 2 === 1) await poll();
  }
  assert.equal(reads(), 1, 'one read of its own, at the first tick, before any offer was published');
  // The first second twice (the view's own read, then the poll's), then one event a second from the polls.
  assert.deepEqual(
    events.map((e) => [e.timeMs - start, e.intervalMs, rx(e)]),
    [1, 1, 2, 3, 4, 5].map((s) => [s * 1000, 1000, 500]),
  );
});

test('live view: when the collector polls slower or stops, the view reads every second, counting from the last reading it was offered', async (t) => {
  const { tree, time, live, events, poll, rx, reads, start } = setup(t);
  live.subscribe((e) => events.push(e));
  await poll();
  tree.setCounters('eth0', { rxBytes: 1500, txBytes: 100 });
  await time.advanceTo(start + 1000);
  await poll(); // published: a 1 s span
  assert.equal(events.at(-1)?.intervalMs, 1000);
  const readsBefore = reads();
  // No more polls: after one tick the view reads on its own, from the last offered reading on.
  for (let i = 2; i <= 5; i++) {
    tree.setCounters('eth0', { rxBytes: 1500 + 300 * (i - 1), txBytes: 100 });
    await time.advanceTo(start + i * 1000);
  }
  const own = events.slice(events.findLastIndex((e) => e.timeMs === start + 1000) + 1);
  assert.deepEqual(
    own.map((e) => [e.timeMs - start, e.intervalMs, rx(e)]),
    [
      [3000, 2000, 300],
      [4000, 1000, 300],
      [5000, 1000, 300],
    ],
  );
  assert.equal(reads() - readsBefore, 3);
  // A poll whose span is not about a second (slower polling) publishes nothing...
  const count = events.length;
  await poll();
  assert.equal(events.length, count);
  // ...nor does a poll right after another (two polls in one second, as at start): no rate over a sliver.
  time.moveTo(start + 5001);
  await poll();
  assert.equal(events.length, count);
  // ...and a slow poll just before a tick leaves the view its own baseline: a full second, not a sliver.
  tree.setCounters('eth0', { rxBytes: 3000, txBytes: 100 });
  await time.advanceTo(start + 6000);
  tree.setCounters('eth0', { rxBytes: 3300, txBytes: 100 });
  time.moveTo(start + 7000);
  await poll(); // 2 s after the previous poll
  await time.advanceTo(start + 7000);
  assert.deepEqual(
    events.slice(count).map((e) => [e.timeMs - start, e.intervalMs, rx(e)]),
    [
      [6000, 1000, 300],
      [7000, 1000, 300],
    ],
  );
});

test('live view: offers with nobody listening publish nothing and cost no read', async (t) => {
  const { time, live, events, poll, reads, start } = setup(t);
  await poll();
  await time.advanceTo(start + 1000);
  await poll();
  assert.equal(live.latest, null);
  assert.equal(events.length, 0);
  assert.equal(reads(), 0);
});
