import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createIsoFormatter, trafficJson, trafficJsonBytes, TrafficJsonCache } from '../../src/api/routes/traffic.js';
import type { TrafficAnswer } from '../../src/services/traffic-service.js';

test('createIsoFormatter writes what Date#toISOString writes, across days and years', () => {
  const iso = createIsoFormatter();
  for (const sec of [0, 59, 3599, 86399, 86400, 951_782_400, 1_767_225_599, 1_767_225_600, 4_102_444_799]) {
    assert.equal(iso(sec), new Date(sec * 1000).toISOString(), String(sec));
  }
  for (let sec = 1_800_000_000; sec < 1_800_000_000 + 3 * 86400; sec += 997) assert.equal(iso(sec), new Date(sec * 1000).toISOString());
});

test('trafficJson writes exact counts past 2^53, nulls for uncovered buckets, and valid JSON', () => {
  const big = (1n << 60n) + 7n;
  const text = trafficJson(
    {
      startSec: 0,
      endSec: 7200,
      bucketSeconds: 3600,
      tier: 'traffic_1h',
      buckets: [
        { startSec: 0, endSec: 3600, sums: null, coveredSec: null },
        { startSec: 3600, endSec: 7200, sums: { rx_bytes: big, tx_bytes: 5, rx_packets: 1, tx_packets: 0 }, coveredSec: 1800 },
      ],
    },
    { interface: 'eth0', interfaces: ['eth0'], timeWindowHours: 2, groupMinutes: 60, timezone: 'Asia/Kolkata' },
  );
  assert.match(text, /"rx_bytes":1152921504606846983,/);
  const parsed = JSON.parse(text);
  assert.deepEqual(parsed.data[0], { timestamp: '1970-01-01T00:00:00.000Z', rx_bytes: null, tx_bytes: null, rx_packets: null, tx_packets: null, covered_seconds: null });
  assert.equal(parsed.data[1].covered_seconds, 1800);
  assert.equal(parsed.timezone, 'Asia/Kolkata');
  assert.equal(parsed.end, '1970-01-01T02:00:00.000Z');
});

/** The answer as JSON.stringify writes it, counts past 2^53 as the exact digits (the contract: JSON numbers). */
function plainJson(answer: TrafficAnswer, meta: Parameters<typeof trafficJson>[1]): string {
  const body = {
    data: answer.buckets.map((b) => ({
      timestamp: new Date(b.startSec * 1000).toISOString(),
      rx_bytes: b.sums?.rx_bytes ?? null,
      tx_bytes: b.sums?.tx_bytes ?? null,
      rx_packets: b.sums?.rx_packets ?? null,
      tx_packets: b.sums?.tx_packets ?? null,
      covered_seconds: b.sums === null ? null : b.coveredSec,
    })),
    interface: meta.interface,
    interfaces: meta.interfaces,
    time_window_hours: meta.timeWindowHours,
    group_minutes: meta.groupMinutes,
    bucket_seconds: answer.bucketSeconds,
    timezone: meta.timezone,
    start: new Date(answer.startSec * 1000).toISOString(),
    end: new Date(answer.endSec * 1000).toISOString(),
  };
  return JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? `@big:${v}` : v)).replace(/"@big:(\d+)"/g, '$1');
}

test('trafficJsonBytes (reusing the bytes of earlier answers) writes exactly what JSON.stringify writes, answer after answer', () => {
  const count = fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 1n << 53n, max: 1n << 63n }));
  const bucket = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 4, arbitrary: fc.record({ rx_bytes: count, tx_bytes: count, rx_packets: count, tx_packets: count, covered: fc.integer({ min: 1, max: 3600 }) }) },
  );
  // A series of answers as a chart's reloads see them: the window slides by a few buckets, the newest
  // buckets change, sometimes one in the middle changes (a late import), sometimes the grouping changes.
  const step = fc.record({ slide: fc.integer({ min: -2, max: 3 }), length: fc.integer({ min: 0, max: 30 }), changes: fc.array(fc.tuple(fc.nat(40), bucket), { maxLength: 4 }), hourly: fc.boolean() });
  fc.assert(
    fc.property(fc.array(bucket, { minLength: 40, maxLength: 40 }), fc.array(step, { minLength: 1, maxLength: 8 }), (initial, steps) => {
      const cache = new TrafficJsonCache();
      const values = [...initial];
      let first = 0;
      for (const s of steps) {
        first = Math.max(0, Math.min(10, first + s.slide));
        for (const [i, v] of s.changes) values[i % values.length] = v;
        const seconds = s.hourly ? 3600 : 300;
        const start = 1_767_225_600 + first * seconds;
        const buckets = values.slice(first, first + s.length).map((v, i) => ({
          startSec: start + i * seconds,
          endSec: start + (i + 1) * seconds,
          sums: v === null ? null : { rx_bytes: v.rx_bytes, tx_bytes: v.tx_bytes, rx_packets: v.rx_packets, tx_packets: v.tx_packets },
          coveredSec: v === null ? null : Math.min(v.covered, seconds),
        }));
        const answer: TrafficAnswer = { startSec: start, endSec: start + buckets.length * seconds, bucketSeconds: seconds, tier: s.hourly ? 'traffic_1h' : 'traffic_1m', buckets };
        const meta = { interface: null, interfaces: ['eth0', 'eth1'], timeWindowHours: 24, groupMinutes: seconds / 60, timezone: 'UTC' };
        const expected = plainJson(answer, meta);
        assert.equal(trafficJson(answer, meta), expected);
        assert.equal(trafficJsonBytes(answer, meta, cache).toString('utf8'), expected);
      }
    }),
    { numRuns: 300 },
  );
});
