/**
 * `netpulse live` for real: the CLI in its own process against a real server's /api/live, and without a
 * server on the counters of a fixture /proc; traffic happens while it runs, SIGINT ends it, and the
 * session's totals must be what the counters moved by.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { makeFixtureTree } from '../helpers/fixture-tree.js';
import { DEFAULT_TREE, startTestServer, waitFor, type CleanupScope } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Generous: starting the CLI under tsx takes seconds on a loaded machine.
const WAIT_MS = 120_000;

interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

function runLive(scope: CleanupScope, env: Record<string, string | undefined>, args: string[] = []): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'live', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  scope.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exit;
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Lines of rates for one interface, in order. */
const rateLines = (text: string, name: string) => text.split('\n').filter((l) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${name} +rx:`).test(l));
const isIdle = (line: string) => /rx: +0 B\/s +0 p\/s +tx: +0 B\/s +0 p\/s$/.test(line);

/** Waits for the first rate line, lets `traffic` happen, waits until it was shown and a quiet second after it, then SIGINT. */
async function sessionWith(cli: Cli, name: string, traffic: () => void): Promise<string> {
  await waitFor(`a first rate line for ${name}`, () => {
    if (cli.child.exitCode !== null) throw new Error(`the CLI exited: ${cli.stderr()}`);
    return rateLines(cli.stdout(), name).length > 0;
  }, WAIT_MS);
  traffic();
  await waitFor(`the traffic on ${name} shown, then a quiet second`, () => {
    const lines = rateLines(cli.stdout(), name);
    const busy = lines.findIndex((l) => !isIdle(l));
    return busy >= 0 && lines.slice(busy + 1).some(isIdle);
  }, WAIT_MS);
  cli.child.kill('SIGINT');
  assert.equal(await cli.exit, 0, cli.stderr());
  return cli.stdout();
}

function totalsOf(out: string, name: string): { rx: bigint; tx: bigint; rxPackets: bigint } {
  const block = out.slice(out.indexOf(`${name} — session totals`));
  const bytes = /\((\d+) \/ (\d+) bytes\)/.exec(block);
  const packets = /packets +(\d+)/.exec(block);
  assert.ok(bytes && packets, `no totals for ${name} in:\n${out}`);
  return { rx: BigInt(bytes[1]!), tx: BigInt(bytes[2]!), rxPackets: BigInt(packets[1]!) };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('netpulse live', () => {
  test('reads the running server (NETPULSE_HOST/PORT) each second and prints the exact session totals on SIGINT', async (t) => {
    const srv = await startTestServer(t);
    const port = new URL(srv.url).port;
    const cli = runLive(t, { NETPULSE_HOST: '127.0.0.1', NETPULSE_PORT: port, NETPULSE_DB_PATH: srv.dbPath, NETPULSE_LOG_LEVEL: 'silent' });
    const out = await sessionWith(cli, 'eth0', () => srv.advance('eth0', { rxBytes: 5_000_000n, txBytes: 123_456n, rxPackets: 5000n, txPackets: 100n }));
    assert.match(cli.stderr(), new RegExp(`at http://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(cli.stderr(), /reading the counters directly/);
    assert.deepEqual(totalsOf(out, 'eth0'), { rx: 5_000_000n, tx: 123_456n, rxPackets: 5000n });
    assert.deepEqual(totalsOf(out, 'wlan0'), { rx: 0n, tx: 0n, rxPackets: 0n }, 'the other monitored interface is shown too');
    assert.ok(rateLines(out, 'eth0').some((l) => /rx: +[\d.]+ MB\/s/.test(l)), 'a rate in MB/s was shown');
  });

  test('--interface shows only that interface; an unknown one is refused by the server', async (t) => {
    const srv = await startTestServer(t);
    const cli = runLive(t, { NETPULSE_DB_PATH: srv.dbPath }, ['--url', srv.url, '--interface', 'wlan0']);
    const out = await sessionWith(cli, 'wlan0', () => srv.advance('wlan0', { rxBytes: 4321n, txBytes: 10n }));
    assert.deepEqual(rateLines(out, 'eth0'), []);
    assert.equal(totalsOf(out, 'wlan0').rx, 4321n);
    const bad = runLive(t, { NETPULSE_DB_PATH: srv.dbPath }, ['--url', srv.url, '--interface', 'nope0']);
    assert.equal(await bad.exit, 1);
    assert.match(bad.stderr(), /netpulse live: .*nope0/);
  });

  test('without a server it reads the counters of NETPULSE_PROC_ROOT directly, and creates no database', async (t) => {
    const tree = makeFixtureTree(DEFAULT_TREE);
    t.after(() => tree.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'np12-live-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'none.db');
    const env = { NETPULSE_PROC_ROOT: tree.procRoot, NETPULSE_SYS_ROOT: tree.sysRoot, NETPULSE_HOST: '127.0.0.1', NETPULSE_PORT: String(await closedPort()), NETPULSE_DB_PATH: dbPath };
    const cli = runLive(t, env, ['--interface', 'eth0']);
    const out = await sessionWith(cli, 'eth0', () => tree.setCounters('eth0', { rxBytes: 1_000_000n + 987_654n, rxPackets: 1000n + 321n, txBytes: 500_000n + 1n, txPackets: 801n }));
    assert.match(cli.stderr(), /No server at .*: reading the counters directly/);
    assert.deepEqual(totalsOf(out, 'eth0'), { rx: 987_654n, tx: 1n, rxPackets: 321n });
    assert.deepEqual(rateLines(out, 'wlan0'), [], 'only the interface asked for');
    assert.equal(existsSync(dbPath), false);
  });

  test('with --url and nothing there it fails instead of reading the local counters', async (t) => {
    const cli = runLive(t, {}, ['--url', `http://127.0.0.1:${await closedPort()}`]);
    assert.equal(await cli.exit, 1);
    assert.match(cli.stderr(), /cannot reach the server/);
  });
});
