import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { fixedGrid, spreadOverBuckets, zonedDayGrid } from '../../src/storage/spans.js';

const c = (rx: bigint): RawCounters => ({ rxBytes: rx, txBytes: rx * 2n, rxPackets: 7n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n });

test('spreadOverBuckets puts a sample inside one bucket there whole', () => {
  const shares = spreadOverBuckets(120, 150, c(1000n), fixedGrid(60));
  assert.deepEqual(shares.map((s) => s.bucketStart), [120]);
  assert.equal(shares[0]?.counters.rxBytes, 1000n);
});

test('spreadOverBuckets gives a sample ending on a boundary to the bucket it covered', () => {
  const shares = spreadOverBuckets(59, 60, c(10n), fixedGrid(60));
  assert.deepEqual(shares.map((s) => s.bucketStart), [0]);
});

test('spreadOverBuckets spreads a long gap in proportion to time and keeps the sum exact', () => {
  const shares = spreadOverBuckets(30, 210, c(1001n), fixedGrid(60));
  assert.deepEqual(shares.map((s) => s.bucketStart), [0, 60, 120, 180]);
  // 30 s, 60 s, 60 s, 30 s of 180 s.
  assert.deepEqual(shares.map((s) => s.counters.rxBytes), [166n, 333n, 333n, 169n]);
  assert.equal(shares.reduce((sum, s) => sum + s.counters.rxBytes, 0n), 1001n);
  assert.equal(shares.reduce((sum, s) => sum + s.counters.rxPackets, 0n), 7n);
});

test('spreadOverBuckets puts a zero-length sample in the bucket of its end', () => {
  const shares = spreadOverBuckets(3600, 3600, c(5n), fixedGrid(3600));
  assert.deepEqual(shares.map((s) => s.bucketStart), [3600]);
});

test('zonedDayGrid splits a sample across local midnight in a half-hour zone', () => {
  const grid = zonedDayGrid('Asia/Kolkata');
  // 2026-01-01T18:00Z .. 19:00Z: local midnight (18:30Z) in the middle.
  const start = Date.UTC(2026, 0, 1, 18) / 1000;
  const shares = spreadOverBuckets(start, start + 3600, c(100n), grid);
  assert.deepEqual(shares.map((s) => new Date(s.bucketStart * 1000).toISOString()), ['2025-12-31T18:30:00.000Z', '2026-01-01T18:30:00.000Z']);
  assert.deepEqual(shares.map((s) => s.counters.rxBytes), [50n, 50n]);
});
