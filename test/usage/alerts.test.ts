import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { InterfaceMeta } from '../../src/collector/counter-source.js';
import { createAlertsService, type AlertsService, type WebhookOptions } from '../../src/services/alerts-service.js';
import { createUsageService } from '../../src/services/usage-service.js';
import type { Logger } from '../../src/shared/logger.js';
import { openDatabase, type Db } from '../../src/storage/db.js';
import { createTrafficRepo } from '../../src/storage/traffic-repo.js';
import { makeStore } from '../helpers/store.js';

const GB = 10n ** 9n;
const at = (iso: string) => Date.parse(iso) / 1000;
const zero = { rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
const eth0: InterfaceMeta = { name: 'eth0', kind: 'ethernet', ifindex: 2, isUp: true, operState: 'up', mtu: 1500, speedMbps: 1000, mac: null, isVirtual: false, addresses: [], hasDefaultRoute: true };

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const fn = (level: string) => (a: unknown, b?: string) => lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
  const logger: Logger = { error: fn('error'), warn: fn('warn'), info: fn('info'), debug: fn('debug') };
  return { logger, lines };
}

/** Usage and alerts over one database file, with a clock the test moves. */
function services(db: Db, clock: { nowMs: number }, webhook: WebhookOptions = { url: null }, logger = recordingLogger().logger) {
  const traffic = createTrafficRepo(db, { timezone: 'UTC' });
  const usage = createUsageService({ traffic, timezone: 'UTC', monthStartDay: () => 1, interfaceFilter: null, listInterfaces: async () => [eth0], now: () => clock.nowMs });
  const alerts = createAlertsService({ db, usage, logger, now: () => clock.nowMs, units: 'decimal', webhook, device: { id: 'dev-1', name: 'box' } });
  const write = (endIso: string, bytes: bigint) => traffic.write([{ interfaceName: 'eth0', startSec: at(endIso) - 60, endSec: at(endIso), counters: { ...zero, rxBytes: bytes, txBytes: 0n } }]);
  return { traffic, usage, alerts, write };
}

const summary = (fired: { kind: string; thresholdPercent: number }[]) => fired.map((a) => `${a.kind}:${a.thresholdPercent}`);

describe('data cap status', () => {
  test('status projects the month end from the month so far and gives the percent used', async (t) => {
    const store = makeStore(t);
    const clock = { nowMs: Date.parse('2026-04-11T00:00:00Z') }; // 10 of 30 days gone
    const s = services(store.db, clock);
    t.after(() => s.alerts.close());
    s.write('2026-04-03T10:00:00Z', 2n * GB);
    s.write('2026-03-31T10:00:00Z', 50n * GB); // last month: not counted
    s.alerts.setCap({ limitBytes: 9n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80, 100], monthStartDay: null });
    const st = (await s.alerts.status())!;
    assert.equal(st.usedBytes, 2n * GB);
    assert.equal(st.projectedBytes, 6n * GB);
    assert.equal(st.percentUsed, 22.22);
    assert.equal(st.projectedPercent, 66.66);
    assert.equal(st.startDate, '2026-04-01');
    assert.equal(st.endDate, '2026-05-01');
  });

  test('status counts one direction when the cap says so', async (t) => {
    const store = makeStore(t);
    const clock = { nowMs: Date.parse('2026-04-11T00:00:00Z') };
    const s = services(store.db, clock);
    t.after(() => s.alerts.close());
    s.traffic.write([{ interfaceName: 'eth0', startSec: at('2026-04-02T00:00:00Z'), endSec: at('2026-04-02T00:01:00Z'), counters: { ...zero, rxBytes: 5n, txBytes: 7n } }]);
    s.alerts.setCap({ limitBytes: 100n, interfaceName: 'eth0', direction: 'tx', thresholdsPercent: [80], monthStartDay: null });
    assert.equal((await s.alerts.status())!.usedBytes, 7n);
  });
});

describe('data cap alerts', () => {
  test('each crossing fires once, also across a restart on the same database', async (t) => {
    const store = makeStore(t);
    const dbPath = store.dbPath;
    const clock = { nowMs: Date.parse('2026-03-10T12:00:00Z') };
    const log = recordingLogger();
    let s = services(store.db, clock, { url: null }, log.logger);
    s.alerts.setCap({ limitBytes: 10n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80, 100], monthStartDay: null });
    s.write('2026-03-05T10:00:00Z', 8_500_000_000n);

    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:80', 'projection:100']);
    assert.deepEqual(summary(await s.alerts.evaluate()), [], 'the same crossing does not fire again');
    assert.equal(log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('Data cap')).length, 2);
    await s.alerts.close();
    store.db.close();

    // Restart: a new process on the same file.
    const db2 = openDatabase(dbPath);
    t.after(() => db2.close());
    s = services(db2, clock);
    t.after(() => s.alerts.close());
    assert.deepEqual(summary(await s.alerts.evaluate()), [], 'nothing fires again after a restart');
    s.write('2026-03-10T11:00:00Z', 2n * GB);
    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:100']);
    assert.deepEqual(summary(await s.alerts.evaluate()), []);

    // A new billing month is a new crossing.
    clock.nowMs = Date.parse('2026-04-03T12:00:00Z');
    s.write('2026-04-02T10:00:00Z', 8n * GB);
    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:80', 'projection:100']);
    const list = s.alerts.list(10);
    assert.equal(list.length, 5);
    assert.match(list[0]!.message, /projected/);
    assert.equal(list.at(-1)!.usedBytes, 8_500_000_000n);
  });

  test('the projection does not fire in the first day of the billing month, nor once the cap is reached', async (t) => {
    const store = makeStore(t);
    const clock = { nowMs: Date.parse('2026-03-01T10:00:00Z') };
    const s = services(store.db, clock);
    t.after(() => s.alerts.close());
    s.alerts.setCap({ limitBytes: 100n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80, 100], monthStartDay: null });
    s.write('2026-03-01T09:00:00Z', 10n * GB); // projected 744 GB, but only 10 hours in
    assert.deepEqual(summary(await s.alerts.evaluate()), []);
    clock.nowMs = Date.parse('2026-03-03T00:00:00Z');
    s.write('2026-03-02T09:00:00Z', 95n * GB); // over the cap: the thresholds say it, not the projection
    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:80', 'threshold:100']);
  });

  test('a changed limit is a new cap whose thresholds may fire again', async (t) => {
    const store = makeStore(t);
    const clock = { nowMs: Date.parse('2026-03-28T00:00:00Z') }; // 27 of 31 days: 8.5 GB projects to 9.76 GB
    const s = services(store.db, clock);
    t.after(() => s.alerts.close());
    s.write('2026-03-19T10:00:00Z', 8_500_000_000n);
    s.alerts.setCap({ limitBytes: 10n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80], monthStartDay: null });
    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:80']);
    s.alerts.setCap({ limitBytes: 10_500_000_000n, interfaceName: null, direction: 'both', thresholdsPercent: [80], monthStartDay: null });
    assert.deepEqual(summary(await s.alerts.evaluate()), ['threshold:80']);
  });
});

/** A webhook receiver on 127.0.0.1 that answers with the given statuses in turn (the last repeats). */
async function receiver(t: TestContext, statuses: number[]) {
  const bodies: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body });
      res.statusCode = statuses[Math.min(bodies.length - 1, statuses.length - 1)]!;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function fireOne(t: TestContext, webhook: WebhookOptions): Promise<AlertsService> {
  const store = makeStore(t);
  const clock = { nowMs: Date.parse('2026-03-28T00:00:00Z') };
  const s = services(store.db, clock, webhook);
  t.after(() => s.alerts.close());
  s.write('2026-03-19T10:00:00Z', 8_500_000_000n);
  s.alerts.setCap({ limitBytes: 10n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80], monthStartDay: null });
  assert.equal((await s.alerts.evaluate()).length, 1);
  return s.alerts;
}

describe('webhook', () => {
  test('a webhook that fails at first is retried with backoff until it takes the alert', async (t) => {
    const hook = await receiver(t, [503, 502, 200]);
    const withCredentials = hook.url.replace('http://', 'http://hook:s%3Acret@');
    const alerts = await fireOne(t, { url: withCredentials, baseDelayMs: 20, maxAttempts: 5 });
    await until(() => alerts.list(1)[0]!.webhook.status === 'delivered');
    assert.equal(hook.bodies.length, 3);
    assert.deepEqual(alerts.list(1)[0]!.webhook, { status: 'delivered', attempts: 3, lastError: null });
    const sent = hook.bodies[2]!;
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.equal(sent.headers.authorization, `Basic ${Buffer.from('hook:s:cret').toString('base64')}`, 'user:password@ becomes Basic auth');
    const payload = JSON.parse(sent.body);
    assert.equal(payload.event, 'data_cap.threshold');
    assert.deepEqual(payload.device, { id: 'dev-1', name: 'box' });
    assert.equal(payload.alert.threshold_percent, 80);
    assert.equal(payload.alert.limit_bytes, 10_000_000_000);
    assert.equal(payload.alert.used_bytes, 8_500_000_000);
    assert.equal(hook.bodies[0]!.body, sent.body, 'every attempt sends the same alert');
  });

  test('a webhook that keeps failing is given up after the bounded attempts', async (t) => {
    const hook = await receiver(t, [500]);
    const alerts = await fireOne(t, { url: hook.url, baseDelayMs: 5, maxAttempts: 3 });
    await until(() => alerts.list(1)[0]!.webhook.status === 'failed');
    assert.equal(hook.bodies.length, 3);
    assert.deepEqual(alerts.list(1)[0]!.webhook, { status: 'failed', attempts: 3, lastError: 'HTTP 500' });
  });

  test('a webhook that refuses the alert (4xx) is not retried', async (t) => {
    const hook = await receiver(t, [404, 200]);
    const alerts = await fireOne(t, { url: hook.url, baseDelayMs: 5, maxAttempts: 5 });
    await until(() => alerts.list(1)[0]!.webhook.status === 'failed');
    assert.equal(hook.bodies.length, 1);
  });

  test('an unreachable webhook is retried, and a restart resumes the pending delivery', async (t) => {
    const store = makeStore(t);
    const clock = { nowMs: Date.parse('2026-03-28T00:00:00Z') };
    // Port 9 on loopback: connection refused.
    const s = services(store.db, clock, { url: 'http://127.0.0.1:9/hook', baseDelayMs: 60_000, maxAttempts: 5 });
    s.write('2026-03-19T10:00:00Z', 8_500_000_000n);
    s.alerts.setCap({ limitBytes: 10n * GB, interfaceName: null, direction: 'both', thresholdsPercent: [80], monthStartDay: null });
    await s.alerts.evaluate();
    await until(() => s.alerts.list(1)[0]!.webhook.attempts === 1);
    assert.equal(s.alerts.list(1)[0]!.webhook.status, 'pending');
    await s.alerts.close(); // waiting out a 60 s backoff: shutdown interrupts it

    const hook = await receiver(t, [200]);
    const again = services(store.db, clock, { url: hook.url, baseDelayMs: 5, maxAttempts: 5 });
    t.after(() => again.alerts.close());
    again.alerts.start();
    await until(() => again.alerts.list(1)[0]!.webhook.status === 'delivered');
    assert.equal(again.alerts.list(1)[0]!.webhook.attempts, 2);
    assert.equal(hook.bodies.length, 1);
  });
});
