/**
 * Issue #9: with NETPULSE_FLOWS off nothing of src/flows/ is loaded (so the server's memory and CPU are those
 * of a server without the feature); with it on, the feature module is. The server runs in a child process whose
 * module loads are recorded (test/helpers/record-loads.mjs). The "on" run needs a namespace of its own, so the
 * probe never touches this machine's nftables: it is skipped when not root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, netnsSkipReason } from '../helpers/netns.js';

const execFileAsync = promisify(execFile);

const SCRIPT = `
const { startServer } = await import('./src/server.ts');
const srv = await startServer({ env: process.env, discoverySampleMs: 10 });
const status = await (await fetch(srv.url + '/api/flows/status')).json();
await srv.close();
await new Promise((r) => setTimeout(r, 200)); // the recorder's messages arrive
const flows = globalThis.__netpulseLoaded.filter((u) => u.includes('/src/flows/'));
process.stdout.write(JSON.stringify({ status, flows, total: globalThis.__netpulseLoaded.length }));
`;

async function runServer(t: TestContext, env: Record<string, string>, prefix: string[] = []): Promise<{ status: { enabled: boolean }; flows: string[]; total: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np9h-lazy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [cmd, ...args] = [...prefix, process.execPath, '--import', 'tsx', '--import', './test/helpers/record-loads.mjs', '--input-type=module', '-e', SCRIPT];
  const { stdout } = await execFileAsync(cmd!, args, {
    cwd: REPO_ROOT,
    timeout: 60_000,
    env: { ...process.env, NETPULSE_DB_PATH: path.join(dir, 'np.db'), NETPULSE_PORT: '0', NETPULSE_LOG_LEVEL: 'silent', NETPULSE_POLL_INTERVAL: '3600', ...env },
  });
  return JSON.parse(stdout.slice(stdout.indexOf('{')));
}

test('with NETPULSE_FLOWS off no module of src/flows/ is loaded, and /api/flows/status says it is off', { timeout: 90_000 }, async (t) => {
  const run = await runServer(t, { NETPULSE_FLOWS: 'off' });
  assert.ok(run.total > 50, `the recorder saw the server's modules (${run.total})`);
  assert.deepEqual(run.flows, []);
  assert.equal(run.status.enabled, false);
});

test('with NETPULSE_FLOWS on the feature module is loaded (the recorder would see it)', { skip: netnsSkipReason() ?? false, timeout: 90_000 }, async (t) => {
  const ns = `np9h-${process.pid}-lazy`;
  await execFileAsync('ip', ['netns', 'add', ns]);
  t.after(() => execFileAsync('ip', ['netns', 'del', ns]).catch(() => undefined));
  await execFileAsync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const run = await runServer(t, { NETPULSE_FLOWS: 'on' }, ['ip', 'netns', 'exec', ns]);
  assert.ok(run.flows.some((u) => u.endsWith('/src/flows/index.ts')), JSON.stringify(run.flows));
  assert.equal(run.status.enabled, true);
});
