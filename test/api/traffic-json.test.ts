import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIsoFormatter, trafficJson } from '../../src/api/routes/traffic.js';

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
