/**
 * A backup round trip: `netpulse export` of every resolution (raw, minute, hour, day, runs) from a server
 * that counted traffic, `netpulse import` of those files into a new database, and the same /api/usage and
 * /api/traffic answers from both, to the byte. The clock is mocked (Date only), so both answer at one "now".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { startTestServer } from '../helpers/server.js';

async function cli(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _e, cb) {
      stdout += chunk.toString();
      cb();
    },
  });
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), stdout: sink, env });
  return { code, stdout, stderr };
}

const QUERIES = [
  '/api/usage?period=day',
  '/api/usage?period=month',
  '/api/usage?period=year&interface=eth0',
  '/api/usage?period=day&interface=wlan0',
  '/api/traffic?time_window_hours=6&group_minutes=1',
  '/api/traffic?time_window_hours=6&group_minutes=5&interface=eth0',
  '/api/traffic?time_window_hours=48&group_minutes=60',
  '/api/traffic?time_window_hours=48&group_minutes=60&interface=wlan0',
  '/api/traffic?time_window_hours=240&group_minutes=1440',
  '/api/traffic/history?start=0&limit=1000',
];

test('export of every resolution, imported into a new database, gives the same /api/usage and /api/traffic answers to the byte', { timeout: 120_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 2, 10, 22, 30, 7) });
  const srv = await startTestServer(t);
  const step = async (ms: number, eth0: bigint, wlan0: bigint) => {
    t.mock.timers.tick(ms);
    srv.advance('eth0', { rxBytes: eth0, txBytes: eth0 / 3n, rxPackets: 7n, txPackets: 3n });
    srv.advance('wlan0', { rxBytes: wlan0, txBytes: 11n, rxPackets: 1n });
    await srv.collect();
  };
  await step(45_000, 1_234_567n, 999n);
  // Plausible for the 1 Gbit/s link even over the real (unmocked, monotonic) second between the polls, which
  // issue #8's check measures; spread over three hours of the mocked clock.
  await step(7_200_000, 200_000_001n, 0n);
  await step(61_000, 5n, 77n);
  // Down for a while: a gap the runs tell from no traffic.
  await srv.stop();
  t.mock.timers.tick(3 * 3600_000);
  await srv.startAgain();
  await step(30_000, 0n, 0n);
  await step(90_000, 4242n, 1n);
  await srv.stop();

  const env = { NETPULSE_DB_PATH: srv.dbPath, NETPULSE_TZ: 'UTC' };
  const dir = mkdtempSync(join(tmpdir(), 'np12b-backup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  for (const [resolution, format] of [['raw', 'csv'], ['minute', 'json'], ['hour', 'csv'], ['day', 'json'], ['runs', 'csv']] as const) {
    const out = await cli(['export', '--format', format, '--resolution', resolution], env);
    assert.equal(out.code, 0, out.stderr);
    const file = join(dir, `${resolution}.${format}`);
    writeFileSync(file, out.stdout);
    files.push(file);
  }
  const restored = { NETPULSE_DB_PATH: join(dir, 'restored.db'), NETPULSE_TZ: 'UTC' };
  // Rollup files say their resolution; raw samples and runs are recognised.
  for (const [file, resolution] of [[files[0]!, null], [files[1]!, 'minute'], [files[2]!, 'hour'], [files[3]!, 'day'], [files[4]!, null]] as const) {
    const run = await cli(['import', file, ...(resolution === null ? [] : ['--resolution', resolution])], restored);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /, \d+ rows: [1-9]\d* stored, 0 already there\./);
  }
  // Twice changes nothing.
  const again = await cli(['import', files[0]!, files[4]!], restored);
  assert.match(again.stdout, /raw, \d+ rows: 0 stored/);
  assert.match(again.stdout, /runs, \d+ rows: 0 stored/);
  const hourAgain = await cli(['import', '--resolution', 'hour', files[2]!], restored);
  assert.match(hourAgain.stdout, /hour, (\d+) rows: 0 stored, \1 already there/);

  // Both servers start at the same mocked instant on the same (unchanged) counters.
  await srv.startAgain();
  const copy = await startTestServer(t, { env: { NETPULSE_DB_PATH: restored.NETPULSE_DB_PATH } });
  for (const q of QUERIES) {
    const a = await srv.get(q);
    const b = await copy.get(q);
    assert.equal(a.status, 200, `${q}: ${a.text}`);
    // A new database is a new device (its own id, made at first start): the only difference allowed.
    const sameDevice = (text: string) => text.replace(/"device":\{"id":"[0-9a-f-]{36}"/, '"device":{"id":"…"');
    assert.equal(sameDevice(b.text), sameDevice(a.text), q);
  }
  const month = (await copy.get('/api/usage?period=month&interface=eth0')).body;
  assert.ok(month.rows.some((r: { rx_bytes: bigint }) => r.rx_bytes >= 200_000_001n), `the big count came back: ${JSON.stringify(month.rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
});

test('netpulse import refuses a rollup file without --resolution and a broken row, writing nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'np12b-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { NETPULSE_DB_PATH: join(dir, 'n.db'), NETPULSE_TZ: 'UTC' };
  const hour = join(dir, 'hour.csv');
  writeFileSync(hour, 'timestamp,interface_name,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_errors,tx_errors,rx_drops,tx_drops\n2026-03-10T10:00:00.000Z,eth0,1,2,3,4,0,0,0,0\n');
  const noHint = await cli(['import', hour], env);
  assert.equal(noHint.code, 1);
  assert.match(noHint.stderr, /--resolution minute, hour or day/);
  const broken = join(dir, 'broken.csv');
  writeFileSync(broken, 'timestamp,interface_name,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_errors,tx_errors,rx_drops,tx_drops\n2026-03-10T10:00:00.000Z,eth0,1,2,3,4,0,0,0,0\n2026-03-10T11:00:00.000Z,eth0,-5,2,3,4,0,0,0,0\n');
  const bad = await cli(['import', '--resolution', 'hour', broken], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /row 2: rx_bytes must be a whole number/);
  const misaligned = await cli(['import', '--resolution', 'day', hour], env);
  assert.match(misaligned.stderr, /is not the start of a day in this time zone/);
  const usage = await cli(['usage', '--json'], env);
  assert.equal(JSON.parse(usage.stdout).all_time.rx_bytes, 0, 'nothing was written');
});
