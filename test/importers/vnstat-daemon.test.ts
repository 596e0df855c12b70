/**
 * `netpulse import vnstat` on a database Debian's vnstat daemon wrote in this test: vnstatd runs in the
 * foreground inside a network namespace made here (a veth np12b0 ↔ np12b1 to a second namespace, real UDP
 * traffic across it), with its own config and database folder; then its database is imported and compared
 * with what `vnstat --json` says about it.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main.js';
import { openDatabase } from '../../src/storage/db.js';
import { createRunsRepo } from '../../src/storage/runs-repo.js';
import { waitFor } from '../helpers/netns.js';
import { startTestServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root';
  for (const tool of ['ip', 'vnstatd', 'vnstat']) {
    try {
      execFileSync(tool, tool === 'ip' ? ['-V'] : ['--version'], { stdio: 'ignore' });
    } catch {
      return `${tool} not found (Debian package ${tool === 'ip' ? 'iproute2' : 'vnstat'})`;
    }
  }
  return null;
}

interface VnstatJsonRow {
  timestamp: number;
  rx: number;
  tx: number;
}
interface VnstatJson {
  interfaces: { name: string; traffic: { total: { rx: number; tx: number }; fiveminute: VnstatJsonRow[]; hour: VnstatJsonRow[]; day: VnstatJsonRow[]; month: VnstatJsonRow[]; year: VnstatJsonRow[] } }[];
}

interface Lab {
  dir: string;
  dbDir: string;
  vnstatJson(): Promise<VnstatJson>;
}

/** Two namespaces, a veth, vnstatd in the first one; traffic sent, saved, vnstatd stopped by PID. */
async function runVnstatd(t: TestContext): Promise<Lab> {
  const id = `${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const nsA = `np12b-${id}-a`;
  const nsB = `np12b-${id}-b`;
  const dir = mkdtempSync(join(tmpdir(), 'np12b-vnstat-'));
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir);
  const conf = join(dir, 'vnstat.conf');
  // UpdateInterval/PollInterval 2 s; the data reaches the database on SIGHUP (and at exit), not by waiting.
  writeFileSync(
    conf,
    [
      `DatabaseDir "${dbDir}"`,
      'UpdateInterval 2',
      'PollInterval 2',
      'SaveInterval 1',
      'OfflineSaveInterval 1',
      'UseLogging 0',
      'TimeSyncWait 0',
      'AlwaysAddNewInterfaces 1',
      'UpdateFileOwner 0',
      'BandwidthDetection 0',
      'MaxBandwidth 10000',
      `PidFile "${join(dir, 'vnstatd.pid')}"`,
      '',
    ].join('\n'),
  );
  let daemon: ChildProcess | null = null;
  t.after(async () => {
    if (daemon !== null && daemon.exitCode === null && daemon.signalCode === null && daemon.pid !== undefined) {
      const gone = new Promise((r) => daemon!.once('exit', r));
      try {
        process.kill(daemon.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await Promise.race([gone, sleep(5000)]);
    }
    for (const ns of [nsA, nsB]) await execFileAsync('ip', ['netns', 'del', ns]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const inNs = (ns: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv) =>
    execFileAsync('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 30_000, env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 });
  await execFileAsync('ip', ['netns', 'add', nsA]);
  await execFileAsync('ip', ['netns', 'add', nsB]);
  await inNs(nsA, 'ip', ['link', 'set', 'lo', 'up']);
  await inNs(nsA, 'ip', ['link', 'add', 'np12b0', 'type', 'veth', 'peer', 'name', 'np12b1', 'netns', nsB]);
  await inNs(nsA, 'ip', ['addr', 'add', '10.212.7.1/30', 'dev', 'np12b0']);
  await inNs(nsB, 'ip', ['addr', 'add', '10.212.7.2/30', 'dev', 'np12b1']);
  await inNs(nsA, 'ip', ['link', 'set', 'np12b0', 'up']);
  await inNs(nsB, 'ip', ['link', 'set', 'np12b1', 'up']);

  const env = { ...process.env, TZ: 'UTC' };
  daemon = spawn('ip', ['netns', 'exec', nsA, 'vnstatd', '-n', '--config', conf], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  daemon.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  daemon.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => daemon!.once('exit', () => resolve()));
  await waitFor('vnstatd to start monitoring np12b0', async () => (/Monitoring \(\d+\):.*np12b0/.test(output) ? true : undefined), { timeoutMs: 20_000, everyMs: 100 });

  const vnstatJson = async (): Promise<VnstatJson> => JSON.parse((await inNs(nsA, 'vnstat', ['--config', conf, '--json'], env)).stdout) as VnstatJson;
  // Real traffic: 3000 UDP datagrams of 1000 bytes from B to A (A answers with ICMP, so tx moves too).
  const sender = `const s=require('node:dgram').createSocket('udp4');const b=Buffer.alloc(1000,1);let n=0;const go=()=>{if(n>=3000){s.close();return;}n++;s.send(b,9,'10.212.7.1',go);};go();`;
  await inNs(nsB, process.execPath, ['-e', sender]);
  const wireBytes = 3000n * 1042n;
  // SIGHUP makes vnstatd write what it counted; poll until the database holds the datagrams.
  await waitFor(
    'vnstatd to store the datagrams',
    async () => {
      process.kill(daemon!.pid!, 'SIGHUP');
      await sleep(200);
      const j = await vnstatJson().catch(() => null);
      const nic = j?.interfaces.find((i) => i.name === 'np12b0');
      return nic !== undefined && BigInt(nic.traffic.total.rx) >= wireBytes ? true : undefined;
    },
    { timeoutMs: 30_000, everyMs: 500 },
  );
  process.kill(daemon.pid!, 'SIGTERM');
  await exited;
  return { dir, dbDir, vnstatJson };
}

async function runCli(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), stdout: process.stdout, env });
  return { code, stdout, stderr };
}

function dump(dbPath: string): string {
  const db = openDatabase(dbPath);
  try {
    return ['traffic_1m', 'traffic_1h', 'traffic_1d', 'traffic_total_1d', 'imported_buckets']
      .map((t) => JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all().map((r) => ({ ...(r as object), imported_at: undefined }))))
      .join('\n');
  } finally {
    db.close();
  }
}

test('netpulse import vnstat brings what vnstatd counted on a veth into the day, hour and minute tiers, once', { timeout: 180_000 }, async (t) => {
  const why = skipReason();
  if (why !== null) return t.skip(why);
  const lab = await runVnstatd(t);
  const vn = (await lab.vnstatJson()).interfaces.find((i) => i.name === 'np12b0')!;
  assert.ok(vn.traffic.day.length >= 1 && vn.traffic.fiveminute.length >= 1, JSON.stringify(vn.traffic));

  const dbPath = join(lab.dir, 'netpulse.db');
  const env = { NETPULSE_DB_PATH: dbPath, NETPULSE_TZ: 'UTC' };
  const first = await runCli(['import', 'vnstat', '--db', join(lab.dbDir, 'vnstat.db'), '--interface', 'np12b0=wan0'], env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^np12b0 → wan0: \d+ buckets added, 0 grown, 0 already imported/m);
  assert.match(first.stdout, /Everything vnStat stored up to now/);
  const afterFirst = dump(dbPath);

  // Twice changes nothing.
  const second = await runCli(['import', 'vnstat', '--db', join(lab.dbDir, 'vnstat.db'), '--interface', 'np12b0=wan0'], env);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /wan0: 0 buckets added, 0 grown, [1-9]\d* already imported/);
  assert.equal(dump(dbPath), afterFirst);

  // What the API says equals what vnStat says: days, months, years, hours and 5-minute rows.
  const srv = await startTestServer(t, { env: { NETPULSE_DB_PATH: dbPath } });
  for (const [period, rows] of [['day', vn.traffic.day], ['month', vn.traffic.month], ['year', vn.traffic.year]] as const) {
    const usage = (await srv.get(`/api/usage?period=${period}&interface=wan0`)).body;
    for (const row of rows) {
      const label = new Date(row.timestamp * 1000).toISOString().slice(0, period === 'day' ? 10 : period === 'month' ? 7 : 4);
      const ours = usage.rows.find((r: { label: string }) => r.label === label);
      assert.ok(ours, `${period} ${label} in /api/usage`);
      assert.equal(ours.rx_bytes, BigInt(row.rx), `${period} ${label} rx`);
      assert.equal(ours.tx_bytes, BigInt(row.tx), `${period} ${label} tx`);
    }
  }
  for (const [group, rows] of [[60, vn.traffic.hour], [5, vn.traffic.fiveminute]] as const) {
    const traffic = (await srv.get(`/api/traffic?interface=wan0&time_window_hours=3&group_minutes=${group}`)).body;
    for (const row of rows) {
      const at = new Date(row.timestamp * 1000).toISOString();
      const bucket = traffic.data.find((b: { timestamp: string }) => b.timestamp === at);
      assert.ok(bucket, `${group}-minute bucket ${at}`);
      assert.equal(bucket.rx_bytes, BigInt(row.rx), `${group}-minute ${at} rx`);
      assert.equal(bucket.tx_bytes, BigInt(row.tx), `${group}-minute ${at} tx`);
      assert.ok(bucket.covered_seconds > 0n, 'an imported bucket counts as covered, not as no data');
    }
  }
  const summary = (await srv.get('/api/usage?period=year&interface=wan0')).body.rows[0];
  assert.equal(summary.rx_bytes, BigInt(vn.traffic.total.rx));
  assert.ok(BigInt(vn.traffic.total.rx) >= 3000n * 1042n, 'the datagrams were counted by vnStat');
});

test('netpulse import vnstat stops where Net-Pulse\'s own data begins, and says so', { timeout: 180_000 }, async (t) => {
  const why = skipReason();
  if (why !== null) return t.skip(why);
  const lab = await runVnstatd(t);
  const vn = (await lab.vnstatJson()).interfaces.find((i) => i.name === 'np12b0')!;
  const five = [...vn.traffic.fiveminute].sort((a, b) => a.timestamp - b.timestamp);
  // Net-Pulse began counting at the start of vnStat's newest 5-minute row: only the rows before it may come in.
  const cut = five.at(-1)!.timestamp;
  const dbPath = join(lab.dir, 'own.db');
  const db = openDatabase(dbPath);
  createRunsRepo(db).begin(cut, cut + 60);
  db.close();
  const run = await runCli(['import', 'vnstat', '--db', join(lab.dbDir, 'vnstat.db')], { NETPULSE_DB_PATH: dbPath, NETPULSE_TZ: 'UTC' });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`Stopped at ${new Date(cut * 1000).toISOString().replace(/\./g, '\\.')}, where Net-Pulse's own data begins`));
  const expected = five.slice(0, -1).reduce((s, r) => s + BigInt(r.rx), 0n);
  const check = openDatabase(dbPath);
  const got = check.prepare("SELECT COALESCE(SUM(rx_bytes), 0) AS rx, COALESCE(MAX(bucket_start + 0), 0) AS last FROM traffic_1h WHERE interface_name = 'np12b0'").safeIntegers(true).get() as { rx: bigint };
  const days = check.prepare("SELECT COALESCE(SUM(rx_bytes), 0) AS rx FROM traffic_1d WHERE interface_name = 'np12b0'").safeIntegers(true).get() as { rx: bigint };
  const late = check.prepare("SELECT COUNT(*) AS n FROM imported_buckets WHERE bucket_end > ? AND tier = 'traffic_1m'").get(cut) as { n: number };
  check.close();
  assert.equal(got.rx, expected, 'hours hold the 5-minute rows before the cut, nothing after');
  assert.equal(days.rx, expected, 'days too: the day row reaches past the cut, so its finer rows were taken');
  assert.equal(late.n, 0);
});
