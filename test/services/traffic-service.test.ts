import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { createTrafficService } from '../../src/services/traffic-service.js';
import { makeStore } from '../helpers/store.js';

const NOW_MS = Date.UTC(2026, 10, 22, 12, 30, 20); // 2026-11-22T12:30:20Z
const NOW = NOW_MS / 1000;
const retention = { rawHours: 48, minuteDays: 30, hourDays: 1825, dayDays: 0 };

function rx(bytes: bigint): RawCounters {
  return { rxBytes: bytes, txBytes: bytes / 2n, rxPackets: 1n, txPackets: 1n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
}

function setup(t: TestContext, timezone = 'UTC') {
  const store = makeStore(t, { timezone });
  const service = createTrafficService({ traffic: store.traffic, runs: store.runs, retention, timezone, now: () => NOW_MS });
  return { store, service };
}

test('traffic buckets are aligned to group_minutes and sum the monitored interfaces', (t) => {
  const { store, service } = setup(t);
  store.runs.begin(NOW - 3600, NOW);
  store.traffic.write([
    { interfaceName: 'eth0', startSec: NOW - 601, endSec: NOW - 600, counters: rx(100n) },
    { interfaceName: 'wlan0', startSec: NOW - 601, endSec: NOW - 600, counters: rx(11n) },
    { interfaceName: 'docker0', startSec: NOW - 601, endSec: NOW - 600, counters: rx(1_000_000n) },
  ]);
  const answer = service.query({ windowHours: 1, groupMinutes: 5, interfaces: ['eth0', 'wlan0'] });
  assert.ok(answer.buckets.every((b) => b.startSec % 300 === 0));
  assert.equal(answer.buckets.at(-1)?.startSec, Math.floor(NOW / 300) * 300);
  const total = answer.buckets.reduce((s, b) => s + BigInt(b.sums?.rx_bytes ?? 0), 0n);
  assert.equal(total, 111n);
});

test('traffic buckets before the collector first ran are null and idle ones while it ran are zero', (t) => {
  const { store, service } = setup(t);
  store.runs.begin(NOW - 1200, NOW);
  const answer = service.query({ windowHours: 1, groupMinutes: 10, interfaces: ['eth0'] });
  const before = answer.buckets.filter((b) => b.endSec <= NOW - 1200);
  const during = answer.buckets.filter((b) => b.startSec >= NOW - 1200);
  assert.ok(before.length > 0 && before.every((b) => b.sums === null));
  assert.ok(during.length > 0 && during.every((b) => b.sums !== null && BigInt(b.sums.rx_bytes) === 0n));
});

test('traffic buckets while the collector was stopped are null again', (t) => {
  const { store, service } = setup(t);
  const run = store.runs.begin(NOW - 3600, NOW - 3000);
  store.runs.end(run, NOW - 3000);
  store.runs.begin(NOW - 600, NOW);
  const answer = service.query({ windowHours: 1, groupMinutes: 5, interfaces: ['eth0'] });
  const gap = answer.buckets.filter((b) => b.startSec >= NOW - 2700 && b.endSec <= NOW - 900);
  assert.ok(gap.length >= 5 && gap.every((b) => b.sums === null));
});

test('traffic of a day or more comes in calendar days of the configured zone', (t) => {
  const { store, service } = setup(t, 'Asia/Kolkata');
  store.runs.begin(NOW - 10 * 86400, NOW);
  // 2026-11-21T19:00Z is already 22 Nov 00:30 in Kolkata.
  store.traffic.write([{ interfaceName: 'eth0', startSec: Date.UTC(2026, 10, 21, 18, 59) / 1000, endSec: Date.UTC(2026, 10, 21, 19, 0) / 1000, counters: rx(5000n) }]);
  const answer = service.query({ windowHours: 72, groupMinutes: 1440, interfaces: ['eth0'] });
  const last = answer.buckets.at(-1)!;
  assert.equal(new Date(last.startSec * 1000).toISOString(), '2026-11-21T18:30:00.000Z');
  assert.equal(BigInt(last.sums?.rx_bytes ?? -1), 5000n);
});

test('traffic refuses more buckets than one answer holds', (t) => {
  const { service } = setup(t);
  assert.throws(() => service.query({ windowHours: 8760, groupMinutes: 1, interfaces: ['eth0'] }), { code: 'TOO_MANY_POINTS' });
});

test('traffic refuses a sub-hour grouping older than the minute retention, naming what works', (t) => {
  const { service } = setup(t);
  assert.throws(() => service.query({ windowHours: 24 * 60, groupMinutes: 10, interfaces: ['eth0'] }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'GROUPING_NOT_AVAILABLE');
    assert.match(err.message, /multiple of 60/);
    return true;
  });
});

test('traffic refuses groupings above a day that are not whole days', (t) => {
  const { service } = setup(t);
  assert.throws(() => service.query({ windowHours: 720, groupMinutes: 2000, interfaces: ['eth0'] }), { code: 'INVALID_GROUPING' });
});

test('traffic over a year reads the hour tier and keeps sums exact past 2^53', (t) => {
  const { store, service } = setup(t);
  store.runs.begin(NOW - 400 * 86400, NOW);
  const big = 1n << 55n;
  store.traffic.write([
    { interfaceName: 'eth0', startSec: NOW - 200 * 86400 - 10, endSec: NOW - 200 * 86400, counters: rx(big) },
    { interfaceName: 'eth0', startSec: NOW - 100 * 86400 - 10, endSec: NOW - 100 * 86400, counters: rx(big + 1n) },
  ]);
  const answer = service.query({ windowHours: 8760, groupMinutes: 1440 * 7, interfaces: ['eth0'] });
  assert.equal(answer.tier, 'traffic_1d');
  const total = answer.buckets.reduce((s, b) => s + BigInt(b.sums?.rx_bytes ?? 0), 0n);
  assert.equal(total, 2n * big + 1n);
  const hourly = service.query({ windowHours: 8760, groupMinutes: 60, interfaces: ['eth0'] });
  assert.equal(hourly.tier, 'traffic_1h');
  assert.equal(hourly.buckets.reduce((s, b) => s + BigInt(b.sums?.rx_bytes ?? 0), 0n), 2n * big + 1n);
});

test('traffic says how many seconds of each bucket the collector covered', (t) => {
  const { store, service } = setup(t);
  const hour = Math.floor(NOW / 3600) * 3600;
  // Ran the last 5 minutes of the previous hour, and stopped exactly at the start of the current one.
  const run = store.runs.begin(hour - 300, hour);
  store.runs.end(run, hour);
  const answer = service.query({ windowHours: 3, groupMinutes: 60, interfaces: ['eth0'] });
  const previous = answer.buckets.find((b) => b.startSec === hour - 3600);
  const current = answer.buckets.find((b) => b.startSec === hour);
  assert.equal(previous?.coveredSec, 300);
  assert.equal(current?.sums, null);
  assert.equal(current?.coveredSec, null);
});
