/**
 * `netpulse` as a user runs it: `node --import tsx src/cli/main.ts …` in a child process with its own
 * environment, stdout and stderr captured, and a bounded wait for it to exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { main } from '../../src/cli/main.js';
import { CONFIG_KEYS, createConfigRepo } from '../../src/storage/config-repo.js';
import { openDatabase } from '../../src/storage/db.js';
import { makeFixtureTree, type FixtureTree } from '../helpers/fixture-tree.js';
import { DEFAULT_TREE, startTestServer, waitFor } from '../helpers/server.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXIT_DEADLINE_MS = 30_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Child {
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process exits; kills it and rejects after deadlineMs. */
  exited(deadlineMs?: number): Promise<Run>;
}

/** Only what node needs, plus the test's NETPULSE_* variables: nothing leaks in from the caller's shell. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), TZ: 'UTC', NO_COLOR: '1' };
  return { ...base, ...env };
}

function startCli(t: TestContext, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
    async exited(deadlineMs = EXIT_DEADLINE_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`netpulse ${args.join(' ')} did not exit within ${deadlineMs} ms; stderr: ${stderr}`));
        }, deadlineMs);
      });
      try {
        return await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const runCli = (t: TestContext, args: string[], env: Record<string, string> = {}) => startCli(t, args, env).exited();

/**
 * main(argv, io) in this process: the same command with its output captured. Each spawned `node --import tsx`
 * costs about two CPU-seconds, so the process boundary is crossed only where it is what the test is about.
 */
async function runMain(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      stdout += chunk.toString();
      callback();
    },
  });
  const code = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t), stdout: sink, env });
  return { code, stdout, stderr };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'netpulse-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fixture(t: TestContext): FixtureTree {
  const tree = makeFixtureTree(DEFAULT_TREE);
  t.after(() => tree.cleanup());
  return tree;
}

/** A database where the monitored set is already stored, so `serve` skips its one-second discovery. */
function preparedDb(dir: string, monitored: string[] = ['eth0', 'wlan0']): string {
  const dbPath = join(dir, 'netpulse.db');
  const db = openDatabase(dbPath);
  createConfigRepo(db).set(CONFIG_KEYS.monitoredInterfaces, monitored);
  db.close();
  return dbPath;
}

function serveEnv(tree: FixtureTree, dbPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NETPULSE_HOST: '127.0.0.1',
    NETPULSE_PORT: '0',
    NETPULSE_DB_PATH: dbPath,
    NETPULSE_PROC_ROOT: tree.procRoot,
    NETPULSE_SYS_ROOT: tree.sysRoot,
    NETPULSE_TZ: 'UTC',
    NETPULSE_POLL_INTERVAL: '3600',
    ...extra,
  };
}

/** stderr as lines a person reads: non-empty, trimmed. */
const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

function assertOneClearLine(run: Run, mentions: RegExp[]): void {
  assert.notEqual(run.code, 0, 'exits non-zero');
  assert.notEqual(run.code, null, `killed by ${run.signal}`);
  const said = lines(run.stderr);
  assert.equal(said.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(said[0]!, /^netpulse: /);
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  for (const m of mentions) assert.match(said[0]!, m);
}

describe('netpulse', { concurrency: 3 }, () => {
  test('--help prints the commands and every NETPULSE_ variable, and answers 0', async () => {
    const run = await runMain(['--help'], {});
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: netpulse/);
    for (const command of ['serve', 'interfaces', 'export', 'service']) assert.match(run.stdout, new RegExp(`^  ${command} `, 'm'));
    for (const name of ['NETPULSE_PORT', 'NETPULSE_DB_PATH', 'NETPULSE_POLL_INTERVAL', 'NETPULSE_TZ']) assert.match(run.stdout, new RegExp(name));
    assert.equal(run.stderr, '');
  });

  test('an unknown option exits the process with 2, naming the option and the help to read', async (t) => {
    const run = await runCli(t, ['serve', '--bogus']);
    assert.equal(run.code, 2, run.stderr);
    const said = lines(run.stderr);
    assert.equal(said.length, 2, run.stderr);
    assert.match(said[0]!, /^netpulse: Unknown option '--bogus'/);
    assert.equal(said[1], 'Run "netpulse serve --help" for usage.');
    assert.equal(run.stdout, '');
  });

  test('an unknown option of any command answers 2 and points at that command\'s help', async () => {
    for (const [args, command] of [[['--bogus'], 'serve'], [['export', '--bogus'], 'export'], [['interfaces', '--bogus'], 'interfaces']] as const) {
      const run = await runMain([...args], {});
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      const said = lines(run.stderr);
      assert.match(said[0]!, /^netpulse: .*'--bogus'/, args.join(' '));
      assert.equal(said[1], `Run "netpulse ${command} --help" for usage.`, args.join(' '));
      assert.equal(run.stdout, '');
    }
  });

  test('an unknown command answers 2 naming it', async () => {
    const run = await runMain(['frobnicate'], {});
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^netpulse: unknown command "frobnicate"/);
  });

  test('serve on a port in use exits non-zero with one line naming the port', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const tree = fixture(t);
    const run = await runCli(t, ['serve'], serveEnv(tree, preparedDb(tempDir(t)), { NETPULSE_PORT: String(port) }));
    assertOneClearLine(run, [new RegExp(`port ${port}\\b`), /in use/, /NETPULSE_PORT/]);
  });

  test('serve with a database path it cannot create exits non-zero with one line naming the path', async (t) => {
    const tree = fixture(t);
    const dir = tempDir(t);
    writeFileSync(join(dir, 'a-file'), 'not a folder\n');
    const escape = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const run = await runCli(t, ['serve'], serveEnv(tree, '/proc/netpulse.db'));
    assertOneClearLine(run, [/database/, escape('/proc/netpulse.db')]);
    const underFile = join(dir, 'a-file', 'netpulse.db');
    const again = await runMain(['serve'], serveEnv(tree, underFile));
    assert.equal(again.code, 1, again.stderr);
    assert.equal(lines(again.stderr).length, 1, again.stderr);
    assert.match(again.stderr, /^netpulse: cannot open the database/);
    assert.match(again.stderr, escape(underFile));
  });

  test('serve with NETPULSE_POLL_INTERVAL=0 exits non-zero with one line naming the variable and its range', async (t) => {
    const tree = fixture(t);
    const dir = tempDir(t);
    const run = await runCli(t, ['serve'], serveEnv(tree, join(dir, 'netpulse.db'), { NETPULSE_POLL_INTERVAL: '0' }));
    assertOneClearLine(run, [/NETPULSE_POLL_INTERVAL/, /1–3600/]);
    for (const value of ['3601', 'abc', '1.5']) {
      const again = await runMain(['serve'], serveEnv(tree, join(dir, 'netpulse.db'), { NETPULSE_POLL_INTERVAL: value }));
      assert.equal(again.code, 1, value);
      assert.deepEqual(lines(again.stderr).length, 1, again.stderr);
      assert.match(again.stderr, /^netpulse: NETPULSE_POLL_INTERVAL: .*1–3600/, value);
    }
  });

  test('serve answers /health, and on SIGTERM stores the last poll and exits 0', async (t) => {
    const tree = fixture(t);
    const dir = tempDir(t);
    const dbPath = preparedDb(dir);
    const child = startCli(t, ['serve'], serveEnv(tree, dbPath, { NETPULSE_LOG_LEVEL: 'warn' }));
    const url = await waitFor('the "running at" line', () => /running at (http:\/\/\S+)/.exec(child.stderr())?.[1], EXIT_DEADLINE_MS, 50);
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');

    tree.setCounters('eth0', { rxBytes: 1_000_000n + 4321n, rxPackets: 1000n, txBytes: 500_000n, txPackets: 800n });
    child.kill('SIGTERM');
    const run = await child.exited();
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /^\s+at /m);

    const db = new Database(dbPath, { readonly: true });
    t.after(() => db.close());
    const stored = db.prepare("SELECT SUM(rx_bytes) AS rx FROM traffic_data WHERE interface_name = 'eth0'").get() as { rx: number };
    assert.equal(stored.rx, 4321, 'the traffic seen at shutdown was stored');
  });

  test('interfaces --json lists the fixture interfaces with kind, primary and the monitored set a first start would choose', async (t) => {
    const tree = fixture(t);
    const dir = tempDir(t);
    const run = await runMain(['interfaces', '--json'], { NETPULSE_PROC_ROOT: tree.procRoot, NETPULSE_SYS_ROOT: tree.sysRoot, NETPULSE_DB_PATH: join(dir, 'netpulse.db') });
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as { name: string; kind: string; is_up: boolean; primary: boolean; monitored: boolean; speed_mbps: number | null }[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.kind, r.primary, r.monitored]).sort(),
      [
        ['eth0', 'ethernet', true, true],
        ['lo', 'loopback', false, false],
        ['wlan0', 'wireless', false, true],
      ],
    );
    assert.equal(rows.find((r) => r.name === 'eth0')?.speed_mbps, 1000);
  });

  test('interfaces --json shows the monitored set stored in the database', async (t) => {
    const tree = fixture(t);
    const dbPath = preparedDb(tempDir(t), ['wlan0']);
    const run = await runMain(['interfaces', '--json'], { NETPULSE_PROC_ROOT: tree.procRoot, NETPULSE_SYS_ROOT: tree.sysRoot, NETPULSE_DB_PATH: dbPath });
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as { name: string; monitored: boolean }[];
    assert.deepEqual(rows.filter((r) => r.monitored).map((r) => r.name), ['wlan0']);
  });

  // Issue #8: one poll can no longer add 2^53 bytes (beyond any link; baselined), so the sums are plausible ones.
  test('export writes the stored traffic as CSV and JSON with exact sums of counters past 2^53', async (t) => {
    const big = 2n ** 60n;
    const srv = await startTestServer(t, {
      tree: { ...DEFAULT_TREE, interfaces: { ...DEFAULT_TREE.interfaces, eth0: { counters: { rxBytes: big, rxPackets: 10n } } } },
    });
    const crossed = 123_456_789n;
    srv.advance('eth0', { rxBytes: crossed, rxPackets: 3n });
    srv.advance('wlan0', { txBytes: 99n });
    await srv.collect();
    const dbPath = srv.dbPath;
    await srv.stop();
    const env = { NETPULSE_DB_PATH: dbPath, NETPULSE_TZ: 'UTC' };

    const csv = await runCli(t, ['export', '--format', 'csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, ...rows] = csv.stdout.trimEnd().split('\n');
    assert.equal(header, 'timestamp,interface_name,span_seconds,rx_bytes,tx_bytes,rx_packets,tx_packets,rx_errors,tx_errors,rx_drops,tx_drops');
    const sum = (name: string, column: number) => rows.filter((r) => r.split(',')[1] === name).reduce((s, r) => s + BigInt(r.split(',')[column]!), 0n);
    assert.equal(sum('eth0', 3), crossed);
    assert.equal(sum('eth0', 5), 3n);
    assert.equal(sum('wlan0', 4), 99n);

    const json = await runMain(['export', '--format', 'json', '--resolution', 'day', '--interface', 'eth0'], env);
    assert.equal(json.code, 0, json.stderr);
    assert.match(json.stdout, new RegExp(`"interface_name":"eth0","rx_bytes":${crossed},`));
    assert.doesNotMatch(json.stdout, /wlan0/);
  });

  test('export with an unknown --format answers 2 naming the formats', async (t) => {
    const run = await runMain(['export', '--format', 'xml'], { NETPULSE_DB_PATH: join(tempDir(t), 'netpulse.db') });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--format must be csv or json, not "xml"/);
  });
});
