import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TrafficSample } from '../../src/storage/traffic-repo.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const zero = { rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
const dailyBytes = (hourSec: number) => Math.round(1e6 * (2 + Math.sin((2 * Math.PI * ((hourSec / 3600) % 24)) / 24)));

/** Hourly traffic of eth0 and wlan0 over the `days` before the current hour, as the collector would store it. */
function seed(srv: TestServer, days: number): void {
  const { traffic, runs, db } = srv.server.ctx;
  const hourNow = Math.floor(Date.now() / 3_600_000) * 3600;
  const start = hourNow - days * 86_400;
  db.transaction(() => {
    runs.end(runs.begin(start, hourNow), hourNow);
    const samples: TrafficSample[] = [];
    for (let t = start; t < hourNow; t += 3600) {
      samples.push({ interfaceName: 'eth0', startSec: t, endSec: t + 3600, counters: { rxBytes: BigInt(dailyBytes(t)), txBytes: BigInt(Math.round(dailyBytes(t) / 10)), ...zero } });
      samples.push({ interfaceName: 'wlan0', startSec: t, endSec: t + 3600, counters: { rxBytes: 1000n, txBytes: 100n, ...zero } });
    }
    traffic.write(samples);
  })();
}

const hourlySeries = (hours: number, startSec = Date.UTC(2026, 0, 5) / 1000) =>
  Array.from({ length: hours }, (_, i) => ({ timestamp: new Date((startSec + i * 3600) * 1000).toISOString(), value: dailyBytes(startSec + i * 3600) }));

describe('GET /api/forecast', () => {
  test('forecast below 14 days of history says when there will be one', async (t) => {
    const srv = await startTestServer(t);
    seed(srv, 3);
    const { status, body } = await srv.get('/api/forecast');
    assert.equal(status, 200);
    assert.equal(body.available, false);
    assert.match(body.reason, /14 days/);
    const hours = Number(body.history_hours);
    assert.ok(hours >= 72 && hours <= 74, `${hours}`);
    const from = Date.parse(body.available_from);
    const hourNow = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    assert.equal(from, hourNow + (336 - hours) * 3_600_000);
  });

  test('forecast of the monitored total and of one interface: the next hours with bands, skill and method', async (t) => {
    const srv = await startTestServer(t);
    seed(srv, 20);
    const { status, body } = await srv.get('/api/forecast?horizon_hours=24');
    assert.equal(status, 200);
    assert.equal(body.available, true);
    assert.deepEqual(body.interfaces, ['eth0', 'wlan0']);
    assert.equal(body.data.length, 24);
    assert.ok(Number(body.history_hours) >= 20 * 24);
    assert.ok(Number(body.skill.origins) >= 1);
    assert.equal(typeof body.method, 'string');
    const hourNow = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    assert.equal(Date.parse(body.data[0].timestamp), hourNow);
    for (const [k, p] of body.data.entries()) {
      assert.equal(Date.parse(p.timestamp), hourNow + k * 3_600_000);
      assert.ok(p.rx_low_95 <= p.rx_low && p.rx_low <= p.rx_bytes && p.rx_bytes <= p.rx_high && p.rx_high <= p.rx_high_95, String(Object.values(p)));
      // The seeded series repeats every day: the forecast does too (plus wlan0's 1000 bytes an hour).
      const want = dailyBytes(Date.parse(p.timestamp) / 1000) + 1000;
      assert.ok(Math.abs(Number(p.rx_bytes) - want) <= want * 0.01, `${p.timestamp}: ${p.rx_bytes} vs ${want}`);
    }
    // The same clock hour answers from the cache.
    const again = await srv.get('/api/forecast?horizon_hours=168');
    assert.equal(again.body.fitted_at, body.fitted_at);
    assert.equal(again.body.data.length, 168);
    const one = await srv.get('/api/forecast?interface=wlan0');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.interfaces, ['wlan0']);
    assert.ok(one.body.data.every((p: { rx_bytes: bigint }) => p.rx_bytes === 1000n));
  });

  test('forecast refuses a bad horizon or interface with stable codes', async (t) => {
    const srv = await startTestServer(t);
    for (const [path, status, code] of [
      ['/api/forecast?horizon_hours=0', 400, 'INVALID_HORIZON'],
      ['/api/forecast?horizon_hours=169', 400, 'INVALID_HORIZON'],
      ['/api/forecast?horizon_hours=abc', 400, 'VALIDATION_ERROR'],
      ['/api/forecast?interface=nope0', 404, 'UNKNOWN_INTERFACE'],
    ] as const) {
      const a = await srv.get(path);
      assert.equal(a.status, status, `${path}: ${a.text}`);
      assert.equal(a.body.code, code, path);
    }
  });
});

describe('POST /api/forecast', () => {
  test('forecast of a posted daily cycle continues it, one series or a batch', async (t) => {
    const srv = await startTestServer(t);
    const series = hourlySeries(15 * 24);
    const { status, body, text } = await srv.post('/api/forecast', { series, horizon_hours: 48 });
    assert.equal(status, 200, text);
    assert.equal(body.available, true);
    assert.equal(body.history_hours, 360n);
    assert.equal(body.data.length, 48);
    const lastSec = Date.parse(series.at(-1)!.timestamp) / 1000;
    for (const [k, p] of body.data.entries()) {
      assert.equal(Date.parse(p.timestamp) / 1000, lastSec + (k + 1) * 3600);
      const want = dailyBytes(lastSec + (k + 1) * 3600);
      assert.ok(Math.abs(Number(p.value) - want) < 1, `${p.value} vs ${want}`);
    }
    const batch = await srv.post('/api/forecast', { batch: [{ id: 'a', series }, { id: 'b', series: series.map((p) => ({ ...p, value: 7 })) }] });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual(batch.body.results.map((r: { id: string }) => r.id), ['a', 'b']);
    assert.equal(batch.body.results[1].data.length, 24);
    assert.ok(batch.body.results[1].data.every((p: { value: bigint | number }) => Number(p.value) === 7));
  });

  test('forecast refuses a bad series with a code that names the problem', async (t) => {
    const srv = await startTestServer(t);
    const good = hourlySeries(15 * 24);
    const swap = [...good];
    [swap[10], swap[11]] = [swap[11]!, swap[10]!];
    const cases: [string, unknown, number, string][] = [
      ['unsorted', { series: swap }, 400, 'SERIES_UNSORTED'],
      ['duplicate', { series: [...good.slice(0, 5), good[4], ...good.slice(5)] }, 400, 'SERIES_DUPLICATE_TIMESTAMP'],
      ['negative', { series: good.map((p, i) => (i === 3 ? { ...p, value: -1 } : p)) }, 400, 'SERIES_NEGATIVE_VALUE'],
      ['a gap', { series: [...good.slice(0, 100), ...good.slice(101)] }, 400, 'SERIES_NOT_HOURLY'],
      ['half-hourly', { series: hourlySeries(400).map((p, i) => ({ ...p, timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1_800_000).toISOString() })) }, 400, 'SERIES_NOT_HOURLY'],
      ['too short', { series: good.slice(0, 335) }, 400, 'SERIES_TOO_SHORT'],
      ['too long', { series: hourlySeries(366 * 24 + 1).map((p) => ({ timestamp: p.timestamp, value: 1 })) }, 400, 'SERIES_TOO_LONG'],
      ['no zone', { series: good.map((p, i) => (i === 0 ? { ...p, timestamp: '2026-01-05 00:00' } : p)) }, 400, 'INVALID_TIMESTAMP'],
      ['neither', { horizon_hours: 24 }, 400, 'INVALID_FORECAST_REQUEST'],
      ['both', { series: good, batch: [] }, 400, 'INVALID_FORECAST_REQUEST'],
      ['horizon', { series: good, horizon_hours: 200 }, 400, 'INVALID_HORIZON'],
      ['extra field', { series: good, model: 'lstm' }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [what, body, status, code] of cases) {
      const a = await srv.post('/api/forecast', body);
      assert.equal(a.status, status, `${what}: ${a.text.slice(0, 300)}`);
      assert.equal(a.body.code, code, `${what}: ${a.body.message}`);
    }
    const batch = await srv.post('/api/forecast', { batch: [{ id: 'ok', series: good }, { id: 'short one', series: good.slice(0, 20) }] });
    assert.equal(batch.body.code, 'SERIES_TOO_SHORT');
    assert.match(batch.body.message, /batch\[1\] \(id "short one"\)/);
  });
});
