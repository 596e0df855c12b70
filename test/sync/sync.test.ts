/**
 * Replication to a real PostgreSQL (skipped, with the reason, when none can be started): two devices at
 * once, the database cut mid-sync, a changed time zone, and the all-devices view through the API.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import type { InterfaceMeta } from '../../src/collector/counter-source.js';
import { createUsageService, usageRows, type UsageService } from '../../src/services/usage-service.js';
import type { Logger } from '../../src/shared/logger.js';
import { COUNTER_COLUMNS } from '../../src/storage/counter-columns.js';
import type { Db } from '../../src/storage/db.js';
import { createTrafficRepo, type TrafficRepo } from '../../src/storage/traffic-repo.js';
import { loadDeviceIdentity, type DeviceIdentity } from '../../src/sync/device-identity.js';
import { PG_MIGRATIONS } from '../../src/sync/pg-schema.js';
import { remoteDaySource } from '../../src/sync/remote-usage.js';
import { createSyncService, type SyncService, type SyncTier } from '../../src/sync/sync-service.js';
import { testPostgres, type TestDatabase, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer } from '../helpers/server.js';
import { makeStore } from '../helpers/store.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const postgres = await testPostgres();
const skip = 'skip' in postgres ? postgres.skip : false;
const PG = postgres as TestPostgres;

const at = (iso: string) => Date.parse(iso) / 1000;
const zero = { rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };

function meta(name: string, kind: InterfaceMeta['kind']): InterfaceMeta {
  return { name, kind, ifindex: 1, isUp: true, operState: 'up', mtu: 1500, speedMbps: null, mac: null, isVirtual: false, addresses: [], hasDefaultRoute: false };
}

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const fn = (level: string) => (a: unknown, b?: string) => lines.push({ level, msg: typeof a === 'string' ? a : (b ?? '') });
  const logger: Logger = { error: fn('error'), warn: fn('warn'), info: fn('info'), debug: fn('debug') };
  return { logger, lines };
}

/** Deterministic, varied byte counts (an LCG), some past 2^32. */
function* byteCounts(seed: bigint): Generator<bigint> {
  let x = seed;
  for (;;) {
    x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    yield x >> 26n;
  }
}

interface Device {
  db: Db;
  traffic: TrafficRepo;
  identity: DeviceIdentity;
  usage: UsageService;
  sync: SyncService;
  clock: { nowMs: number };
  log: ReturnType<typeof recordingLogger>;
  /** Hourly samples for each interface from fromIso, `hours` of them. */
  fillHours(fromIso: string, hours: number, interfaces: string[], seed: bigint): void;
}

function makeDevice(t: TestContext, opts: { url: string; timezone: string; name: string; nowIso: string; kinds: Record<string, InterfaceMeta['kind']>; batchSize?: number; dir?: string; retry?: { baseMs: number; maxMs: number }; intervalMs?: number }): Device {
  const store = makeStore(t, { timezone: opts.timezone, ...(opts.dir === undefined ? {} : { dir: opts.dir }) });
  const clock = { nowMs: Date.parse(opts.nowIso) };
  const identity = loadDeviceIdentity(store.db, { name: opts.name, timezone: opts.timezone, nowSec: Math.floor(clock.nowMs / 1000) });
  const traffic = createTrafficRepo(store.db, { timezone: opts.timezone });
  const usage = createUsageService({
    traffic,
    timezone: opts.timezone,
    monthStartDay: () => 1,
    interfaceFilter: null,
    listInterfaces: async () => Object.entries(opts.kinds).map(([n, k]) => meta(n, k)),
    now: () => clock.nowMs,
  });
  const log = recordingLogger();
  const sync = createSyncService({
    db: store.db,
    url: opts.url,
    device: identity,
    usageInterfaces: () => usage.totalInterfaces(),
    intervalMs: opts.intervalMs ?? 60_000,
    logger: log.logger,
    now: () => clock.nowMs,
    batchSize: opts.batchSize ?? 500,
    retry: opts.retry ?? { baseMs: 20, maxMs: 200 },
    poolConfig: { connectionTimeoutMillis: 2000 },
  });
  t.after(() => sync.stop());
  return {
    db: store.db,
    traffic,
    identity,
    usage,
    sync,
    clock,
    log,
    fillHours(fromIso, hours, interfaces, seed) {
      const gen = byteCounts(seed);
      store.db.transaction(() => {
        for (let h = 0; h < hours; h++) {
          const start = at(fromIso) + h * 3600;
          for (const name of interfaces) {
            const rx = gen.next().value;
            const tx = gen.next().value;
            traffic.write([{ interfaceName: name, startSec: start, endSec: start + 3600, counters: { ...zero, rxBytes: rx, txBytes: tx, rxPackets: rx / 1000n, txPackets: tx / 1000n } }]);
          }
        }
      })();
    },
  };
}

async function freshDatabase(t: TestContext): Promise<TestDatabase> {
  const db = await PG.createDatabase();
  t.after(() => db.drop());
  return db;
}

/** Every row of a tier, as text, sorted: local SQLite… */
function localRows(d: Device, tier: SyncTier): string[] {
  const rows = d.db.prepare(`SELECT interface_name, bucket_start, ${COUNTER_COLUMNS.join(', ')} FROM ${tier}`).safeIntegers(true).all() as Record<string, unknown>[];
  return rows.map((r) => [r.interface_name, r.bucket_start, ...COUNTER_COLUMNS.map((c) => r[c])].join(' ')).sort();
}

/** …and PostgreSQL, for one device. */
async function pgRows(pool: pg.Pool, deviceId: string, tier: SyncTier): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT interface_name, bucket_start::text, ${COUNTER_COLUMNS.map((c) => `${c}::text`).join(', ')} FROM netpulse_${tier} WHERE device_id = $1`,
    [deviceId],
  );
  return rows.map((r: Record<string, string>) => [r.interface_name, r.bucket_start, ...COUNTER_COLUMNS.map((c) => r[c])].join(' ')).sort();
}

async function assertReplicated(pool: pg.Pool, d: Device, message: string): Promise<void> {
  for (const tier of ['traffic_1h', 'traffic_1d'] as const) {
    const local = localRows(d, tier);
    assert.ok(local.length > 0);
    assert.deepEqual(await pgRows(pool, d.identity.deviceId, tier), local, `${message}: ${tier} of ${d.identity.name}`);
  }
}

function pool(t: TestContext, url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 2 });
  p.on('error', () => undefined); // the database is dropped (WITH FORCE) after the test
  t.after(() => p.end());
  return p;
}

describe('PostgreSQL sync', { skip }, () => {
  test('the first sync creates the versioned schema, and a second instance finds it in place', async (t) => {
    const target = await freshDatabase(t);
    const a = makeDevice(t, { url: target.url, timezone: 'UTC', name: 'a', nowIso: '2026-05-02T00:30:00Z', kinds: { eth0: 'ethernet' } });
    a.fillHours('2026-05-01T00:00:00Z', 24, ['eth0'], 1n);
    await a.sync.syncNow();
    const p = pool(t, target.url);
    const versions = (await p.query('SELECT version, name FROM netpulse_schema_version ORDER BY version')).rows;
    assert.deepEqual(versions.map((v: { version: number }) => v.version), PG_MIGRATIONS.map((m) => m.version));
    const b = makeDevice(t, { url: target.url, timezone: 'UTC', name: 'b', nowIso: '2026-05-02T00:30:00Z', kinds: { eth0: 'ethernet' } });
    b.fillHours('2026-05-01T00:00:00Z', 1, ['eth0'], 2n);
    await b.sync.syncNow();
    assert.equal((await p.query('SELECT COUNT(*)::int AS n FROM netpulse_schema_version')).rows[0].n, PG_MIGRATIONS.length);
    const devices = (await p.query('SELECT name, timezone, usage_interfaces FROM netpulse_devices ORDER BY name')).rows;
    assert.deepEqual(devices, [
      { name: 'a', timezone: 'UTC', usage_interfaces: ['eth0'] },
      { name: 'b', timezone: 'UTC', usage_interfaces: ['eth0'] },
    ]);
  });

  test('two devices syncing at once into one database equal their local rollups to the byte', async (t) => {
    const target = await freshDatabase(t);
    // Kolkata (+05:30) and New York across its spring DST change, 40 days of hours each.
    const a = makeDevice(t, { url: target.url, timezone: 'Asia/Kolkata', name: 'kolkata', nowIso: '2026-03-31T00:30:00Z', kinds: { eth0: 'ethernet', wlan0: 'wireless' }, batchSize: 300 });
    const b = makeDevice(t, { url: target.url, timezone: 'America/New_York', name: 'new-york', nowIso: '2026-03-31T00:30:00Z', kinds: { eth0: 'ethernet', docker0: 'container' }, batchSize: 300 });
    a.fillHours('2026-02-19T00:00:00Z', 40 * 24, ['eth0', 'wlan0'], 11n);
    b.fillHours('2026-02-19T00:00:00Z', 40 * 24, ['eth0', 'docker0'], 22n);
    // One bucket past 2^53, where a double would round.
    a.traffic.write([{ interfaceName: 'eth0', startSec: at('2026-03-30T10:00:00Z'), endSec: at('2026-03-30T10:00:01Z'), counters: { ...zero, rxBytes: 2n ** 60n + 1n, txBytes: 3n } }]);

    const [ra, rb] = await Promise.all([a.sync.syncNow(), b.sync.syncNow()]);
    assert.ok(ra.buckets > 1900 && rb.buckets > 1900);
    const p = pool(t, target.url);
    await assertReplicated(p, a, 'after the first sync');
    await assertReplicated(p, b, 'after the first sync');

    // The all-devices sum by date equals the two local views added together.
    const nowSec = at('2026-03-31T00:30:00Z');
    const all = await usageRows(remoteDaySource(p, { deviceId: null, excludeDeviceId: null, interfaceName: null }), { period: 'month', monthStartDay: 1, timeZone: 'UTC', nowSec, limit: 3 });
    const localA = (await a.usage.rows({ period: 'month', interfaceName: null, limit: 3 })).rows;
    const localB = (await b.usage.rows({ period: 'month', interfaceName: null, limit: 3 })).rows;
    assert.deepEqual((await b.usage.totalInterfaces()), ['eth0'], 'docker0 is not in the total');
    for (let i = 0; i < 2; i++) {
      assert.equal(all[i]!.label, localA[i]!.label);
      assert.equal(all[i]!.rxBytes, localA[i]!.rxBytes + localB[i]!.rxBytes, `rx of ${all[i]!.label}`);
      assert.equal(all[i]!.txBytes, localA[i]!.txBytes + localB[i]!.txBytes, `tx of ${all[i]!.label}`);
    }

    // The current hour grows and is sent again with its new absolute value: never added twice.
    a.traffic.write([{ interfaceName: 'eth0', startSec: at('2026-03-31T00:00:00Z'), endSec: at('2026-03-31T00:20:00Z'), counters: { ...zero, rxBytes: 1_000n, txBytes: 1n } }]);
    await Promise.all([a.sync.syncNow(), b.sync.syncNow()]);
    a.traffic.write([{ interfaceName: 'eth0', startSec: at('2026-03-31T00:20:00Z'), endSec: at('2026-03-31T00:30:00Z'), counters: { ...zero, rxBytes: 500n, txBytes: 1n } }]);
    const again = await a.sync.syncNow();
    assert.ok(again.buckets < 20, `only the recent buckets are re-sent, not ${again.buckets}`);
    await assertReplicated(p, a, 'after the current hour grew');
    await assertReplicated(p, b, 'after a sync with nothing new');
  });

  test('the database cut mid-sync and restored: nothing lost, nothing counted twice', async (t) => {
    const target = await freshDatabase(t);
    const proxy: TcpProxy = await startTcpProxy(PG.host, PG.port);
    t.after(() => proxy.close());
    const viaProxy = new URL(target.url);
    viaProxy.port = String(proxy.port);
    const d = makeDevice(t, { url: viaProxy.href, timezone: 'Europe/Berlin', name: 'cut', nowIso: '2026-06-01T00:10:00Z', kinds: { eth0: 'ethernet', wlan0: 'wireless' }, batchSize: 100 });
    d.fillHours('2026-03-01T00:00:00Z', 92 * 24, ['eth0', 'wlan0'], 33n);
    const p = pool(t, target.url);

    // Cut after a few batches of the first cycle.
    proxy.resetCount();
    proxy.onClientChunk = (n) => {
      if (n === 30) proxy.cut();
    };
    await assert.rejects(d.sync.syncNow());
    proxy.onClientChunk = null;
    const partial = Number((await p.query('SELECT COUNT(*) AS n FROM netpulse_traffic_1h')).rows[0].n);
    assert.ok(partial > 0 && partial < localRows(d, 'traffic_1h').length, `a part was sent before the cut (${partial})`);

    // Traffic goes on while the database is away; syncs fail and keep it.
    d.traffic.write([{ interfaceName: 'eth0', startSec: at('2026-06-01T00:00:00Z'), endSec: at('2026-06-01T00:10:00Z'), counters: { ...zero, rxBytes: 12_345n, txBytes: 678n } }]);
    await assert.rejects(d.sync.syncNow());

    proxy.restore();
    await d.sync.syncNow();
    await assertReplicated(p, d, 'after recovery');
    // And once more: idempotent.
    await d.sync.syncNow();
    await assertReplicated(p, d, 'after a repeated sync');
  });

  test('the sync loop retries with backoff through an outage, logging it once, and catches up', async (t) => {
    const target = await freshDatabase(t);
    const proxy = await startTcpProxy(PG.host, PG.port);
    t.after(() => proxy.close());
    const viaProxy = new URL(target.url);
    viaProxy.port = String(proxy.port);
    const d = makeDevice(t, { url: viaProxy.href, timezone: 'UTC', name: 'loop', nowIso: '2026-07-02T00:10:00Z', kinds: { eth0: 'ethernet' }, retry: { baseMs: 10, maxMs: 80 }, intervalMs: 50 });
    d.fillHours('2026-07-01T00:00:00Z', 24, ['eth0'], 44n);
    proxy.cut();
    d.sync.start();
    const until = async (check: () => boolean, ms = 10_000) => {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out; status ${JSON.stringify(d.sync.status())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => d.sync.status().state === 'unreachable');
    await until(() => d.sync.status().failures >= 5);
    assert.equal(d.sync.status().state, 'unreachable');
    d.fillHours('2026-07-02T00:00:00Z', 1, ['eth0'], 45n);
    proxy.restore();
    await until(() => d.sync.status().state === 'ok');
    await assertReplicated(pool(t, target.url), d, 'after the outage');
    const warns = d.log.lines.filter((l) => l.level === 'warn');
    assert.equal(warns.length, 1, 'one warning per outage, not one per attempt');
    assert.equal(d.log.lines.filter((l) => l.msg.includes('reachable again')).length, 1);
  });

  test('a changed time zone replaces the device\'s calendar days in PostgreSQL', async (t) => {
    const target = await freshDatabase(t);
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'netpulse-tz-'));
    t.after(async () => (await import('node:fs')).rmSync(dir, { recursive: true, force: true }));
    const utc = makeDevice(t, { url: target.url, timezone: 'UTC', name: 'mover', nowIso: '2026-08-03T00:10:00Z', kinds: { eth0: 'ethernet' }, dir });
    utc.fillHours('2026-08-01T00:00:00Z', 48, ['eth0'], 55n);
    await utc.sync.syncNow();
    await utc.sync.stop();
    // Restart in another zone: the day tier is rebuilt locally (as the server does), then synced.
    const kolkata = makeDevice(t, { url: target.url, timezone: 'Asia/Kolkata', name: 'mover', nowIso: '2026-08-03T00:10:00Z', kinds: { eth0: 'ethernet' }, dir });
    createTrafficRepo(kolkata.db, { timezone: 'Asia/Kolkata' }).rebuildDays('Asia/Kolkata');
    assert.equal(kolkata.identity.deviceId, utc.identity.deviceId);
    await kolkata.sync.syncNow();
    const p = pool(t, target.url);
    await assertReplicated(p, kolkata, 'after the zone change');
    const days = (await p.query('SELECT DISTINCT day::text AS day FROM netpulse_traffic_1d ORDER BY day')).rows.map((r: { day: string }) => r.day);
    assert.deepEqual(days, ['2026-08-01', '2026-08-02', '2026-08-03'], 'Kolkata dates: the 3rd starts at 18:30 UTC on the 2nd');
  });
});

describe('all-devices view through the API', { skip }, () => {
  let target: TestDatabase;
  before(async () => {
    if (skip === false) target = await PG.createDatabase();
  });
  after(async () => {
    if (skip === false) await target.drop();
  });

  test('devices and usage?device=all sum this device (local) and the others (PostgreSQL)', async (t) => {
    const proxy = await startTcpProxy(PG.host, PG.port);
    t.after(() => proxy.close());
    const viaProxy = new URL(target.url);
    viaProxy.port = String(proxy.port);
    const srv = await startTestServer(t, { env: { NETPULSE_SYNC_URL: viaProxy.href, NETPULSE_DEVICE_NAME: 'server' } });
    srv.advance('eth0', { rxBytes: 7_000n, txBytes: 700n });
    srv.advance('wlan0', { rxBytes: 30n, txBytes: 3n });
    await srv.collect();
    await srv.server.ctx.sync!.syncNow();

    const nowIso = new Date().toISOString();
    const other = makeDevice(t, { url: target.url, timezone: 'UTC', name: 'laptop', nowIso, kinds: { wlan0: 'wireless', lo: 'loopback' } });
    const end = Math.floor(Date.now() / 1000);
    other.traffic.write([{ interfaceName: 'wlan0', startSec: end - 60, endSec: end, counters: { ...zero, rxBytes: 100_000n, txBytes: 10_000n } }]);
    other.traffic.write([{ interfaceName: 'lo', startSec: end - 60, endSec: end, counters: { ...zero, rxBytes: 5n, txBytes: 5n } }]);
    await other.sync.syncNow();

    const devices = await srv.get('/api/devices');
    assert.equal(devices.status, 200);
    assert.equal(devices.body.sync.state, 'ok');
    const byName = Object.fromEntries(devices.body.devices.map((d: { name: string }) => [d.name, d]));
    assert.deepEqual(Object.keys(byName).sort(), ['laptop', 'server']);
    assert.equal(byName.server.is_local, true);
    assert.deepEqual(byName.server.month, { rx_bytes: 7_030n, tx_bytes: 703n, total_bytes: 7_733n });
    assert.deepEqual(byName.laptop.month, { rx_bytes: 100_000n, tx_bytes: 10_000n, total_bytes: 110_000n });
    assert.deepEqual(byName.laptop.interfaces, ['wlan0']);
    assert.deepEqual(devices.body.all, { rx_bytes: 107_030n, tx_bytes: 10_703n, total_bytes: 117_733n });

    // This device's newest bytes count in "all" at once (read locally), before any sync.
    srv.advance('eth0', { rxBytes: 1n });
    await srv.collect();
    const all = await srv.get('/api/usage?period=month&device=all');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.device.id, 'all');
    assert.equal(all.body.rows[0].rx_bytes, 107_031n);
    assert.equal(all.body.rows[0].tx_bytes, 10_703n);
    assert.deepEqual(all.body.interfaces, ['eth0', 'wlan0']);

    const laptop = await srv.get(`/api/usage?period=day&device=${other.identity.deviceId}`);
    assert.equal(laptop.status, 200, laptop.text);
    assert.equal(laptop.body.device.name, 'laptop');
    assert.equal(laptop.body.rows[0].rx_bytes, 100_000n);
    const lo = await srv.get(`/api/usage?period=day&device=${other.identity.deviceId}&interface=lo`);
    assert.equal(lo.body.rows[0].rx_bytes, 5n);

    const unknown = await srv.get(`/api/usage?period=day&device=${randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'UNKNOWN_DEVICE');

    // PostgreSQL gone: the all-devices view is a 503, this device still answers.
    proxy.cut();
    const down = await srv.get('/api/usage?period=month&device=all');
    assert.equal(down.status, 503);
    assert.equal(down.body.code, 'SYNC_UNAVAILABLE');
    assert.doesNotMatch(down.text, /netpulse_test:/, 'no credentials in the message');
    const local = await srv.get('/api/usage?period=month');
    assert.equal(local.status, 200);
    const only = await srv.get('/api/devices');
    assert.equal(only.body.devices.length, 1);
    proxy.restore();
  });
});
