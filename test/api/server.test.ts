/**
 * Every endpoint of the seeds' contract, against the real server on a spare port (HTTP via fetch), fed by a
 * fixture /proc whose counters the tests advance. Reads share one seeded server per group; anything that
 * writes starts its own.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awayFromBucketEdge, startTestServer, sumField, waitFor, type TestServer } from '../helpers/server.js';

const HOUR = 3600;
const isoSec = (iso: string) => Date.parse(iso) / 1000;

/** Traffic the seeded server saw after its baseline: eth0 and wlan0 are monitored, lo is not. */
const SEEDED = {
  eth0: { rxBytes: 1500n, txBytes: 700n, rxPackets: 10n, txPackets: 5n },
  wlan0: { rxBytes: 300n, txBytes: 100n, rxPackets: 3n, txPackets: 2n },
};

async function seededServer(): Promise<TestServer> {
  const srv = await startTestServer(null);
  await awayFromBucketEdge(HOUR);
  srv.advance('eth0', { rxBytes: 1000n, txBytes: 700n, rxPackets: 6n, txPackets: 5n });
  srv.advance('wlan0', SEEDED.wlan0);
  await srv.collect();
  srv.advance('eth0', { rxBytes: 500n, rxPackets: 4n });
  srv.tree.setCounters('lo', { rxBytes: 999_999n, txBytes: 999_999n, rxPackets: 9n, txPackets: 9n });
  await srv.collect();
  return srv;
}

describe('a running server that counted traffic on eth0 and wlan0', { concurrency: 3 }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await seededServer();
  });
  after(() => srv.close());

  test('GET /health answers ok with the collector running, the database open and a recent poll', async () => {
    const { status, body } = await srv.get('/health');
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
    assert.equal(body.collector_running, true);
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(Math.abs(Date.now() - Date.parse(body.last_poll_at)) < 60_000, body.last_poll_at);
  });

  test('GET /api/health answers the same fields as /health', async () => {
    const [a, b] = await Promise.all([srv.get('/health'), srv.get('/api/health')]);
    assert.equal(b.status, 200);
    assert.deepEqual(Object.keys(b.body).sort(), Object.keys(a.body).sort());
    assert.equal(b.body.status, 'ok');
  });

  test('GET /collector/status reports the interval, the monitored set and a next poll aligned to the interval', async () => {
    const { status, body } = await srv.get('/collector/status');
    assert.equal(status, 200);
    assert.equal(body.running, true);
    assert.equal(body.interval_seconds, 3600n);
    assert.deepEqual(body.monitored_interfaces, ['eth0', 'wlan0']);
    assert.ok(body.polls >= 3n, `polls=${body.polls}`);
    assert.equal(body.failed_polls, 0n);
    assert.equal(body.last_error, null);
    assert.equal(isoSec(body.next_poll_at) % HOUR, 0, body.next_poll_at);
    assert.ok(Date.parse(body.next_poll_at) > Date.now());
    assert.notEqual(body.first_data_at, null);
  });

  test('GET /api/interfaces lists every interface with its kind, primary and monitored flags and exact counters', async () => {
    const { status, body } = await srv.get('/api/interfaces');
    assert.equal(status, 200);
    const byName = new Map<string, any>(body.map((i: any) => [i.name, i]));
    assert.deepEqual([...byName.keys()].sort(), ['eth0', 'lo', 'wlan0']);
    assert.equal(body[0].name, 'eth0', 'the primary interface comes first');
    assert.deepEqual(
      [...byName.values()].map((i) => [i.name, i.kind, i.is_primary, i.monitored]).sort(),
      [
        ['eth0', 'ethernet', true, true],
        ['lo', 'loopback', false, false],
        ['wlan0', 'wireless', false, true],
      ],
    );
    assert.equal(byName.get('eth0').speed, 1000n);
    assert.equal(byName.get('eth0').counters.rx_bytes, 1_001_500n);
    assert.equal(byName.get('eth0').counters.tx_packets, 805n);
  });

  test('GET /api/interfaces/{name} answers one interface, and 404 UNKNOWN_INTERFACE for a name the machine does not have', async () => {
    const one = await srv.get('/api/interfaces/wlan0');
    assert.equal(one.status, 200);
    assert.equal(one.body.name, 'wlan0');
    assert.equal(one.body.kind, 'wireless');
    assert.equal(one.body.counters.rx_bytes, 20_300n);
    const missing = await srv.get('/api/interfaces/eth9');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'UNKNOWN_INTERFACE');
    assert.match(missing.body.message, /eth9/);
  });

  test('GET /api/interfaces/{name}/stats gives the stored totals of the last hour, 24 hours, today and all time', async () => {
    const { status, body } = await srv.get('/api/interfaces/eth0/stats');
    assert.equal(status, 200);
    assert.equal(body.interface, 'eth0');
    assert.equal(body.monitored, true);
    assert.equal(body.timezone, 'UTC');
    const expected = { rx_bytes: 1500n, tx_bytes: 700n, rx_packets: 10n, tx_packets: 5n };
    for (const period of ['last_hour', 'last_24_hours', 'today', 'all_time']) assert.deepEqual(body[period], expected, period);
    assert.equal(body.counters.rx_bytes, 1_001_500n);
  });

  test('GET /api/interfaces/{name}/stats of an unmonitored interface has its kernel counters and no stored traffic', async () => {
    const { status, body } = await srv.get('/api/interfaces/lo/stats');
    assert.equal(status, 200);
    assert.equal(body.monitored, false);
    assert.equal(body.counters.rx_bytes, 999_999n);
    assert.deepEqual(body.all_time, { rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n });
  });

  test('GET /api/config/monitored_interfaces is the JSON array discovery stored, and /api/config/interfaces wraps the same list', async () => {
    const list = await srv.get('/api/config/monitored_interfaces');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, ['eth0', 'wlan0']);
    const wrapped = await srv.get('/api/config/interfaces');
    assert.equal(wrapped.status, 200);
    assert.deepEqual(wrapped.body, { interfaces: ['eth0', 'wlan0'], source: 'config', filter: null });
  });

  test('GET /api/config/collection-interval names NETPULSE_POLL_INTERVAL as the source when it is set', async () => {
    const { status, body } = await srv.get('/api/config/collection-interval');
    assert.equal(status, 200);
    assert.deepEqual(body, { interval_seconds: 3600n, source: 'env', configured_seconds: null, min_seconds: 1n, max_seconds: 3600n });
  });

  test('GET /api/traffic without interface sums the monitored interfaces and leaves out unmonitored traffic', async () => {
    const all = await srv.get('/api/traffic?time_window_hours=24&group_minutes=60');
    assert.equal(all.status, 200);
    assert.equal(all.body.interface, null);
    assert.deepEqual(all.body.interfaces, ['eth0', 'wlan0']);
    assert.equal(sumField(all.body.data, 'rx_bytes'), 1800n);
    assert.equal(sumField(all.body.data, 'tx_bytes'), 800n);
    assert.equal(sumField(all.body.data, 'rx_packets'), 13n);
    assert.equal(sumField(all.body.data, 'tx_packets'), 7n);

    const eth0 = await srv.get('/api/traffic?time_window_hours=24&group_minutes=60&interface=eth0');
    assert.equal(eth0.body.interface, 'eth0');
    assert.deepEqual(eth0.body.interfaces, ['eth0']);
    assert.equal(sumField(eth0.body.data, 'rx_bytes'), 1500n);

    const lo = await srv.get('/api/traffic?time_window_hours=24&group_minutes=60&interface=lo');
    assert.equal(lo.status, 200);
    assert.equal(sumField(lo.body.data, 'rx_bytes'), 0n, 'lo is not monitored: nothing of it is stored');
  });

  test('GET /api/traffic aligns bucket starts to multiples of group_minutes and covers the window up to now', async () => {
    for (const group of [1, 7, 15, 60, 180]) {
      const { status, body } = await srv.get(`/api/traffic?time_window_hours=6&group_minutes=${group}`);
      assert.equal(status, 200, `group_minutes=${group}`);
      const bucket = group * 60;
      assert.equal(body.bucket_seconds, BigInt(bucket));
      assert.equal(body.group_minutes, BigInt(group));
      const starts = body.data.map((p: any) => isoSec(p.timestamp));
      for (const s of starts) assert.equal(s % bucket, 0, `group_minutes=${group}: ${new Date(s * 1000).toISOString()}`);
      for (let i = 1; i < starts.length; i++) assert.equal(starts[i] - starts[i - 1], bucket);
      assert.equal(starts[0], Math.floor(isoSec(body.start) / bucket) * bucket, `group_minutes=${group}: first bucket holds the window start`);
      assert.equal(starts.at(-1), Math.floor(isoSec(body.end) / bucket) * bucket, `group_minutes=${group}: last bucket holds now`);
      assert.equal(isoSec(body.end) - isoSec(body.start), 6 * HOUR);
    }
  });

  test('GET /api/traffic with a grouping of whole days gives calendar days in the configured time zone', async () => {
    const { status, body } = await srv.get('/api/traffic?time_window_hours=168&group_minutes=1440');
    assert.equal(status, 200);
    assert.equal(body.timezone, 'UTC');
    for (const p of body.data) assert.match(p.timestamp, /T00:00:00\.000Z$/);
    assert.ok(body.data.length === 8 || body.data.length === 9, `${body.data.length} days`);
    assert.equal(sumField(body.data, 'rx_bytes'), 1800n);
  });

  test('GET /api/traffic/history pages the raw samples newest first', async () => {
    const all = await srv.get('/api/traffic/history?limit=1000');
    assert.equal(all.status, 200);
    const rows = all.body.data;
    assert.equal(all.body.total, BigInt(rows.length));
    assert.ok(rows.length >= 2);
    assert.equal(sumField(rows, 'rx_bytes'), 1800n);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].timestamp >= rows[i].timestamp, 'newest first');
    for (let offset = 0; offset < rows.length; offset++) {
      const page = await srv.get(`/api/traffic/history?limit=1&offset=${offset}`);
      assert.equal(page.body.limit, 1n);
      assert.equal(page.body.offset, BigInt(offset));
      assert.equal(page.body.total, BigInt(rows.length));
      assert.deepEqual(page.body.data, [rows[offset]]);
    }
    const beyond = await srv.get(`/api/traffic/history?limit=10&offset=${rows.length}`);
    assert.deepEqual(beyond.body.data, []);
  });

  test('GET /api/traffic/history filters by interface and by start and end', async () => {
    const eth0 = await srv.get('/api/traffic/history?interface=eth0&limit=1000');
    assert.equal(eth0.status, 200);
    assert.ok(eth0.body.data.every((r: any) => r.interface === 'eth0'));
    assert.equal(sumField(eth0.body.data, 'rx_bytes'), 1500n);
    const nowSec = Math.floor(Date.now() / 1000);
    const future = await srv.get(`/api/traffic/history?start=${nowSec + 3600}&end=${nowSec + 7200}`);
    assert.equal(future.status, 200);
    assert.equal(future.body.total, 0n);
    const past = await srv.get('/api/traffic/history?start=2020-01-01T00:00:00Z&end=2020-01-02T00:00:00Z');
    assert.equal(past.status, 200);
    assert.equal(past.body.total, 0n);
    assert.equal(past.body.start, '2020-01-01T00:00:00.000Z');
  });

  test('GET /api/traffic/summary totals each interface and the monitored set', async () => {
    const { status, body } = await srv.get('/api/traffic/summary?hours=24');
    assert.equal(status, 200);
    assert.equal(body.hours, 24n);
    assert.deepEqual(body.monitored_interfaces, ['eth0', 'wlan0']);
    const eth0 = body.interfaces.find((r: any) => r.interface === 'eth0');
    assert.deepEqual(
      { rx_bytes: eth0.rx_bytes, tx_bytes: eth0.tx_bytes, rx_packets: eth0.rx_packets, tx_packets: eth0.tx_packets },
      { rx_bytes: 1500n, tx_bytes: 700n, rx_packets: 10n, tx_packets: 5n },
    );
    assert.equal(body.total.rx_bytes, 1800n);
    assert.equal(body.total.tx_bytes, 800n);
  });

  test('GET /api/traffic/latest gives the newest stored sample of each interface, or of one', async () => {
    const { status, body } = await srv.get('/api/traffic/latest');
    assert.equal(status, 200);
    assert.deepEqual(body.data.map((r: any) => r.interface), ['eth0', 'wlan0']);
    const history = await srv.get('/api/traffic/history?interface=eth0&limit=1');
    assert.deepEqual(body.data[0], history.body.data[0]);
    const one = await srv.get('/api/traffic/latest?interface=wlan0');
    assert.deepEqual(one.body.data.map((r: any) => [r.interface, r.rx_bytes]), [['wlan0', 300n]]);
  });

  test('GET /api/export/traffic?format=csv streams every raw sample with exact sums', async () => {
    const { status, headers, text } = await srv.get('/api/export/traffic?format=csv');
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(headers.get('content-disposition') ?? '', /attachment; filename="netpulse-traffic-\d{4}-\d{2}-\d{2}\.csv"/);
    const [header, ...lines] = text.trimEnd().split('\n');
    assert.equal(header, 'timestamp,interface_name,span_seconds,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_errors,tx_errors,rx_drops,tx_drops');
    const sums = new Map<string, bigint>();
    for (const line of lines) {
      const cells = line.split(',');
      assert.equal(cells.length, 11, line);
      sums.set(cells[1]!, (sums.get(cells[1]!) ?? 0n) + BigInt(cells[3]!));
    }
    assert.deepEqual(Object.fromEntries(sums), { eth0: 1500n, wlan0: 300n });
  });

  test('GET /api/export/traffic?format=json gives the same totals at every resolution', async () => {
    for (const resolution of ['raw', 'minute', 'hour', 'day']) {
      const { status, headers, body } = await srv.get(`/api/export/traffic?format=json&resolution=${resolution}`);
      assert.equal(status, 200, resolution);
      assert.match(headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(sumField(body.data, 'rx_bytes'), 1800n, resolution);
      assert.equal(sumField(body.data, 'tx_packets'), 7n, resolution);
      assert.equal('span_seconds' in body.data[0], resolution === 'raw', resolution);
    }
    const eth0 = await srv.get('/api/export/traffic?format=json&resolution=day&interface=eth0');
    assert.deepEqual(eth0.body.data.map((r: any) => [r.interface_name, r.rx_bytes]), [['eth0', 1500n]]);
  });

  test('GET /api/system/info describes the machine and the database', async () => {
    const { status, body } = await srv.get('/api/system/info');
    assert.equal(status, 200);
    assert.equal(body.platform, process.platform);
    assert.equal(body.node_version, process.version);
    assert.equal(body.timezone, 'UTC');
    assert.equal(body.database_path, srv.dbPath);
    assert.ok(body.database_size_bytes > 0n);
  });

  test('GET /api/system/health checks the database, the collector, its errors and the disk', async () => {
    const { status, body } = await srv.get('/api/system/health');
    assert.equal(status, 200);
    assert.deepEqual(body.checks.map((c: any) => c.name), ['database', 'collector', 'collector_errors', 'disk']);
    const byName = new Map<string, any>(body.checks.map((c: any) => [c.name, c]));
    assert.equal(byName.get('database').ok, true);
    assert.equal(byName.get('collector').ok, true);
    assert.equal(byName.get('collector_errors').ok, true);
  });

  test('GET /api/system/metrics reports this process: memory, polls and database size', async () => {
    const { status, body } = await srv.get('/api/system/metrics');
    assert.equal(status, 200);
    assert.ok(body.rss_bytes > 0n);
    assert.ok(body.polls >= 3n);
    assert.equal(body.failed_polls, 0n);
    assert.ok(body.database_size_bytes > 0n);
    assert.equal(body.live_subscribers, 0n);
  });

  test('GET /metrics gives Prometheus totals equal to the stored all-time totals', async () => {
    const { status, headers, text } = await srv.get('/metrics');
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const value = (line: string) => new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1];
    for (const name of ['eth0', 'wlan0']) {
      const stats = (await srv.get(`/api/interfaces/${name}/stats`)).body.all_time;
      assert.equal(value(`netpulse_receive_bytes_total{interface="${name}"}`), String(stats.rx_bytes), name);
      assert.equal(value(`netpulse_transmit_bytes_total{interface="${name}"}`), String(stats.tx_bytes), name);
      assert.equal(value(`netpulse_receive_packets_total{interface="${name}"}`), String(stats.rx_packets), name);
    }
    assert.equal(value('netpulse_receive_bytes_total{interface="lo"}'), undefined, 'lo is not monitored');
    assert.equal(value('netpulse_collector_up'), '1');
    assert.equal(value('netpulse_collector_interval_seconds'), '3600');
    assert.equal(value('netpulse_interface_monitored{interface="eth0"}'), '1');
  });

  test('GET /docs answers the OpenAPI UI and /docs/json lists every endpoint of the seeds', async () => {
    const ui = await srv.get('/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(ui.text, /swagger-ui/i);
    const spec = await srv.get('/docs/json');
    assert.equal(spec.status, 200);
    assert.match(spec.body.openapi, /^3\./);
    const listed = new Set<string>();
    for (const [path, methods] of Object.entries(spec.body.paths as Record<string, object>)) {
      for (const m of Object.keys(methods)) listed.add(`${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`);
    }
    const seeds = [
      'GET /', 'GET /health', 'GET /api/health', 'GET /collector/status',
      'POST /collector/start', 'POST /collector/stop', 'POST /collector/collect',
      'GET /api/interfaces', 'GET /api/interfaces/{}', 'GET /api/interfaces/{}/stats',
      'GET /api/config/monitored_interfaces', 'POST /api/config/monitored_interfaces',
      'GET /api/config/interfaces', 'PUT /api/config/interfaces',
      'GET /api/config/collection-interval', 'PUT /api/config/collection-interval',
      'GET /api/traffic', 'GET /api/traffic/history', 'GET /api/traffic/summary', 'GET /api/traffic/latest',
      'GET /api/system/info', 'GET /api/system/health', 'GET /api/system/metrics', 'GET /api/export/traffic',
    ];
    assert.deepEqual(seeds.filter((s) => !listed.has(s)), []);
  });

  test('GET / answers JSON application info when the client accepts application/json', async () => {
    const { status, headers, body } = await srv.get('/', { accept: 'application/json' });
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(body.name, 'Net-Pulse');
    assert.equal(body.docs, '/docs');
    assert.equal(body.health, '/health');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  });

  test('an unknown route answers 404 with the JSON error shape', async () => {
    const { status, body } = await srv.get('/api/nothing-here');
    assert.equal(status, 404);
    assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
    assert.equal(body.code, 'NOT_FOUND');
    assert.match(body.message, /\/api\/nothing-here/);
  });
});

describe('/api/traffic null and zero buckets', { concurrency: 3 }, () => {
  test('buckets before the collector first ran are null', async (t) => {
    const srv = await startTestServer(t);
    const startedAtSec = Math.floor(Date.parse((await srv.get('/collector/status')).body.started_at) / 1000);
    const { status, body } = await srv.get('/api/traffic?time_window_hours=1&group_minutes=1&interface=wlan0');
    assert.equal(status, 200);
    const before = body.data.filter((p: any) => isoSec(p.timestamp) + 60 <= startedAtSec - 1);
    assert.ok(before.length >= 58, `${before.length} buckets before the start`);
    for (const p of before) assert.deepEqual([p.rx_bytes, p.tx_bytes, p.rx_packets, p.tx_packets], [null, null, null, null], p.timestamp);
  });

  test('a bucket the collector ran through without traffic is 0, not null', async (t) => {
    await awayFromBucketEdge(HOUR, 15_000);
    const srv = await startTestServer(t);
    const startedAtMs = Date.parse((await srv.get('/collector/status')).body.started_at);
    await waitFor('a second of collecting', () => Date.now() >= startedAtMs + 1500, 5000);
    await srv.collect();
    const { body } = await srv.get('/api/traffic?time_window_hours=2&group_minutes=60&interface=wlan0');
    const now = body.data.at(-1);
    assert.deepEqual([now.rx_bytes, now.tx_bytes, now.rx_packets, now.tx_packets], [0n, 0n, 0n, 0n], `${now.timestamp} holds now`);
    assert.equal(body.data.at(-2).rx_bytes, null, 'the hour before the start');
  });

  test('the bucket holding the start is null after the baseline poll and 0 once a second poll covered it', async (t) => {
    // startServer returns after its first poll: a baseline, which covers no time yet.
    const srv = await startTestServer(t);
    await awayFromBucketEdge(60, 3500);
    const first = await srv.get('/api/traffic?time_window_hours=1&group_minutes=1&interface=wlan0');
    const before = first.body.data.at(-1);
    assert.deepEqual([before.rx_bytes, before.covered_seconds], [null, null], `${before.timestamp} after the baseline`);
    // Run times are whole seconds: let more than one pass so the second poll covers some of the bucket.
    const since = Date.now();
    await waitFor('1.5 s to pass since the baseline', () => Date.now() - since >= 1500, 3000);
    await srv.collect();
    const second = await srv.get('/api/traffic?time_window_hours=1&group_minutes=1&interface=wlan0');
    const now = second.body.data.at(-1);
    assert.deepEqual([now.rx_bytes, now.tx_bytes, now.rx_packets, now.tx_packets], [0n, 0n, 0n, 0n], `${now.timestamp} holds now`);
  });

  test('sums in /api/traffic are exact after the counters advance by known amounts', async (t) => {
    const srv = await startTestServer(t);
    await awayFromBucketEdge(HOUR);
    const steps = [
      { rxBytes: 123_456_789n, txBytes: 1n, rxPackets: 90_000n, txPackets: 1n },
      { rxBytes: 1n, txBytes: 987_654_321n, rxPackets: 1n, txPackets: 700_000n },
      { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n },
      { rxBytes: 42n, txBytes: 58n, rxPackets: 2n, txPackets: 3n },
    ];
    for (const step of steps) {
      srv.advance('eth0', step);
      await srv.collect();
    }
    const { body } = await srv.get('/api/traffic?time_window_hours=2&group_minutes=60&interface=eth0');
    assert.equal(sumField(body.data, 'rx_bytes'), 123_456_832n);
    assert.equal(sumField(body.data, 'tx_bytes'), 987_654_380n);
    assert.equal(sumField(body.data, 'rx_packets'), 90_003n);
    assert.equal(sumField(body.data, 'tx_packets'), 700_004n);
  });
});

describe('configuration writes', { concurrency: 3 }, () => {
  test('POST /api/config/monitored_interfaces replaces the set, and /api/traffic then sums the new set', async (t) => {
    const srv = await startTestServer(t);
    await awayFromBucketEdge(HOUR);
    const saved = await srv.post('/api/config/monitored_interfaces', ['lo', 'eth0', 'eth0']);
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body, ['eth0', 'lo']);
    assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['eth0', 'lo']);
    assert.deepEqual((await srv.get('/collector/status')).body.monitored_interfaces, ['eth0', 'lo']);

    srv.advance('lo', { rxBytes: 64n, txBytes: 64n });
    srv.advance('wlan0', { rxBytes: 1_000n });
    srv.advance('eth0', { rxBytes: 10n });
    await srv.collect();
    const { body } = await srv.get('/api/traffic?time_window_hours=1&group_minutes=60');
    assert.deepEqual(body.interfaces, ['eth0', 'lo']);
    assert.equal(sumField(body.data, 'rx_bytes'), 74n, 'eth0 + lo; wlan0 is no longer stored');
  });

  test('PUT /api/config/interfaces replaces the set and answers { interfaces }', async (t) => {
    const srv = await startTestServer(t);
    const saved = await srv.put('/api/config/interfaces', { interfaces: ['wlan0'] });
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body, { interfaces: ['wlan0'], source: 'config', filter: null });
    assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['wlan0']);
  });

  test('the monitored set survives a restart of the server on the same database', async (t) => {
    const srv = await startTestServer(t);
    assert.equal((await srv.post('/api/config/monitored_interfaces', ['wlan0'])).status, 200);
    await srv.restart();
    assert.deepEqual((await srv.get('/api/config/monitored_interfaces')).body, ['wlan0']);
  });

  test('PUT /api/config/collection-interval stores the interval and the collector polls on it at once', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_POLL_INTERVAL: undefined } });
    const before = await srv.get('/api/config/collection-interval');
    assert.deepEqual(before.body, { interval_seconds: 30n, source: 'default', configured_seconds: null, min_seconds: 1n, max_seconds: 3600n });
    const saved = await srv.put('/api/config/collection-interval', { interval_seconds: 45 });
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body, { interval_seconds: 45n, source: 'config', configured_seconds: 45n, min_seconds: 1n, max_seconds: 3600n });
    const status = (await srv.get('/collector/status')).body;
    assert.equal(status.interval_seconds, 45n);
    assert.equal(isoSec(status.next_poll_at) % 45, 0, status.next_poll_at);
    await srv.restart();
    assert.equal((await srv.get('/api/config/collection-interval')).body.source, 'config', 'stored across a restart');
  });

  test('with NETPULSE_POLL_INTERVAL set the source is env, and PUT stores configured_seconds without changing the interval in force', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_POLL_INTERVAL: '120' } });
    const saved = await srv.put('/api/config/collection-interval', { interval_seconds: 45 });
    assert.equal(saved.status, 200);
    assert.deepEqual(saved.body, { interval_seconds: 120n, source: 'env', configured_seconds: 45n, min_seconds: 1n, max_seconds: 3600n });
    assert.equal((await srv.get('/collector/status')).body.interval_seconds, 120n);
    assert.equal(isoSec((await srv.get('/collector/status')).body.next_poll_at) % 120, 0);
  });
});

describe('collector control', { concurrency: 3 }, () => {
  test('POST /collector/stop stops the timer, POST /collector/collect still polls, POST /collector/start resumes', async (t) => {
    const srv = await startTestServer(t);
    const stopped = await srv.post('/collector/stop');
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.running, false);
    assert.equal(stopped.body.next_poll_at, null);
    assert.equal((await srv.get('/health')).body.collector_running, false);
    assert.match((await srv.get('/metrics')).text, /^netpulse_collector_up 0$/m);

    srv.advance('eth0', { rxBytes: 321n, rxPackets: 3n });
    const polled = await srv.collect();
    assert.equal(polled.body.baseline, false);
    assert.deepEqual(polled.body.samples.map((s: any) => [s.interface, s.rx_bytes, s.rx_packets]), [['eth0', 321n, 3n]]);
    assert.equal((await srv.get('/collector/status')).body.running, false);

    const started = await srv.post('/collector/start');
    assert.equal(started.status, 200);
    assert.equal(started.body.running, true);
    assert.equal(isoSec(started.body.next_poll_at) % HOUR, 0);
    assert.equal((await srv.get('/api/interfaces/eth0/stats')).body.all_time.rx_bytes, 321n);
  });

  test('POST /collector/collect answers 503 COLLECT_FAILED while the counters cannot be read, and counts on once they can', async (t) => {
    const srv = await startTestServer(t);
    rmSync(join(srv.tree.procRoot, 'net', 'dev'));
    const failed = await srv.post('/collector/collect');
    assert.equal(failed.status, 503);
    assert.equal(failed.body.code, 'COLLECT_FAILED');
    assert.match(failed.body.message, /net\/dev/);
    const health = await srv.get('/api/system/health');
    assert.equal(health.body.status, 'degraded');
    srv.advance('eth0', { rxBytes: 77n });
    await srv.collect();
    assert.equal((await srv.get('/api/interfaces/eth0/stats')).body.all_time.rx_bytes, 77n);
    assert.equal((await srv.get('/collector/status')).body.last_error, null);
  });

  test('with NETPULSE_POLL_INTERVAL=1 the collector polls by itself on whole seconds', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_POLL_INTERVAL: '1' } });
    const first = (await srv.get('/collector/status')).body;
    assert.equal(first.interval_seconds, 1n);
    assert.equal(Date.parse(first.next_poll_at) % 1000, 0, first.next_poll_at);
    const seen = new Set<string>();
    await waitFor('three timer polls', async () => {
      const s = (await srv.get('/collector/status')).body;
      if (s.polls > first.polls && s.last_poll_at !== null) seen.add(s.last_poll_at);
      return seen.size >= 3;
    }, 8000);
    // A poll reads the counters right after its tick; a busy machine may delay one tick, not all of them.
    const offsets = [...seen].map((iso) => {
      const ms = Date.parse(iso) % 1000;
      return Math.min(ms, 1000 - ms);
    });
    assert.ok(Math.min(...offsets) < 250, `polls at ${[...seen].join(', ')} are not on whole seconds`);
  });

  test('traffic shows in /api/traffic within one poll interval of start, without a manual collect', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_POLL_INTERVAL: '1' } });
    srv.advance('eth0', { rxBytes: 4096n, txBytes: 1024n });
    // The next aligned tick is at most 1 s away; the rest of the deadline is slack for a busy machine.
    await waitFor('the timer to store the traffic', async () => {
      const { body } = await srv.get('/api/traffic?time_window_hours=1&group_minutes=1&interface=eth0');
      return sumField(body.data, 'rx_bytes') === 4096n && sumField(body.data, 'tx_bytes') === 1024n;
    }, 4000);
    assert.equal((await srv.get('/collector/status')).body.failed_polls, 0n);
  });
});

describe('time zones', { concurrency: 3 }, () => {
  test('day buckets start at local midnight of NETPULSE_TZ', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_TZ: 'Asia/Kolkata' } });
    srv.advance('eth0', { rxBytes: 5n });
    await srv.collect();
    const { status, body } = await srv.get('/api/traffic?time_window_hours=72&group_minutes=1440');
    assert.equal(status, 200);
    assert.equal(body.timezone, 'Asia/Kolkata');
    for (const p of body.data) assert.match(p.timestamp, /T18:30:00\.000Z$/, 'midnight at +05:30');
    assert.equal(sumField(body.data, 'rx_bytes'), 5n);
  });
});
