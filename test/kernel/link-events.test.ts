/**
 * Issue #8: link events on the real kernel, with `netpulse serve` running for real (a real SQLite file,
 * 1 s polling) inside namespace A of the veth lab (test/helpers/netns.ts; namespaces np<pid>n<k>a/b, plus a
 * third one np8-<pid>-… made here), torn down in t.after.
 *
 * - A transfer in flight when the veth is deleted and re-created: the traffic between Net-Pulse's last poll
 *   and the deletion is counted from the RTM_DELLINK's counters (≤ 0.1 % lost), and nothing twice.
 * - np0 moved to another namespace and back (same ifindex, counters continue): exact totals.
 * - np0 renamed while monitored: history stays under the old name, the new name carries on from the old
 *   name's counters (not from zero), exact.
 *
 * Runs only as root on Linux with iproute2 and curl; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { parseProcNetDev } from '../../src/collector/proc-net-dev.js';
import { IF_A, UDP_OVERHEAD_BYTES, countersTotals, createVethLab, exactTotals, killChildren, netnsSkipReason, subCounters, waitFor, type ApiTotals, type ExactTotals, type NetPulseProcess, type VethLab } from '../helpers/netns.js';

const execFileAsync = promisify(execFile);
const SKIP_REASON = netnsSkipReason();

const ZERO: ExactTotals = { rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n };

function tempDbPath(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np8-kernel-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'netpulse.db');
}

async function stored(np: NetPulseProcess, name: string): Promise<ExactTotals> {
  const answer = await np.request('GET', `/api/interfaces/${name}/stats`);
  if (answer.status === 404) return ZERO;
  if (answer.status !== 200) throw new Error(`stats of ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return exactTotals((answer.body as { all_time: ApiTotals }).all_time);
}

/** Total polls Net-Pulse made so far. */
async function polls(np: NetPulseProcess): Promise<number> {
  return (await np.ok<{ polls: number }>('GET', '/collector/status')).polls;
}

/** Waits until Net-Pulse made `n` more polls (its own 1 s timer, or ones link events triggered). */
async function waitPolls(np: NetPulseProcess, n: number): Promise<void> {
  const from = await polls(np);
  await waitFor(`${n} more polls`, async () => ((await polls(np)) >= from + n ? true : undefined), { timeoutMs: 20_000, everyMs: 100 });
}

async function counters(lab: VethLab, ns: string, name: string): Promise<RawCounters | undefined> {
  return parseProcNetDev(await lab.exec(ns, 'cat', ['/proc/net/dev'])).get(name);
}

/** A third namespace for moves, deleted in t.after. */
async function extraNamespace(t: TestContext): Promise<string> {
  const ns = `np8-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await execFileAsync('ip', ['netns', 'add', ns], { timeout: 10_000 });
  t.after(async () => {
    await execFileAsync('ip', ['netns', 'del', ns], { timeout: 10_000 }).catch(() => undefined);
  });
  return ns;
}

/** np0's addresses, neighbour and state again (a move to another namespace and back loses them). */
async function reconfigureNp0(lab: VethLab): Promise<void> {
  await lab.exec(lab.nsA, 'ip', ['addr', 'add', `${lab.addrA}/30`, 'dev', IF_A]);
  const macB = (await lab.exec(lab.nsB, 'cat', ['/sys/class/net/np1/address'])).trim();
  await lab.exec(lab.nsA, 'ip', ['neigh', 'replace', lab.addrB, 'lladdr', macB, 'dev', IF_A, 'nud', 'permanent']);
  await lab.exec(lab.nsA, 'ip', ['link', 'set', IF_A, 'up']);
  await waitFor(`${IF_A} to be up again`, async () => ((await lab.exec(lab.nsA, 'cat', [`/sys/class/net/${IF_A}/operstate`])).trim() === 'up' ? true : undefined), { timeoutMs: 5000 });
}

/**
 * A UDP sender (A → B) that goes on through errors (the route is gone while the veth is deleted), paced to
 * `perSecond` datagrams, and a receiver in B that counts what arrives. Both tracked, killed by PID.
 */
const SENDER = `
const dgram = require('node:dgram');
const [host, port, size, total, perSecond, maxMs] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const s = dgram.createSocket('udp4');
const payload = Buffer.alloc(size, 0x5a);
const t0 = Date.now();
let queued = 0, done = 0, ok = 0, failed = 0;
const finish = () => { s.close(); process.stdout.write(JSON.stringify({ ok, failed })); };
function pump() {
  const allowed = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * perSecond) + 1);
  while (queued < allowed && queued - done < 32) {
    queued++;
    s.send(payload, port, host, (err) => { if (err) failed++; else ok++; done++; if (done === queued) setImmediate(pump); });
  }
  if (done < queued) return;
  if (queued >= total || Date.now() - t0 > maxMs) return finish();
  setTimeout(pump, 5);
}
pump();
`;
const RECEIVER = `
const dgram = require('node:dgram');
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
let datagrams = 0, bytes = 0;
s.on('message', (m) => { datagrams++; bytes += m.length; });
s.bind(Number(process.argv[1]), () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ datagrams, bytes }) + '\\n'); process.exit(0); });
`;

function track(t: TestContext, child: ChildProcess): { out: () => string; exited: Promise<number | null> } {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => killChildren([child]));
  return { out: () => out, exited };
}

/** UDP datagrams that reached B's UDP layer but were dropped there (receive buffer full, checksum): np0 sent them. */
async function udpDropsInB(lab: VethLab): Promise<bigint> {
  const snmp = await lab.exec(lab.nsB, 'cat', ['/proc/net/snmp']);
  const [head, values] = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = head!.split(/\s+/);
  const nums = values!.split(/\s+/);
  const get = (k: string) => BigInt(nums[names.indexOf(k)] ?? '0');
  // InErrors counts RcvbufErrors and checksum errors too.
  return get('InErrors');
}

const PAYLOAD = 1400;
const WIRE = BigInt(PAYLOAD + UDP_OVERHEAD_BYTES);
const PORT = 5009;

/**
 * ~50 MB at ~10 MB/s from A to B; np0 deleted and re-created in the middle, at a random moment between two
 * polls. Returns what Net-Pulse stored for np0's tx and the kernel's truth.
 *
 * The truth: every datagram np0 transmitted reached B's UDP layer (static neighbours, no IPv6: np0 sends
 * nothing else), where it was either delivered to the receiver or dropped and counted (RcvbufErrors). So
 * np0's tx over both veths = (delivered + dropped in B) × (1400 + 42) bytes. The few datagrams in B's backlog
 * when the pair is deleted were counted by np0 and reach nothing: they make the truth (a little) low, never high.
 */
async function transferAcrossDeletion(t: TestContext, env: Record<string, string>): Promise<{ storedTx: bigint; truthTx: bigint; storedTxPackets: bigint; truthPackets: bigint; log: string }> {
  const lab = await createVethLab(t);
  await lab.createVeth();
  const np = await lab.startNetPulse({ dbPath: tempDbPath(t), env: { NETPULSE_INTERFACES: IF_A, ...env } });
  const linkEvents = (await np.ok<{ link_events: { on: boolean; reason: string | null; lost_messages: number } }>('GET', '/collector/status')).link_events;
  assert.deepEqual(linkEvents, env.NETPULSE_LINK_EVENTS === 'off' ? { on: false, reason: 'NETPULSE_LINK_EVENTS=off', lost_messages: 0 } : { on: true, reason: null, lost_messages: 0 });
  await waitPolls(np, 1);
  const dropsBefore = await udpDropsInB(lab);
  const receiver = spawn('ip', ['netns', 'exec', lab.nsB, process.execPath, '-e', RECEIVER, String(PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const rx = track(t, receiver);
  await waitFor('the receiver to listen', async () => (rx.out().includes('ready') ? true : undefined), { timeoutMs: 20_000 });
  const baseline = await counters(lab, lab.nsA, IF_A);
  // The stored total from this baseline on: Net-Pulse may have counted a few packets before (none expected).
  const storedBefore = await stored(np, IF_A);
  assert.ok(baseline !== undefined);

  const datagrams = 36_000; // 36,000 × 1442 B ≈ 52 MB
  const sender = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, '-e', SENDER, lab.addrB, String(PORT), String(PAYLOAD), String(datagrams), '7000', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tx = track(t, sender);
  // Delete once about 2 s of traffic went out, at a random moment between Net-Pulse's polls.
  await waitFor('about 2 s of traffic', async () => {
    const c = await counters(lab, lab.nsA, IF_A);
    return c !== undefined && c.txPackets - baseline.txPackets > 14_000n ? true : undefined;
  }, { timeoutMs: 30_000, everyMs: 20 });
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1000)));
  const beforeDelete = await counters(lab, lab.nsA, IF_A);
  await lab.deleteVeth();
  await lab.createVeth();
  assert.equal(await tx.exited, 0, `sender failed: ${tx.out()}`);
  const sent = JSON.parse(tx.out()) as { ok: number; failed: number };
  const after = await lab.waitQuiet();
  // Let a poll of Net-Pulse's own read the quiet counters (commit: the stats read flushes pending polls).
  await waitPolls(np, 2);
  process.kill(receiver.pid!, 'SIGTERM');
  await rx.exited;
  const received = JSON.parse(rx.out().split('\n').filter((l) => l.startsWith('{')).pop()!) as { datagrams: number; bytes: number };
  const droppedInB = (await udpDropsInB(lab)) - dropsBefore;
  const truthPackets = BigInt(received.datagrams) + droppedInB;
  const storedNow = await stored(np, IF_A);
  const log = `sent ok ${sent.ok}, failed ${sent.failed}; received ${received.datagrams}, dropped in B ${droppedInB}; np0 tx before delete ${beforeDelete === undefined ? '?' : beforeDelete.txPackets - baseline.txPackets} pkts, new veth ${after.txPackets} pkts`;
  return { storedTx: storedNow.tx_bytes - storedBefore.tx_bytes, truthTx: truthPackets * WIRE, storedTxPackets: storedNow.tx_packets - storedBefore.tx_packets, truthPackets, log };
}

test('a transfer in flight when the veth is deleted and re-created is counted to within 0.1 %, never more', async (t) => {
  if (SKIP_REASON !== null) return t.skip(SKIP_REASON);
  const r = await transferAcrossDeletion(t, {});
  const lostPct = (Number(r.truthTx - r.storedTx) / Number(r.truthTx)) * 100;
  t.diagnostic(`with link events: stored ${r.storedTx} B of ${r.truthTx} B (${lostPct.toFixed(4)} % lost); ${r.log}`);
  // Never more than np0 sent: the datagrams np0 sent are at most those that reached B plus the few in B's
  // backlog at the deletion (0.1 % of them is 36 datagrams).
  assert.ok(r.storedTxPackets <= r.truthPackets + 36n, `stored ${r.storedTxPackets} packets, truth ${r.truthPackets}`);
  assert.ok(Math.abs(lostPct) <= 0.1, `lost ${lostPct} % (stored ${r.storedTx} of ${r.truthTx})`);
});

test('without link events the same transfer loses the traffic after the last poll, and counts nothing twice', async (t) => {
  if (SKIP_REASON !== null) return t.skip(SKIP_REASON);
  const r = await transferAcrossDeletion(t, { NETPULSE_LINK_EVENTS: 'off' });
  const lostPct = (Number(r.truthTx - r.storedTx) / Number(r.truthTx)) * 100;
  t.diagnostic(`without link events: stored ${r.storedTx} B of ${r.truthTx} B (${lostPct.toFixed(3)} % lost); ${r.log}`);
  assert.ok(r.storedTxPackets <= r.truthPackets + 36n, `stored ${r.storedTxPackets} packets, truth ${r.truthPackets}`);
});

/** Waits for quiet np0 counters, lets Net-Pulse poll twice, and returns them (what its last poll read). */
async function quietAndPolled(lab: VethLab, np: NetPulseProcess): Promise<RawCounters> {
  const c = await lab.waitQuiet();
  await waitPolls(np, 2);
  assert.deepEqual(await lab.readCounters(), c, 'np0 stayed quiet while Net-Pulse polled');
  return c;
}

test('np0 moved to another namespace and back (same ifindex) is counted exactly, its counters continued', async (t) => {
  if (SKIP_REASON !== null) return t.skip(SKIP_REASON);
  const lab = await createVethLab(t);
  await lab.createVeth();
  const away = await extraNamespace(t);
  const np = await lab.startNetPulse({ dbPath: tempDbPath(t), env: { NETPULSE_INTERFACES: IF_A } });
  const c0 = await quietAndPolled(lab, np);
  const s0 = await stored(np, IF_A);
  const ifindex = (await lab.exec(lab.nsA, 'cat', [`/sys/class/net/${IF_A}/ifindex`])).trim();

  await lab.send({ datagrams: 2000, payloadBytes: 1400 });
  // The peer's move (B → away → B) changes nothing for np0.
  await lab.exec(lab.nsB, 'ip', ['link', 'set', 'np1', 'netns', away]);
  await lab.exec(away, 'ip', ['link', 'set', 'np1', 'netns', lab.nsB]);
  await lab.exec(lab.nsB, 'ip', ['addr', 'add', `${lab.addrB}/30`, 'dev', 'np1']);
  await lab.exec(lab.nsB, 'ip', ['link', 'set', 'np1', 'up']);
  await reconfigureNp0(lab).catch(() => undefined); // np0 may have gone down with its peer
  // np0 itself moves away with traffic not yet polled, stays away for polls, and comes back.
  await lab.send({ datagrams: 1000, payloadBytes: 1400 });
  await lab.exec(lab.nsA, 'ip', ['link', 'set', IF_A, 'netns', away]);
  await waitPolls(np, 2);
  await lab.exec(away, 'ip', ['link', 'set', IF_A, 'netns', lab.nsA]);
  assert.equal((await lab.exec(lab.nsA, 'cat', [`/sys/class/net/${IF_A}/ifindex`])).trim(), ifindex, 'np0 came back with its ifindex');
  await reconfigureNp0(lab);
  await lab.send({ datagrams: 1000, payloadBytes: 1400 });
  const c1 = await quietAndPolled(lab, np);
  assert.ok(c1.rxBytes > c0.rxBytes + 4000n * 1400n, 'the counters ran on through the moves');

  const got = await stored(np, IF_A);
  const want = countersTotals(subCounters(c1, c0));
  assert.deepEqual({ rx_bytes: got.rx_bytes - s0.rx_bytes, tx_bytes: got.tx_bytes - s0.tx_bytes, rx_packets: got.rx_packets - s0.rx_packets, tx_packets: got.tx_packets - s0.tx_packets }, want);
});

test('np0 renamed while monitored: its history stays under np0, the new name carries on from its counters', async (t) => {
  if (SKIP_REASON !== null) return t.skip(SKIP_REASON);
  const lab = await createVethLab(t);
  await lab.createVeth();
  const renamed = 'np0r';
  // A pattern that monitors both names (the monitored set is by name).
  const np = await lab.startNetPulse({ dbPath: tempDbPath(t), env: { NETPULSE_INTERFACES: 'np0*' } });
  const c0 = await quietAndPolled(lab, np);
  const s0 = await stored(np, IF_A);
  await lab.send({ datagrams: 2000, payloadBytes: 1400 });
  const c1 = await quietAndPolled(lab, np);

  await lab.exec(lab.nsA, 'ip', ['link', 'set', IF_A, 'down']);
  await lab.exec(lab.nsA, 'ip', ['link', 'set', IF_A, 'name', renamed]);
  await lab.exec(lab.nsA, 'ip', ['link', 'set', renamed, 'up']);
  await lab.send({ datagrams: 1500, payloadBytes: 1200 });
  const c2 = await waitFor('np0r quiet', async () => {
    const a = await counters(lab, lab.nsA, renamed);
    await new Promise((r) => setTimeout(r, 300));
    const b = await counters(lab, lab.nsA, renamed);
    return a !== undefined && JSON.stringify(a, (_, v) => String(v)) === JSON.stringify(b, (_, v) => String(v)) ? a : undefined;
  }, { timeoutMs: 15_000 });
  await waitPolls(np, 2);
  assert.ok(c2.rxBytes > c1.rxBytes, 'the renamed device kept its counters');

  const oldName = await stored(np, IF_A);
  const newName = await stored(np, renamed);
  assert.deepEqual({ rx_bytes: oldName.rx_bytes - s0.rx_bytes, tx_bytes: oldName.tx_bytes - s0.tx_bytes, rx_packets: oldName.rx_packets - s0.rx_packets, tx_packets: oldName.tx_packets - s0.tx_packets }, countersTotals(subCounters(c1, c0)), 'np0 keeps the traffic before the rename');
  assert.deepEqual(newName, countersTotals(subCounters(c2, c1)), 'np0r has the traffic after it, counted from np0\'s last reading, not from zero');
});
