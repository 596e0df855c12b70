/**
 * Issue #2 §7: Net-Pulse stores exactly the bytes and packets the kernel counted, on a real veth pair in
 * two network namespaces (test/helpers/netns.ts), through a kill -9 and through the interface being
 * deleted and re-created. The expectation is always the kernel's own counters of np0 (read from A's
 * /proc/net/dev) between Net-Pulse's baseline and its last poll; traffic happens only between polls the
 * test controls, on a link that is otherwise silent (no IPv6, static neighbours).
 *
 * Runs only as root on Linux with iproute2 and curl; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RawCounters } from '../../src/collector/counter-source.js';
import {
  IF_A,
  UDP_OVERHEAD_BYTES,
  addCounters,
  countersTotals,
  createVethLab,
  exactTotals,
  icmpReplyWireBytes,
  netnsSkipReason,
  subCounters,
  waitFor,
  type ApiTotals,
  type ExactTotals,
  type NetPulseProcess,
  type VethLab,
} from '../helpers/netns.js';

const SKIP_REASON = netnsSkipReason();

interface StatsBody {
  all_time: ApiTotals;
}
interface TrafficBody {
  data: { rx_bytes: number | null; tx_bytes: number | null; rx_packets: number | null; tx_packets: number | null }[];
}


function tempDbPath(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-kernel-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'netpulse.db');
}

/** Starts Net-Pulse in A on a fresh database and makes np0 its monitored set. */
async function startMonitoringNp0(t: TestContext, lab: VethLab): Promise<{ np: NetPulseProcess; dbPath: string }> {
  const dbPath = tempDbPath(t);
  const np = await lab.startNetPulse({ dbPath });
  // np0 is plumbing (a veth), which a first start may leave out: monitor it explicitly.
  assert.deepEqual(await np.ok('POST', '/api/config/monitored_interfaces', [IF_A]), [IF_A]);
  return { np, dbPath };
}

/**
 * Waits until np0 is quiet, polls, and returns the counters that poll saw: read before and after the
 * poll, and equal, so they are exactly what Net-Pulse read.
 */
async function collectWhileQuiet(lab: VethLab, np: NetPulseProcess): Promise<RawCounters> {
  const before = await lab.waitQuiet();
  await np.ok('POST', '/collector/collect');
  const after = await lab.readCounters();
  assert.deepEqual(after, before, 'np0 carried no traffic while Net-Pulse polled (the lab is not quiet)');
  return after;
}

async function storedAllTime(np: NetPulseProcess): Promise<ExactTotals> {
  return exactTotals((await np.ok<StatsBody>('GET', `/api/interfaces/${IF_A}/stats`)).all_time);
}

/** all_time of np0, and the buckets of /api/traffic (for np0 and for the monitored set) summed, all equal `expected`. */
async function assertStoredExactly(np: NetPulseProcess, expected: RawCounters): Promise<void> {
  const want = countersTotals(expected);
  assert.deepEqual(await storedAllTime(np), want, 'all_time of GET /api/interfaces/np0/stats equals the kernel delta');
  for (const filter of [`&interface=${IF_A}`, '']) {
    const traffic = await np.ok<TrafficBody>('GET', `/api/traffic?time_window_hours=1&group_minutes=1${filter}`);
    const sum: ExactTotals = { rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n };
    for (const b of traffic.data) {
      sum.rx_bytes += BigInt(b.rx_bytes ?? 0);
      sum.tx_bytes += BigInt(b.tx_bytes ?? 0);
      sum.rx_packets += BigInt(b.rx_packets ?? 0);
      sum.tx_packets += BigInt(b.tx_packets ?? 0);
    }
    assert.deepEqual(sum, want, `GET /api/traffic?time_window_hours=1&group_minutes=1${filter} buckets sum to the kernel delta`);
  }
}

/**
 * The lab is what it claims: np0 received exactly the datagrams B sent and sent exactly one ICMP reply
 * for each, nothing else. (Net-Pulse is compared with the kernel's counters, not with this.)
 */
function assertKernelSawOnly(delta: RawCounters, sent: { datagrams: number; payloadBytes: number }): void {
  const n = BigInt(sent.datagrams);
  assert.equal(delta.rxPackets, n, 'np0 received one packet per datagram sent, nothing else');
  assert.equal(delta.rxBytes, n * BigInt(sent.payloadBytes + UDP_OVERHEAD_BYTES), 'np0 received payload + 42 bytes per datagram');
  assert.equal(delta.txPackets, n, 'np0 sent one ICMP port unreachable per datagram, nothing else');
  assert.equal(delta.txBytes, n * BigInt(icmpReplyWireBytes(sent.payloadBytes)), 'np0 sent one ICMP reply of known size per datagram');
}

test('Net-Pulse stores exactly the bytes and packets the kernel counted on a veth', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const lab = await createVethLab(t);
  await lab.createVeth();
  const { np } = await startMonitoringNp0(t, lab);

  const c0 = await collectWhileQuiet(lab, np);
  assert.deepEqual(await storedAllTime(np), countersTotals(subCounters(c0, c0)), 'nothing stored before the traffic');

  const sent = await lab.send({ datagrams: 4000, payloadBytes: 1400 }); // 5.8 MB on the wire
  const c1 = await collectWhileQuiet(lab, np);
  const delta = subCounters(c1, c0);
  assertKernelSawOnly(delta, sent);
  assert.ok(delta.rxBytes > 5_000_000n, `several MB crossed np0 (${delta.rxBytes} bytes)`);

  await assertStoredExactly(np, delta);
});

test('Net-Pulse stores exactly what the kernel counted across a kill -9 and restart during traffic', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const lab = await createVethLab(t);
  await lab.createVeth();
  const { np, dbPath } = await startMonitoringNp0(t, lab);
  const c0 = await collectWhileQuiet(lab, np);

  // ~8000 datagrams/s until stopped (at most 60 s): it spans the kill, the downtime and the restart.
  const sender = lab.startSender({ datagrams: 480_000, payloadBytes: 1000, perSecond: 8000, maxMs: 60_000 });
  let senderDone = false;
  void sender.done.finally(() => (senderDone = true)).catch(() => undefined);

  // Kill only once Net-Pulse's own timer has stored part of the traffic: it dies mid-stream, between two
  // polls or inside one.
  await waitFor('a timer poll to store some of the traffic', async () => ((await storedAllTime(np)).rx_bytes > 0n ? true : undefined), { timeoutMs: 10_000, everyMs: 100 });
  assert.equal(senderDone, false, 'the sender still runs when Net-Pulse is killed');
  await np.kill9();
  const atKill = await lab.readCounters();

  // Down for about one poll interval's worth of traffic (8000 datagrams ≈ 1 s).
  const packetsAfter = async (from: RawCounters, n: bigint) => ((await lab.readCounters()).rxPackets >= from.rxPackets + n ? true : undefined);
  await waitFor('traffic to flow while Net-Pulse is down', () => packetsAfter(atKill, 8000n), { timeoutMs: 10_000 });

  const np2 = await lab.startNetPulse({ dbPath });
  const atRestart = await lab.readCounters();
  await waitFor('traffic to flow after the restart', () => packetsAfter(atRestart, 8000n), { timeoutMs: 10_000 });
  assert.equal(senderDone, false, 'the sender ran through the restart');
  const sentPromise = sender.stop();
  const sent = await sentPromise;
  const c1 = await collectWhileQuiet(lab, np2);
  t.diagnostic(`killed at ${atKill.rxPackets - c0.rxPackets} packets, restarted at ${atRestart.rxPackets - c0.rxPackets}, ended at ${c1.rxPackets - c0.rxPackets}`);

  const delta = subCounters(c1, c0);
  assertKernelSawOnly(delta, sent);
  await assertStoredExactly(np2, delta);
});

test('Net-Pulse counts a veth deleted and re-created while it runs from zero, exactly', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const lab = await createVethLab(t);
  await lab.createVeth();
  const { np } = await startMonitoringNp0(t, lab);
  const c0 = await collectWhileQuiet(lab, np);

  const sent1 = await lab.send({ datagrams: 3000, payloadBytes: 1400 });
  const c1 = await collectWhileQuiet(lab, np);
  const oldDelta = subCounters(c1, c0);
  assertKernelSawOnly(oldDelta, sent1);

  await lab.deleteVeth();
  await lab.createVeth();
  // Fewer bytes than the old veth had, so the new counters stay below the old ones whether or not a
  // timer poll saw the interface missing.
  const sent2 = await lab.send({ datagrams: 1000, payloadBytes: 1400 });
  const c2 = await collectWhileQuiet(lab, np);
  assertKernelSawOnly(c2, sent2); // the new veth's counters start at zero
  assert.ok(c2.rxBytes < c1.rxBytes);

  await assertStoredExactly(np, addCounters(oldDelta, c2));
});

// The Linux source keeps each interface's /sys ifindex file open and re-reads it every poll: the old
// descriptor answers ENODEV once the interface is deleted, so a re-creation is noticed even when the new
// counters already passed the old ones.
test('Net-Pulse counts a re-created veth from zero when its counters pass the old ones before the next poll', async (t) => {
  if (SKIP_REASON !== null) return t.skip('needs root and iproute2');
  const lab = await createVethLab(t);
  await lab.createVeth();
  const { np } = await startMonitoringNp0(t, lab);
  const c0 = await collectWhileQuiet(lab, np);

  const sent1 = await lab.send({ datagrams: 200, payloadBytes: 1400 });
  const c1 = await collectWhileQuiet(lab, np);
  const oldDelta = subCounters(c1, c0);
  assertKernelSawOnly(oldDelta, sent1);

  // The timer is stopped so that no poll lands in the few milliseconds the interface is missing (at 1 s
  // polling one sometimes does): the next poll sees only the new veth, whose counters are already higher.
  await np.ok('POST', '/collector/stop');
  await lab.deleteVeth();
  await lab.createVeth();
  const sent2 = await lab.send({ datagrams: 3000, payloadBytes: 1400 });
  const c2 = await collectWhileQuiet(lab, np);
  await np.ok('POST', '/collector/start');
  assertKernelSawOnly(c2, sent2);
  // Every counter of the new veth is at or above the old one's: nothing in the readings went down.
  for (const field of ['rxBytes', 'txBytes', 'rxPackets', 'txPackets', 'rxErrors', 'txErrors', 'rxDrops', 'txDrops'] as const) {
    assert.ok(c2[field] >= c1[field], `new ${field} ${c2[field]} >= old ${c1[field]}`);
  }

  await assertStoredExactly(np, addCounters(oldDelta, c2));
});
