/**
 * Issue #13: with polls committed together (NETPULSE_COMMIT_INTERVAL), a kill -9 while timer polls wait in
 * memory loses nothing — the next start counts, from the last committed state, exactly what the kernel
 * counted on a real veth (test/helpers/netns.ts). Before the kill, the answers already include those polls.
 *
 * Runs only as root on Linux with iproute2 and curl; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { IF_A, createVethLab, netnsSkipReason, subCounters, waitFor } from '../helpers/netns.js';

const SKIP_REASON = netnsSkipReason();

interface Status {
  polls: number;
  pending_polls: number;
  commits: number;
}
interface Stats {
  all_time: { rx_bytes: number; tx_bytes: number; rx_packets: number; tx_packets: number };
}

test('Net-Pulse killed with timer polls not yet committed stores exactly what the kernel counted, after the restart', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-kernel-commit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'netpulse.db');
  const env = { NETPULSE_COMMIT_INTERVAL: '300' };
  const lab = await createVethLab(t);
  await lab.createVeth();
  const np = await lab.startNetPulse({ dbPath, env });
  assert.deepEqual(await np.ok('POST', '/api/config/monitored_interfaces', [IF_A]), [IF_A]);
  // A manual poll commits: the baseline on disk.
  const c0 = await lab.waitQuiet();
  await np.ok('POST', '/collector/collect');
  assert.deepEqual(await lab.readCounters(), c0, 'np0 was quiet during the baseline poll');

  await lab.send({ datagrams: 3000, payloadBytes: 1000 });
  const c1 = await lab.waitQuiet();
  // Two timer polls after the traffic ended: they hold all of it, in memory only (the status doesn't commit).
  const { polls } = await np.ok<Status>('GET', '/collector/status');
  const status = await waitFor('two timer polls after the traffic', async () => {
    const s = await np.ok<Status>('GET', '/collector/status');
    return s.polls >= polls + 2 ? s : undefined;
  }, { timeoutMs: 20_000, everyMs: 200 });
  assert.ok(status.pending_polls >= 2, `timer polls wait for the commit (${status.pending_polls} pending)`);
  const commitsBefore = status.commits;

  await np.kill9();
  assert.deepEqual(await lab.readCounters(), c1, 'np0 stayed quiet through the kill');
  const np2 = await lab.startNetPulse({ dbPath, env });
  const c2 = await lab.waitQuiet();
  await np2.ok('POST', '/collector/collect');
  const delta = subCounters(c2, c0);
  assert.ok(delta.rxPackets >= 3000n, 'the datagrams crossed np0');
  const stored = (await np2.ok<Stats>('GET', `/api/interfaces/${IF_A}/stats`)).all_time;
  assert.deepEqual(
    { rx_bytes: BigInt(stored.rx_bytes), tx_bytes: BigInt(stored.tx_bytes), rx_packets: BigInt(stored.rx_packets), tx_packets: BigInt(stored.tx_packets) },
    { rx_bytes: delta.rxBytes, tx_bytes: delta.txBytes, rx_packets: delta.rxPackets, tx_packets: delta.txPackets },
    'all time equals the kernel delta: the uncommitted polls were counted once, at the restart',
  );
  t.diagnostic(`commits before the kill: ${commitsBefore}; pending then: ${status.pending_polls}`);
});

test('Net-Pulse answers include timer polls not yet committed', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-kernel-commit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lab = await createVethLab(t);
  await lab.createVeth();
  const np = await lab.startNetPulse({ dbPath: path.join(dir, 'netpulse.db'), env: { NETPULSE_COMMIT_INTERVAL: '300' } });
  assert.deepEqual(await np.ok('POST', '/api/config/monitored_interfaces', [IF_A]), [IF_A]);
  const c0 = await lab.waitQuiet();
  await np.ok('POST', '/collector/collect');
  await lab.send({ datagrams: 2000, payloadBytes: 800 });
  const c1 = await lab.waitQuiet();
  const { polls } = await np.ok<Status>('GET', '/collector/status');
  await waitFor('two timer polls after the traffic', async () => ((await np.ok<Status>('GET', '/collector/status')).polls >= polls + 2 ? true : undefined), { timeoutMs: 20_000, everyMs: 200 });
  assert.ok((await np.ok<Status>('GET', '/collector/status')).pending_polls >= 1, 'the polls with the traffic are not committed yet');
  const delta = subCounters(c1, c0);
  const stored = (await np.ok<Stats>('GET', `/api/interfaces/${IF_A}/stats`)).all_time;
  assert.equal(BigInt(stored.rx_bytes), delta.rxBytes, 'all time includes the uncommitted polls');
  assert.equal(BigInt(stored.rx_packets), delta.rxPackets);
  const traffic = await np.ok<{ data: { rx_bytes: number | null }[] }>('GET', `/api/traffic?time_window_hours=1&group_minutes=1&interface=${IF_A}`);
  assert.equal(traffic.data.reduce((s, b) => s + BigInt(b.rx_bytes ?? 0), 0n), delta.rxBytes, '/api/traffic includes them too');
});
