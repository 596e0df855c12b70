/**
 * Sync benchmark (issue #5): replication throughput into PostgreSQL and the all-devices queries, over 100
 * simulated devices × a year of hourly buckets (2 interfaces each: 17,520 hour rows + 730 day rows per
 * device, 1.8 M rows in all). Prints a table and writes its section of docs/benchmarks.md between
 * <!-- sync-bench --> and <!-- /sync-bench --> (bench/run.ts owns the rest of the page).
 *
 *   npx tsx bench/sync.ts [--devices 100] [--concurrency 8] [--no-write]
 *
 * PostgreSQL: NETPULSE_BENCH_PG_URL (a database it may fill), else a throwaway database on the local
 * cluster (started if down, as the tests do), dropped at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { usageRows } from '../src/services/usage-service.js';
import { silentLogger } from '../src/shared/logger.js';
import { migrate, type Db } from '../src/storage/db.js';
import { loadDeviceIdentity } from '../src/sync/device-identity.js';
import { listRemoteDevices, remoteDaySource, remoteHourlyTotals, remoteTotalsByDevice } from '../src/sync/remote-usage.js';
import { createSyncService } from '../src/sync/sync-service.js';
import { testPostgres } from '../test/helpers/postgres.js';

const { values: args } = parseArgs({
  options: { devices: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' }, 'no-write': { type: 'boolean', default: false } },
});
const DEVICES = Number(args.devices);
const CONCURRENCY = Number(args.concurrency);
const INTERFACES = ['eth0', 'wlan0'];
const YEAR_START = Date.UTC(2025, 10, 22) / 1000; // a year of hours ending "now"
const HOURS = 365 * 24;
const NOW_SEC = YEAR_START + HOURS * 3600 + 600;
const TZ = 'UTC';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`);

/** A device database with a year of hours and days for two interfaces, written straight into the tiers. */
function templateDevice(): Buffer {
  const db = new Database(':memory:');
  migrate(db);
  const cols = 'rx_bytes, tx_bytes, rx_packets, tx_packets, rx_errors, tx_errors, rx_drops, tx_drops';
  const hour = db.prepare(`INSERT INTO traffic_1h (interface_name, bucket_start, ${cols}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)`);
  const day = db.prepare(
    `INSERT INTO traffic_1d (interface_name, bucket_start, ${cols}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0)
     ON CONFLICT(interface_name, bucket_start) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes,
       rx_packets = rx_packets + excluded.rx_packets, tx_packets = tx_packets + excluded.tx_packets`,
  );
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  db.transaction(() => {
    for (let h = 0; h < HOURS; h++) {
      const b = YEAR_START + h * 3600;
      for (const name of INTERFACES) {
        const rx = next() * 50;
        const tx = next() * 5;
        hour.run(name, b, rx, tx, Math.floor(rx / 1400), Math.floor(tx / 600));
        day.run(name, Math.floor(b / 86400) * 86400, rx, tx, Math.floor(rx / 1400), Math.floor(tx / 600));
      }
    }
  })();
  const buf = db.serialize();
  db.close();
  return buf;
}

function deviceDb(template: Buffer, i: number): { db: Db; identity: ReturnType<typeof loadDeviceIdentity> } {
  const db = new Database(template);
  const identity = loadDeviceIdentity(db, { name: `sim-${String(i).padStart(3, '0')}`, timezone: TZ, nowSec: NOW_SEC });
  return { db, identity };
}

function syncFor(url: string, d: ReturnType<typeof deviceDb>) {
  return createSyncService({
    db: d.db,
    url,
    device: d.identity,
    usageInterfaces: async () => INTERFACES,
    intervalMs: 60_000,
    logger: silentLogger,
    now: () => NOW_SEC * 1000,
    poolConfig: { max: 1 },
  });
}

async function timeIt<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function median(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
  const times: number[] = [];
  await fn(); // warm
  for (let i = 0; i < runs; i++) times.push((await timeIt(fn))[1]);
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]! };
}

async function main(): Promise<void> {
  let url = process.env.NETPULSE_BENCH_PG_URL;
  let drop: (() => Promise<void>) | null = null;
  if (!url) {
    const pgHandle = await testPostgres();
    if ('skip' in pgHandle) {
      console.error(`sync bench skipped: ${pgHandle.skip}`);
      process.exitCode = 1;
      return;
    }
    const target = await pgHandle.createDatabase();
    url = target.url;
    drop = target.drop;
  }
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    console.log(`building a device database: ${HOURS} hours × ${INTERFACES.length} interfaces…`);
    const template = templateDevice();

    // 1. Initial sync of the first device alone (a fresh instance catching up a year).
    const first = deviceDb(template, 0);
    const s0 = syncFor(url, first);
    const [r0, oneMs] = await timeIt(() => s0.syncNow());
    await s0.stop();
    first.db.close();

    // 2. The other devices, CONCURRENCY at a time (instances syncing at once).
    let nextIndex = 1;
    let buckets = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, DEVICES - 1) }, async () => {
        while (nextIndex < DEVICES) {
          const i = nextIndex++;
          const d = deviceDb(template, i);
          const s = syncFor(url!, d);
          const r = await s.syncNow();
          buckets += r.buckets;
          await s.stop();
          d.db.close();
        }
      }),
    );
    const manyMs = performance.now() - t0;
    await admin.query('ANALYZE');

    // 3. A steady-state cycle: a device that is caught up re-sends only its recent buckets.
    const steadyDevice = deviceDb(template, DEVICES + 1);
    const steady = syncFor(url, steadyDevice);
    await steady.syncNow();
    const steadyTimes = await median(20, () => steady.syncNow());
    const steadyBuckets = (await steady.syncNow()).buckets;
    await steady.stop();
    steadyDevice.db.close();

    const counts = (await admin.query(`SELECT (SELECT COUNT(*) FROM netpulse_traffic_1h)::int AS h, (SELECT COUNT(*) FROM netpulse_traffic_1d)::int AS d, (SELECT COUNT(*) FROM netpulse_devices)::int AS n`)).rows[0] as { h: number; d: number; n: number };

    // 4. The all-devices queries.
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const all = remoteDaySource(pool, { deviceId: null, excludeDeviceId: null, interfaceName: null });
    const oneDevice = (await listRemoteDevices(pool))[0]!;
    const single = remoteDaySource(pool, { deviceId: oneDevice.deviceId, excludeDeviceId: null, interfaceName: null });
    const opts = { monthStartDay: 1, timeZone: TZ, nowSec: NOW_SEC };
    const queries: [string, () => Promise<unknown>][] = [
      ['usage?period=month&device=all (12 months, every device)', () => usageRows(all, { ...opts, period: 'month', limit: 12 })],
      ['usage?period=day&device=all (30 days)', () => usageRows(all, { ...opts, period: 'day', limit: 30 })],
      ['usage?period=year&device=all', () => usageRows(all, { ...opts, period: 'year', limit: 5 })],
      ['usage?period=month&device=(one id) (12 months)', () => usageRows(single, { ...opts, period: 'month', limit: 12 })],
      ['/api/devices (list + each device\'s month totals)', () => Promise.all([listRemoteDevices(pool), remoteTotalsByDevice(pool, '2026-11-01', '2026-12-01')])],
      ['hour tier, every device summed: last 24 h', () => remoteHourlyTotals(pool, NOW_SEC - 86_400, NOW_SEC)],
      ['hour tier, every device summed: last 30 days', () => remoteHourlyTotals(pool, NOW_SEC - 30 * 86_400, NOW_SEC)],
    ];
    const queryResults: [string, { median: number; p95: number }][] = [];
    for (const [name, fn] of queries) queryResults.push([name, await median(30, fn)]);
    await pool.end();

    const perDevice = r0.buckets;
    const lines = [
      `Generated by \`npx tsx bench/sync.ts\` (bench/sync.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${DEVICES} simulated devices, each a year of hourly buckets for ${INTERFACES.length} interfaces (${fmt(HOURS * INTERFACES.length)} hour + ${fmt(365 * INTERFACES.length)} day rows, all 8 counters), replicated into PostgreSQL ${pgVersion} on this machine (${os.cpus().length} cores, ${os.cpus()[0]?.model.trim() ?? 'CPU'}), Node ${process.version}.`,
      '',
      '| sync | buckets | time | throughput |',
      '|---|---|---|---|',
      `| one device catching up a year (batches of 5,000, one connection) | ${fmt(perDevice)} | ${fmt(oneMs / 1000, 2)} s | **${fmt(perDevice / (oneMs / 1000))} buckets/s** |`,
      `| ${DEVICES - 1} more devices, ${CONCURRENCY} syncing at once | ${fmt(buckets)} | ${fmt(manyMs / 1000, 1)} s | **${fmt(buckets / (manyMs / 1000))} buckets/s** |`,
      `| steady-state cycle of a caught-up device (re-sends its last hour and day: ${steadyBuckets} buckets) | ${steadyBuckets} | median ${ms(steadyTimes.median)}, p95 ${ms(steadyTimes.p95)} | |`,
      '',
      `PostgreSQL then holds ${fmt(counts.n)} devices, ${fmt(counts.h)} hour rows and ${fmt(counts.d)} day rows (ANALYZEd). All-devices queries, 30 runs each after a warm-up:`,
      '',
      '| query | median | p95 |',
      '|---|---|---|',
      ...queryResults.map(([name, r]) => `| ${name} | ${ms(r.median)} | ${ms(r.p95)} |`),
      '',
      'Usage periods read the day tier (each device\'s local dates), so they cost the same whatever the hour tier holds; the hour-tier rows show what a chart over every device would cost.',
    ];
    const section = lines.join('\n');
    console.log('\n' + section + '\n');
    if (!args['no-write']) writeSection(section);
  } finally {
    await admin.end();
    if (drop !== null) await drop();
  }
}

/** Replaces the text between the markers (re-reading the page first: bench/run.ts writes the rest). */
function writeSection(section: string): void {
  const file = path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  const block = `<!-- sync-bench -->\n## Multi-device sync (PostgreSQL)\n\n${section}\n<!-- /sync-bench -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- sync-bench -->[\s\S]*?<!-- \/sync-bench -->/;
  const next = re.test(current) ? current.replace(re, block) : `${current.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, next);
  console.log(`wrote the sync section of ${path.relative(process.cwd(), file)}`);
}

await main();
