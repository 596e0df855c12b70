/**
 * Issue #13: TrafficRepo keeps the rows of chart series (and the sums of whole ranges) in memory between
 * requests. Whatever happens to the tables — polls, a first poll after a long downtime that spreads over
 * old buckets, imports into old buckets, pruning, a new monitored set, a commit by another process, a
 * transaction that rolls back — every answer must equal what a repository without a cache reads from the
 * same file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { openDatabase } from '../../src/storage/db.js';
import { createTrafficRepo, TIERS, type SeriesScope, type Tier, type TrafficRepo } from '../../src/storage/traffic-repo.js';
import { makeStore } from '../helpers/store.js';

const c = (bytes: bigint): RawCounters => ({ rxBytes: bytes, txBytes: bytes * 2n, rxPackets: 1n, txPackets: 1n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });
const T0 = Date.UTC(2026, 0, 1) / 1000;
const NAMES = ['eth0', 'eth1', 'wlan0'];
const SCOPES: SeriesScope[] = [{ interfaces: ['eth0'] }, { interfaces: ['eth0', 'eth1'] }, 'monitored-total'];

/** Every answer a chart or a summary could ask for, read through `repo`. */
function answers(repo: TrafficRepo, nowSec: number) {
  const out: unknown[] = [];
  for (const tier of TIERS) {
    for (const scope of SCOPES) {
      for (const hours of [1, 30, 24 * 20]) out.push([tier, scope, hours, repo.series(tier, scope, nowSec - hours * 3600, nowSec + 3600)]);
    }
    out.push([tier, 'sums', repo.sumByInterface(tier, null, Math.floor((nowSec - 86400) / 3600) * 3600, Math.floor(nowSec / 3600) * 3600)]);
    out.push([tier, 'sums eth0', repo.sumByInterface(tier, ['eth0'], 0, Math.floor(nowSec / 3600) * 3600)]);
  }
  return out;
}

/** A repository with an empty cache on its own connection: the truth. */
function reference(dbPath: string, nowSec: number) {
  const db = openDatabase(dbPath);
  try {
    return answers(createTrafficRepo(db, { timezone: 'UTC' }), nowSec);
  } finally {
    db.close();
  }
}

const op = fc.oneof(
  // A poll: every interface, the last few seconds (or, after a downtime, hours back).
  fc.record({ kind: fc.constant('poll' as const), advance: fc.integer({ min: 1, max: 4000 }), span: fc.integer({ min: 1, max: 3 * 86400 }), bytes: fc.bigInt({ min: 0n, max: 1n << 55n }) }),
  // An import into an old bucket.
  fc.record({ kind: fc.constant('import' as const), tier: fc.constantFrom<Tier>('traffic_1m', 'traffic_1h', 'traffic_1d'), back: fc.integer({ min: 0, max: 10 * 86400 }), bytes: fc.bigInt({ min: 1n, max: 1n << 40n }) }),
  fc.record({ kind: fc.constant('prune' as const), keepHours: fc.integer({ min: 1, max: 24 * 15 }) }),
  fc.record({ kind: fc.constant('monitored' as const), names: fc.subarray(NAMES, { minLength: 1 }) }),
  fc.record({ kind: fc.constant('other-process' as const), back: fc.integer({ min: 0, max: 5 * 86400 }), bytes: fc.bigInt({ min: 1n, max: 1n << 40n }) }),
  fc.record({ kind: fc.constant('rolled-back' as const), bytes: fc.bigInt({ min: 1n, max: 1n << 40n }) }),
  fc.record({ kind: fc.constant('read' as const) }),
);

test('cached series and sums equal an uncached read after any sequence of writes, imports, pruning and rollbacks', (t) => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 14 }), (ops) => {
      const store = makeStore(t);
      const repo = store.traffic;
      repo.setTotalsInterfaces(['eth0', 'eth1']);
      let now = T0 + 20 * 86400;
      answers(repo, now); // the cache is warm before anything changes
      for (const o of ops) {
        switch (o.kind) {
          case 'poll':
            now += o.advance;
            store.db.transaction(() => repo.write(NAMES.map((interfaceName) => ({ interfaceName, startSec: now - o.span, endSec: now, counters: c(o.bytes) }))))();
            break;
          case 'import':
            repo.addToBucket(o.tier, 'eth0', repo.grid(o.tier).startOf(now - o.back), c(o.bytes));
            break;
          case 'prune':
            repo.prune(now, { raw: o.keepHours * 3600, minute: o.keepHours * 3600, hour: o.keepHours * 7200, day: 0 });
            break;
          case 'monitored':
            repo.setTotalsInterfaces(o.names);
            break;
          case 'other-process': {
            const db = openDatabase(store.dbPath);
            try {
              createTrafficRepo(db, { timezone: 'UTC' }).addToBucket('traffic_1h', 'eth1', Math.floor((now - o.back) / 3600) * 3600, c(o.bytes));
            } finally {
              db.close();
            }
            break;
          }
          case 'rolled-back':
            assert.throws(() =>
              store.db.transaction(() => {
                repo.write([{ interfaceName: 'eth0', startSec: now - 7200, endSec: now, counters: c(o.bytes) }]);
                answers(repo, now); // read inside the transaction that will roll back
                throw new Error('roll back');
              })(),
            );
            break;
          case 'read':
            break;
        }
        assert.deepEqual(answers(repo, now), reference(store.dbPath, now), o.kind);
      }
    }),
    { numRuns: 25 },
  );
});

test('counters past 2^53 come back exact from the cache as BigInt', (t) => {
  const store = makeStore(t);
  const big = (1n << 60n) + 3n;
  const now = T0 + 3600 * 5 + 30;
  store.traffic.write([{ interfaceName: 'eth0', startSec: now - 10, endSec: now, counters: c(big) }]);
  for (let i = 0; i < 2; i++) {
    const rows = store.traffic.series('traffic_1h', { interfaces: ['eth0'] }, T0, now + 3600);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]![1], big);
    assert.equal(rows[0]![2], big * 2n);
  }
});
