import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { startOfZonedDay } from '../../src/shared/zoned-time.js';
import { fixedGrid, spreadOverBuckets, zonedDayGrid } from '../../src/storage/spans.js';
import { makeStore } from '../helpers/store.js';

const rx = (bytes: bigint): RawCounters => ({ rxBytes: bytes, txBytes: 1n, rxPackets: 1n, txPackets: 1n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });
const day = (tier: { bucket_start: bigint | number; rx_bytes: bigint | number }) => [new Date(Number(tier.bucket_start) * 1000).toISOString(), BigInt(tier.rx_bytes)];

test('traffic repo writes each sample to the raw table and every tier, sums exact', (t) => {
  const store = makeStore(t);
  const at = Date.UTC(2026, 0, 1, 12, 0, 30) / 1000;
  store.traffic.write([
    { interfaceName: 'eth0', startSec: at - 1, endSec: at, counters: rx(1n << 60n) },
    { interfaceName: 'eth0', startSec: at, endSec: at + 1, counters: rx(5n) },
  ]);
  for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
    const rows = store.traffic.sumByInterface(tier, ['eth0'], 0, Number.MAX_SAFE_INTEGER);
    assert.equal(BigInt(rows[0]!.rx_bytes), (1n << 60n) + 5n, tier);
  }
  assert.equal(store.traffic.history({ interfaceName: 'eth0', fromSec: 0, toSec: at + 10, limit: 10, offset: 0 }).total, 2);
  assert.equal(store.traffic.hasTraffic('eth0'), true);
  assert.equal(store.traffic.hasTraffic('wlan0'), false);
});

test('traffic repo rebuilds calendar days for a new time zone from minutes and hours', (t) => {
  const store = makeStore(t, { timezone: 'UTC' });
  // One sample an hour for two days, 1000 bytes each.
  const start = Date.UTC(2026, 0, 1, 0, 30) / 1000;
  for (let h = 0; h < 48; h++) {
    store.traffic.write([{ interfaceName: 'eth0', startSec: start + h * 3600 - 60, endSec: start + h * 3600, counters: rx(1000n) }]);
  }
  const before = store.traffic.sumByBucket('traffic_1d', ['eth0'], 0, Number.MAX_SAFE_INTEGER).map(day);
  assert.deepEqual(before, [['2026-01-01T00:00:00.000Z', 24000n], ['2026-01-02T00:00:00.000Z', 24000n]]);

  store.traffic.rebuildDays('Asia/Kolkata');
  const after = store.traffic.sumByBucket('traffic_1d', ['eth0'], 0, Number.MAX_SAFE_INTEGER);
  // Kolkata days start at 18:30 UTC: the samples ending 00:30..18:30 UTC on Jan 1 (19 of them) are Jan 1 local.
  assert.deepEqual(after.map(day), [
    ['2025-12-31T18:30:00.000Z', 19000n],
    ['2026-01-01T18:30:00.000Z', 24000n],
    ['2026-01-02T18:30:00.000Z', 5000n],
  ]);
  assert.equal(Number(after[0]!.bucket_start), startOfZonedDay(start, 'Asia/Kolkata'));
  // New samples after the rebuild go to the new zone's days.
  store.traffic.write([{ interfaceName: 'eth0', startSec: start + 48 * 3600 - 60, endSec: start + 48 * 3600, counters: rx(7n) }]);
  const last = store.traffic.sumByBucket('traffic_1d', ['eth0'], 0, Number.MAX_SAFE_INTEGER).at(-1)!;
  assert.deepEqual(day(last), ['2026-01-02T18:30:00.000Z', 5007n]);
});

test('traffic repo keeps calendar days older than every kept hour when the zone changes', (t) => {
  const store = makeStore(t, { timezone: 'UTC' });
  const at = (y: number, m: number, d: number, h: number) => Date.UTC(y, m - 1, d, h) / 1000;
  for (const [end, bytes] of [[at(2020, 6, 1, 12), 111n], [at(2025, 12, 31, 12), 333n], [at(2026, 1, 1, 12), 222n]] as const) {
    store.traffic.write([{ interfaceName: 'eth0', startSec: end - 60, endSec: end, counters: rx(bytes) }]);
  }
  // Retention took 2020 and the first half of Dec 31 from the hour tier: the days that hold them stay as
  // they were; from the first day that starts inside the kept hours on, days follow the new zone.
  store.traffic.prune(at(2026, 1, 1, 12), { raw: 86400, minute: 3600, hour: 2 * 86400 - 3600, day: 0 });
  store.traffic.rebuildDays('America/New_York');
  const days = store.traffic.sumByBucket('traffic_1d', ['eth0'], 0, Number.MAX_SAFE_INTEGER).map(day);
  assert.deepEqual(days, [
    ['2020-06-01T00:00:00.000Z', 111n],
    ['2025-12-31T00:00:00.000Z', 333n],
    ['2026-01-01T05:00:00.000Z', 222n],
  ]);
});

test('traffic repo prunes each tier at its own retention', (t) => {
  const store = makeStore(t);
  const now = Date.UTC(2026, 5, 1) / 1000;
  store.traffic.write([
    { interfaceName: 'eth0', startSec: now - 3 * 86400 - 1, endSec: now - 3 * 86400, counters: rx(1n) },
    { interfaceName: 'eth0', startSec: now - 10, endSec: now - 9, counters: rx(2n) },
  ]);
  store.traffic.prune(now, { raw: 86400, minute: 2 * 86400, hour: 30 * 86400, day: 0 });
  assert.equal(store.traffic.history({ interfaceName: null, fromSec: 0, toSec: now, limit: 10, offset: 0 }).total, 1);
  assert.equal(store.traffic.sumByBucket('traffic_1m', ['eth0'], 0, now).length, 1);
  assert.equal(store.traffic.sumByBucket('traffic_1h', ['eth0'], 0, now).length, 2);
  assert.equal(store.traffic.oldestBucket('traffic_1m'), Math.floor((now - 10) / 60) * 60);
});

test('traffic repo keeps the pre-summed monitored total equal to the sum of its interfaces', (t) => {
  const store = makeStore(t);
  const at = Date.UTC(2026, 0, 1, 12) / 1000;
  store.traffic.write([
    { interfaceName: 'eth0', startSec: at - 1, endSec: at, counters: rx(100n) },
    { interfaceName: 'wlan0', startSec: at - 1, endSec: at, counters: rx(20n) },
  ]);
  // Set after the fact: the totals are rebuilt from what is stored.
  store.traffic.setTotalsInterfaces(['wlan0', 'eth0']);
  store.traffic.write([
    { interfaceName: 'eth0', startSec: at, endSec: at + 1, counters: rx(3n) },
    { interfaceName: 'docker0', startSec: at, endSec: at + 1, counters: rx(999n) },
  ]);
  for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
    const total = store.traffic.series(tier, 'monitored-total', 0, Number.MAX_SAFE_INTEGER);
    const listed = store.traffic.series(tier, { interfaces: ['eth0', 'wlan0'] }, 0, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(total, listed, tier);
    assert.equal(total.reduce((s, r) => s + BigInt(r[1]), 0n), 123n, tier);
  }
  // A new set rebuilds them; the same set again changes nothing.
  store.traffic.setTotalsInterfaces(['eth0']);
  assert.equal(store.traffic.series('traffic_1h', 'monitored-total', 0, Number.MAX_SAFE_INTEGER).reduce((s, r) => s + BigInt(r[1]), 0n), 103n);
  assert.deepEqual(store.traffic.totalsInterfaces(), ['eth0']);
});

test('traffic repo series stays exact past 2^53 by switching to BigInt', (t) => {
  const store = makeStore(t);
  const at = Date.UTC(2026, 0, 1, 12) / 1000;
  const big = (1n << 53n) + 1n;
  store.traffic.write([{ interfaceName: 'eth0', startSec: at - 1, endSec: at, counters: rx(big) }]);
  const [row] = store.traffic.series('traffic_1h', { interfaces: ['eth0'] }, 0, Number.MAX_SAFE_INTEGER);
  assert.equal(typeof row![1], 'bigint');
  assert.equal(row![1], big);
  const [small] = store.traffic.series('traffic_1h', { interfaces: ['eth0'] }, 0, Number.MAX_SAFE_INTEGER).map((r) => r[2]);
  assert.equal(BigInt(small!), 1n);
});

test('traffic repo adds a batch to every tier exactly as spreading each sample on its own would', (t) => {
  // Issue #13: samples inside one bucket of every tier are summed per interface and minute before they reach the
  // tiers; the rest are spread. Either way each tier must hold what spreadOverBuckets gives sample by sample.
  const zones = ['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'America/St_Johns'];
  const names = ['eth0', 'wlan0', 'wg0'];
  // Around a DST change in Berlin and St. John's (2026-03-29 / 2026-03-08) and an ordinary day.
  const anchors = [Date.UTC(2026, 2, 29, 0, 59, 0) / 1000, Date.UTC(2026, 2, 8, 5, 29, 0) / 1000, Date.UTC(2026, 5, 1, 18, 14, 50) / 1000];
  const sample = fc.record({
    name: fc.constantFrom(...names),
    anchor: fc.constantFrom(...anchors),
    offset: fc.integer({ min: -200, max: 200 }),
    span: fc.oneof(fc.constant(1), fc.integer({ min: -2, max: 5 }), fc.integer({ min: 6, max: 5000 })),
    // Up to 2^57 each: the sum of a batch stays within a signed 64-bit column, as the collector ensures.
    bytes: fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 1n << 57n })),
  });
  let run = 0;
  fc.assert(
    fc.property(fc.constantFrom(...zones), fc.array(sample, { minLength: 1, maxLength: 30 }), (zone, drawn) => {
      const store = makeStore(t, { timezone: zone, dir: fs.mkdtempSync(path.join(os.tmpdir(), `netpulse-batch-${run++}-`)) });
      t.after(() => fs.rmSync(store.dir, { recursive: true, force: true }));
      store.traffic.setTotalsInterfaces(['eth0', 'wlan0']);
      const samples = drawn.map((d) => ({ interfaceName: d.name, startSec: d.anchor + d.offset, endSec: d.anchor + d.offset + d.span, counters: rx(d.bytes) }));
      store.traffic.write(samples);
      const grids = { traffic_1m: fixedGrid(60), traffic_1h: fixedGrid(3600), traffic_1d: zonedDayGrid(zone) } as const;
      for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
        const expected = new Map<string, bigint>();
        const expectedTotal = new Map<number, bigint>();
        for (const s of samples) {
          for (const share of spreadOverBuckets(s.startSec, s.endSec, s.counters, grids[tier])) {
            const key = `${s.interfaceName} ${share.bucketStart}`;
            expected.set(key, (expected.get(key) ?? 0n) + share.counters.rxBytes);
            if (s.interfaceName !== 'wg0') expectedTotal.set(share.bucketStart, (expectedTotal.get(share.bucketStart) ?? 0n) + share.counters.rxBytes);
          }
        }
        const stored = new Map<string, bigint>();
        for (const row of store.traffic.iterate(tier, null, 0, Number.MAX_SAFE_INTEGER)) stored.set(`${row.interface_name} ${Number((row as { bucket_start: number | bigint }).bucket_start)}`, BigInt(row.rx_bytes));
        assert.deepEqual(stored, expected, `${tier} in ${zone}`);
        const totals = new Map(store.traffic.series(tier, 'monitored-total', 0, Number.MAX_SAFE_INTEGER).map((r) => [Number(r[0]), BigInt(r[1])]));
        assert.deepEqual(totals, expectedTotal, `${tier} totals in ${zone}`);
      }
    }),
    { numRuns: 40 },
  );
});
