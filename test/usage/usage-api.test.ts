import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main, type Io } from '../../src/cli/main.js';
import { startTestServer, parseJsonExact } from '../helpers/server.js';

function captureIo(env: Record<string, string | undefined>): Io & { stdout: NodeJS.WritableStream; text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    stdout: process.stdout,
    env,
    text: () => out,
    errors: () => err,
  };
}

describe('GET /api/usage', () => {
  test('usage answers day, month and year rows for the total of the physical interfaces, exact to the byte', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('eth0', { rxBytes: 1_234_567n, txBytes: 89n });
    srv.advance('wlan0', { rxBytes: 1_000n, txBytes: 1n });
    await srv.collect();
    for (const period of ['day', 'month', 'year']) {
      const { status, body } = await srv.get(`/api/usage?period=${period}`);
      assert.equal(status, 200);
      assert.equal(body.period, period);
      assert.deepEqual(body.interfaces, ['eth0', 'wlan0']);
      assert.equal(body.device.is_local, true);
      assert.equal(body.timezone, 'UTC');
      assert.equal(body.rows.length, 1);
      assert.equal(body.rows[0].current, true);
      assert.equal(body.rows[0].rx_bytes, 1_235_567n);
      assert.equal(body.rows[0].tx_bytes, 90n);
      assert.equal(body.rows[0].total_bytes, 1_235_657n);
    }
    const one = await srv.get('/api/usage?period=month&interface=wlan0');
    assert.equal(one.body.rows[0].rx_bytes, 1_000n);
    assert.deepEqual(one.body.interfaces, ['wlan0']);
    const self = await srv.get(`/api/usage?period=day&device=${srv.server.ctx.device.deviceId}`);
    assert.equal(self.status, 200);
  });

  test('usage refuses bad input with stable codes', async (t) => {
    const srv = await startTestServer(t);
    const cases: [string, number, string][] = [
      ['/api/usage?period=week', 400, 'INVALID_PERIOD'],
      ['/api/usage', 400, 'VALIDATION_ERROR'],
      ['/api/usage?period=day&limit=0', 400, 'INVALID_LIMIT'],
      ['/api/usage?period=day&limit=1001', 400, 'INVALID_LIMIT'],
      ['/api/usage?period=day&interface=bad/name', 400, 'INVALID_INTERFACE_NAME'],
      ['/api/usage?period=day&interface=nope0', 404, 'UNKNOWN_INTERFACE'],
      ['/api/usage?period=day&device=laptop', 400, 'INVALID_DEVICE'],
      ['/api/usage?period=day&device=all', 400, 'SYNC_NOT_CONFIGURED'],
      ['/api/usage?period=day&device=6f1c2a8e-0000-4000-8000-000000000000', 400, 'SYNC_NOT_CONFIGURED'],
    ];
    for (const [path, status, code] of cases) {
      const a = await srv.get(path);
      assert.equal(a.status, status, `${path}: ${a.text}`);
      assert.equal(a.body.code, code, path);
    }
  });
});

describe('data cap and alerts API', () => {
  test('PUT data-cap stores the cap, evaluates it at once, and GET /api/alerts lists what fired', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('eth0', { rxBytes: 900n, txBytes: 100n });
    await srv.collect();
    const put = await srv.put('/api/config/data-cap', { limit: '1.2 kB', thresholds_percent: [50, 80, 100], month_start_day: 15 });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.limit_bytes, 1_200n);
    assert.equal(put.body.month_start_day, 15n);
    assert.equal(put.body.month_start_day_source, 'config');
    assert.equal(put.body.status.used_bytes, 1_000n);
    assert.equal(put.body.status.remaining_bytes, 200n);
    assert.equal(put.body.status.percent_used, 83.33);
    // Thresholds only: whether the month-end projection fires depends on today's date.
    const thresholds = async () =>
      ((await srv.get('/api/alerts')).body.alerts as { kind: string; threshold_percent: bigint }[]).filter((a) => a.kind === 'threshold').map((a) => a.threshold_percent);
    assert.deepEqual(await thresholds(), [80n, 50n]);
    const alerts = await srv.get('/api/alerts');
    assert.equal(alerts.body.alerts[0].webhook.status, 'not_configured');
    const fired = alerts.body.alerts.length;

    // The cap and its alerts survive a restart; nothing fires twice.
    await srv.restart();
    const again = await srv.get('/api/config/data-cap');
    assert.equal(again.body.limit_bytes, 1_200n);
    assert.equal((await srv.get('/api/alerts')).body.alerts.length, fired);
    srv.advance('eth0', { rxBytes: 500n });
    await srv.collect();
    await srv.put('/api/config/data-cap', { limit_bytes: 1200, thresholds_percent: [50, 80, 100], month_start_day: 15 });
    assert.deepEqual(await thresholds(), [100n, 80n, 50n]);
    const usage = await srv.get('/api/usage?period=month');
    assert.equal(usage.body.month_start_day, 15n);

    const off = await srv.put('/api/config/data-cap', { limit_bytes: null });
    assert.equal(off.body.limit_bytes, null);
    assert.equal(off.body.status, null);
  });

  test('PUT data-cap refuses a bad cap with INVALID_CAP', async (t) => {
    const srv = await startTestServer(t);
    const bad: [unknown, number, string][] = [
      [{ limit: 'lots' }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 0 }, 400, 'INVALID_CAP'],
      [{}, 400, 'INVALID_CAP'],
      [{ limit: '1 TB', limit_bytes: 5 }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 5, month_start_day: 29 }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 5, thresholds_percent: [] }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 5, thresholds_percent: [0] }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 5, direction: 'up' }, 400, 'INVALID_CAP'],
      [{ limit_bytes: 5, interface: 'nope0' }, 404, 'UNKNOWN_INTERFACE'],
      [{ limit_bytes: 5, colour: 'red' }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of bad) {
      const a = await srv.put('/api/config/data-cap', body);
      assert.equal(a.status, status, `${JSON.stringify(body)}: ${a.text}`);
      assert.equal(a.body.code, code, JSON.stringify(body));
    }
  });

  test('PUT data-cap will not change a month start day that NETPULSE_MONTH_START_DAY sets', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_MONTH_START_DAY: '7' } });
    const a = await srv.put('/api/config/data-cap', { limit: '1 TB', month_start_day: 3 });
    assert.equal(a.status, 409);
    assert.equal(a.body.code, 'MONTH_START_DAY_FROM_ENV');
    const b = await srv.put('/api/config/data-cap', { limit: '1 TB' });
    assert.equal(b.body.month_start_day, 7n);
    assert.equal(b.body.month_start_day_source, 'env');
  });
});

describe('GET /api/devices without sync', () => {
  test('devices lists this device alone, with its month totals, and says sync is disabled', async (t) => {
    const srv = await startTestServer(t, { env: { NETPULSE_DEVICE_NAME: 'rack-1' } });
    srv.advance('eth0', { rxBytes: 10n, txBytes: 5n });
    await srv.collect();
    const { status, body } = await srv.get('/api/devices');
    assert.equal(status, 200);
    assert.equal(body.sync.configured, false);
    assert.equal(body.sync.state, 'disabled');
    assert.equal(body.devices.length, 1);
    assert.equal(body.devices[0].name, 'rack-1');
    assert.equal(body.devices[0].is_local, true);
    assert.match(body.devices[0].id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body.devices[0].month, { rx_bytes: 10n, tx_bytes: 5n, total_bytes: 15n });
    assert.deepEqual(body.all, { rx_bytes: 10n, tx_bytes: 5n, total_bytes: 15n });
    // The id is kept across restarts.
    const id = body.devices[0].id;
    await srv.restart();
    assert.equal((await srv.get('/api/devices')).body.devices[0].id, id);
  });

  test('the OpenAPI document at /docs describes the usage, cap, alerts and devices routes', async (t) => {
    const srv = await startTestServer(t);
    const { body } = await srv.get('/docs/json');
    for (const path of ['/api/usage', '/api/config/data-cap', '/api/alerts', '/api/devices']) assert.ok(body.paths[path], path);
    assert.ok(body.paths['/api/config/data-cap'].put);
  });
});

describe('netpulse usage', () => {
  test('usage --json prints today, this month and all time from the database', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('eth0', { rxBytes: 2_000_000n, txBytes: 3n });
    await srv.collect();
    await srv.stop();
    const io = captureIo(srv.env);
    assert.equal(await main(['usage', '--json'], io), 0, io.errors());
    const out = parseJsonExact(io.text()) as Record<string, any>;
    assert.deepEqual(out.interfaces, ['eth0'], 'wlan0 has no stored traffic');
    assert.equal(out.today.rx_bytes, 2_000_000n);
    assert.equal(out.this_month.rx_bytes, 2_000_000n);
    assert.equal(out.all_time.total_bytes, 2_000_003n);
    assert.equal(out.units, 'decimal');
  });

  test('usage prints a vnStat-like table, in binary units with --binary', async (t) => {
    const srv = await startTestServer(t);
    srv.advance('eth0', { rxBytes: 3n * 2n ** 30n });
    await srv.collect();
    await srv.stop();
    const io = captureIo(srv.env);
    assert.equal(await main(['usage', '--binary', '--interface', 'eth0'], io), 0, io.errors());
    const text = io.text();
    assert.match(text, /eth0 {2}· {2}UTC/);
    assert.match(text, /today\s+\|\s+3\.00 GiB/);
    assert.match(text, /this month/);
    assert.match(text, /all time/);
  });

  test('usage refuses an unknown option with exit code 2', async () => {
    const io = captureIo({});
    assert.equal(await main(['usage', '--weekly'], io), 2);
    assert.match(io.errors(), /netpulse usage --help/);
  });
});
