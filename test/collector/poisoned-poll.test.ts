/**
 * Issue #8, part 1: one odd interface can no longer stop all recording. The issue's own fixture case (an rx
 * counter near 2^64 next to a 32-bit tx counter), a reset to huge values, and a database that is locked for
 * a while: every poll stores the other interfaces, nothing stored is ever >= 2^63, and traffic waits in the
 * counter state until a write commits.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createCollector } from '../../src/collector/collector.js';
import { TWO_POW_64 } from '../../src/collector/deltas.js';
import { createLinuxSource } from '../../src/collector/linux-source.js';
import type { Logger } from '../../src/shared/logger.js';
import { openDatabase } from '../../src/storage/db.js';
import { createGapsRepo } from '../../src/storage/gaps-repo.js';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { makeStore } from '../helpers/store.js';

interface Logged {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

function recordingLogger(): { logger: Logger; lines: Logged[] } {
  const lines: Logged[] = [];
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === 'string') lines.push({ level, msg: objOrMsg, obj: {} });
      else lines.push({ level, msg: msg ?? '', obj: objOrMsg as Record<string, unknown> });
    };
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}

function setup(t: TestContext, odd: { rxBytes: bigint; txBytes: bigint }) {
  const clock = { now: 1_800_000_000_000 };
  const tree = makeFixtureTree({
    interfaces: { lo: { type: 772 }, odd0: { counters: odd, speed: 1000 }, eth0: { counters: { rxBytes: 1000, txBytes: 500 }, speed: 1000 } },
    bootId: 'boot-1',
  });
  t.after(() => tree.cleanup());
  const store = makeStore(t);
  const gaps = createGapsRepo(store.db);
  const log = recordingLogger();
  const collector = createCollector({
    db: store.db,
    source: createLinuxSource({ procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock.now, networkInterfaces: () => ({}) }),
    traffic: store.traffic,
    state: store.state,
    runs: store.runs,
    gaps,
    monitored: () => new Set(['odd0', 'eth0']),
    speedMbps: () => 1000,
    logger: log.logger,
    clock: { now: () => clock.now, setTimeout: () => null, clearTimeout: () => undefined },
    monotonicMs: () => clock.now,
  });
  const stored = (name: string) => {
    const rows = store.traffic.sumByInterface('traffic_1d', [name], 0, Number.MAX_SAFE_INTEGER);
    return { rx: rows.reduce((s, r) => s + BigInt(r.rx_bytes), 0n), tx: rows.reduce((s, r) => s + BigInt(r.tx_bytes), 0n) };
  };
  return { clock, tree, store, gaps, log, collector, stored };
}

test('collector counts a 32-bit tx wrap and a 64-bit rx wrap on one interface, every poll stored (the issue #8 fixture)', async (t) => {
  const { clock, tree, log, collector, stored } = setup(t, { rxBytes: 18_446_744_073_709_451_615n, txBytes: 4_294_966_296n });
  let eth0Rx = 1000;
  const step = async (rxBytes: bigint, txBytes: bigint) => {
    clock.now += 1000;
    eth0Rx += 10_000;
    tree.setCounters('odd0', { rxBytes, txBytes });
    tree.setCounters('eth0', { rxBytes: eth0Rx, txBytes: 500 });
    const r = await collector.pollNow();
    assert.notEqual(r, null, `the poll stored (log: ${JSON.stringify(log.lines.filter((l) => l.level === 'warn'))})`);
  };
  assert.equal((await collector.pollNow())?.baseline, true);
  await step(18_446_744_073_709_452_615n, 4_294_966_996n); // +1,000 / +700
  await step(TWO_POW_64 - 1n, 0n); // +99,000 (= 2^64 − 1) / +300, tx wraps to exactly 0
  await step(123_456n, 4_321n); // +123,457 (wraps to 123,456) / +4,321

  assert.deepEqual(stored('odd0'), { rx: 1000n + 99_000n + 123_457n, tx: 700n + 300n + 4_321n });
  assert.deepEqual(stored('eth0'), { rx: 30_000n, tx: 0n });
  assert.equal(collector.stats().failedPolls, 0);
  assert.deepEqual(log.lines.filter((l) => l.level === 'warn'), [], 'no warning: these are wraps, not resets');
});

test('collector baselines a reset to huge values, warns once naming the interface and values, marks the gap, and stores the others', async (t) => {
  const { clock, tree, store, gaps, log, collector, stored } = setup(t, { rxBytes: 5_000_000n, txBytes: 6_000_000n });
  await collector.pollNow();
  clock.now += 1000;
  const huge = TWO_POW_64 - 5n;
  tree.setCounters('odd0', { rxBytes: 100, txBytes: huge });
  tree.setCounters('eth0', { rxBytes: 3000, txBytes: 500 });
  assert.notEqual(await collector.pollNow(), null);
  clock.now += 1000;
  tree.setCounters('odd0', { rxBytes: 1100, txBytes: huge + 4n });
  tree.setCounters('eth0', { rxBytes: 5000, txBytes: 500 });
  assert.notEqual(await collector.pollNow(), null);

  assert.deepEqual(stored('odd0'), { rx: 1000n, tx: 4n }, 'nothing of the jump, then counting from the new baseline');
  assert.deepEqual(stored('eth0'), { rx: 4000n, tx: 0n });
  const warns = log.lines.filter((l) => l.level === 'warn');
  assert.equal(warns.length, 1);
  assert.equal(warns[0]!.obj.interface, 'odd0');
  assert.equal((warns[0]!.obj.current as Record<string, string>).txBytes, huge.toString());
  assert.equal((warns[0]!.obj.previous as Record<string, string>).txBytes, '6000000');
  const marked = gaps.overlapping(0, Number.MAX_SAFE_INTEGER);
  assert.equal(marked.length, 1);
  assert.deepEqual([marked[0]!.interfaceName, marked[0]!.reason, marked[0]!.endSec - marked[0]!.startSec], ['odd0', 'implausible', 1]);
  const max = store.db.prepare('SELECT MAX(MAX(rx_bytes), MAX(tx_bytes)) AS m FROM traffic_data').safeIntegers(true).get() as { m: bigint };
  assert.ok(max.m < 1n << 63n);
});

test('collector keeps the traffic of polls that fail on a locked database and stores it once the lock is gone', async (t) => {
  const { clock, tree, store, collector, stored } = setup(t, { rxBytes: 0n, txBytes: 0n });
  await collector.pollNow();
  store.db.pragma('busy_timeout = 20');
  const other = openDatabase(store.dbPath);
  t.after(() => other.open && other.close());
  other.exec('BEGIN IMMEDIATE');
  for (let i = 1; i <= 3; i++) {
    clock.now += 1000;
    tree.setCounters('odd0', { rxBytes: i * 100, txBytes: i * 10 });
    tree.setCounters('eth0', { rxBytes: 1000 + i * 1000, txBytes: 500 });
    assert.equal(await collector.pollNow(), null, 'the poll fails while another connection holds the write lock');
  }
  other.exec('ROLLBACK');
  clock.now += 1000;
  assert.notEqual(await collector.pollNow(), null);
  assert.deepEqual(stored('odd0'), { rx: 300n, tx: 30n });
  assert.deepEqual(stored('eth0'), { rx: 3000n, tx: 0n });
  assert.equal(collector.stats().failedPolls, 3);
});
