/**
 * Issue #10 on the real kernel: Net-Pulse (as uid 65534 with CAP_NET_ADMIN only) shapes the router's
 * uplink in a lab of namespaces the test creates (test/helpers/qos-lab.ts), through its own API.
 * Rates stay at 20 Mbit/s; every wait is on a condition with a deadline.
 *
 * Runs only as root on Linux with iproute2, nftables, setpriv, curl and ping; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/netns.js';
import { CLIENT_ADDR, NOBODY, WAN_IF, createQosLab, goodputAfterStart, median, qosLabSkipReason, type QosLab, type QosNetPulse } from '../helpers/qos-lab.js';

const SKIP = qosLabSkipReason();
const RATE_KBIT = 20_000;
const RATE_BYTES_PER_SEC = (RATE_KBIT * 1000) / 8;

function config(overrides: Record<string, unknown> = {}) {
  return {
    interface: WAN_IF,
    upload_kbit: RATE_KBIT,
    download_kbit: RATE_KBIT,
    classes: [
      { id: 'voice', name: 'Voice', share_percent: 25, ceil_percent: 100, mark_dscp: 'ef' },
      { id: 'video', name: 'Video', share_percent: 25, ceil_percent: 100, mark_dscp: null },
      { id: 'web', name: 'Web', share_percent: 30, ceil_percent: 100, mark_dscp: null },
      { id: 'file', name: 'File', share_percent: 10, ceil_percent: 100, mark_dscp: null },
      { id: 'background', name: 'Background', share_percent: 10, ceil_percent: 100, mark_dscp: null },
    ],
    default_class: 'web',
    rules: [{ class: 'voice', dscp: 'ef' }],
    policers: [],
    fallback_throttle: { enabled: false, target: { class: 'background' }, rate_kbit: 1000 },
    keep_on_stop: false,
    ...overrides,
  };
}

interface QosBody {
  allowed: boolean;
  capabilities: Record<string, { available: boolean; reason: string | null }>;
  applied: { rollback_deadline: string | null; confirmed: boolean; ifb: string | null; qdisc_before: string | null } | null;
  classes: { id: string; upload: { bytes: number; packets: number } | null; download: { bytes: number } | null }[];
}

async function qdiscText(lab: QosLab, dev: string): Promise<string> {
  return lab.exec(lab.ns.r, 'tc', ['qdisc', 'show', 'dev', dev]);
}

/** Net-Pulse's traces in the router: own qdiscs/classes, its ifb, its nft table. */
async function traces(lab: QosLab): Promise<string[]> {
  const found: string[] = [];
  if ((await qdiscText(lab, WAN_IF)).match(/4e50:|ingress/)) found.push('qdisc');
  if ((await lab.exec(lab.ns.r, 'tc', ['class', 'show', 'dev', WAN_IF])).includes('4e50:')) found.push('class');
  if ((await lab.exec(lab.ns.r, 'ip', ['-o', 'link', 'show'])).includes('npifb-')) found.push('ifb');
  if ((await lab.exec(lab.ns.r, 'nft', ['list', 'tables'])).includes('netpulse_qos')) found.push('nft table');
  return found;
}

async function applyConfirmed(np: QosNetPulse, cfg = config()): Promise<void> {
  await np.ok('PUT', '/api/qos', cfg);
  await np.ok('POST', '/api/qos/apply', { confirm_within_seconds: 600, dry_run: false });
  await np.ok('POST', '/api/qos/confirm');
}

test('QoS on the real kernel (namespaces np10-*)', { skip: SKIP ?? false, timeout: 1_500_000 }, async (t) => {
  await t.test('Net-Pulse runs as uid 65534 with CAP_NET_ADMIN only, and probes htb and ifb on a throwaway device', async (t) => {
    const lab = await createQosLab(t);
    const np = await lab.startNetPulse();
    t.after(() => np.kill9().catch(() => undefined));
    const status = await lab.exec(lab.ns.r, 'cat', [`/proc/${np.pid}/status`]);
    assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
    assert.equal(BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)![1]}`), 1n << 12n, 'effective capabilities are CAP_NET_ADMIN (bit 12) only');
    const body = await np.ok<QosBody>('GET', '/api/qos');
    assert.equal(body.allowed, true);
    assert.equal(body.capabilities.htb!.available, true);
    assert.equal(body.capabilities.ifb!.available, true);
    for (const [name, cap] of Object.entries(body.capabilities)) if (!cap.available) assert.ok(cap.reason, `${name} says why it is missing`);
    assert.deepEqual(await traces(lab), [], 'the probe left nothing behind');
    assert.doesNotMatch(await lab.exec(lab.ns.r, 'ip', ['-o', 'link', 'show']), /npprobe/);
  });

  await t.test('upload and download shaped to 20 Mbit/s give TCP goodput of 85–100 % (download through its own ifb)', async (t) => {
    const lab = await createQosLab(t);
    const np = await lab.startNetPulse();
    t.after(() => np.kill9().catch(() => undefined));
    await applyConfirmed(np);
    for (const from of ['c', 's'] as const) {
      const flow = lab.tcp(from, { streams: 2, seconds: 6 });
      const curve = await flow.done;
      const goodput = goodputAfterStart(curve, 1000, 4000);
      const share = goodput / RATE_BYTES_PER_SEC;
      t.diagnostic(`${from === 'c' ? 'upload' : 'download'}: ${((goodput * 8) / 1e6).toFixed(2)} Mbit/s = ${(share * 100).toFixed(1)} % of 20 Mbit/s`);
      assert.ok(share >= 0.85 && share <= 1.0, `${from === 'c' ? 'upload' : 'download'} goodput ${(share * 100).toFixed(1)} % is within 85–100 %`);
    }
    const body = await np.ok<QosBody>('GET', '/api/qos');
    const web = body.classes.find((c) => c.id === 'web')!;
    assert.ok(web.upload!.bytes > 10 * RATE_BYTES_PER_SEC * 0.5, 'the web (default) class counted the upload (rtnetlink class counters)');
    assert.ok(web.download!.bytes > 10 * RATE_BYTES_PER_SEC * 0.5, "the ifb's web class counted the download");
  });

  await t.test('under 4 bulk TCP streams EF voice loses < 2 % and EF ping answers < 5 ms median; with QoS removed both are clearly worse', async (t) => {
    const lab = await createQosLab(t);
    // The "modem": one FIFO at 22 Mbit/s after the router (up to 60 ms of queue), as a DSL or cable modem has.
    // Net-Pulse shapes just under it, so with QoS the queue (and the choice of who waits) moves into the router.
    await lab.exec(lab.ns.m, 'tc', ['qdisc', 'add', 'dev', 'm1', 'root', 'tbf', 'rate', '22mbit', 'burst', '32kb', 'latency', '60ms']);
    // The client's voice app marks its packets EF (as softphones do).
    await lab.exec(lab.ns.c, 'nft', ['-f', '-'], 'table inet np10_client {\n  chain out {\n    type filter hook output priority 0; policy accept;\n    udp dport 5004 ip dscp set ef\n  }\n}\n');
    const np = await lab.startNetPulse();
    t.after(() => np.kill9().catch(() => undefined));

    const measure = async () => {
      const bulk = lab.tcp('c', { streams: 4, seconds: 12 });
      await bulk.ready;
      // Warm-up: the queue fills within the first second or two of 4 streams.
      await sleep(2000);
      const [voice, ping] = await Promise.all([lab.udp({ count: 8000, perSecond: 2000, payloadBytes: 200, port: 5004 }), lab.ping({ count: 60, intervalSec: 0.05, tos: 0xb8 })]);
      bulk.stop();
      await bulk.done.catch(() => undefined);
      return { received: voice.received, loss: 1 - voice.received / voice.sent, pingMedianMs: median(ping.rttsMs), pingLoss: 1 - ping.received / ping.sent };
    };

    await applyConfirmed(np);
    const withQos = await measure();
    const voiceClass = (await np.ok<QosBody>('GET', '/api/qos')).classes.find((c) => c.id === 'voice')!;
    assert.ok(voiceClass.upload!.packets >= withQos.received, 'every voice datagram that arrived went through the voice class');
    await np.ok('DELETE', '/api/qos');
    const without = await measure();
    t.diagnostic(`with QoS: voice loss ${(withQos.loss * 100).toFixed(2)} %, EF ping median ${withQos.pingMedianMs} ms; removed: ${(without.loss * 100).toFixed(2)} %, ${without.pingMedianMs} ms (ping loss ${(without.pingLoss * 100).toFixed(0)} %)`);
    assert.ok(withQos.loss < 0.02, `voice loss ${(withQos.loss * 100).toFixed(2)} % < 2 %`);
    assert.ok(withQos.pingMedianMs < 5, `EF ping median ${withQos.pingMedianMs} ms < 5 ms`);
    const pingWorse = !(without.pingMedianMs < Math.max(20, 4 * withQos.pingMedianMs));
    const lossWorse = without.loss > Math.max(0.05, 4 * withQos.loss);
    // A FIFO hurts voice by delay, by loss, or both (how TCP fills it decides which): either is clearly worse.
    assert.ok(pingWorse || lossWorse, `without QoS voice is clearly worse: ping median ${without.pingMedianMs} ms (≥ 20 ms and 4×) or loss ${(without.loss * 100).toFixed(1)} % (> 5 % and 4×)`);
  });

  await t.test('DSCP marking: the receiver counts every voice packet with EF', async (t) => {
    const lab = await createQosLab(t);
    await lab.exec(lab.ns.s, 'nft', ['-f', '-'], 'table inet np10_rx {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    udp dport 6000 ip dscp ef counter\n    udp dport 6000 counter\n  }\n}\n');
    const np = await lab.startNetPulse();
    t.after(() => np.kill9().catch(() => undefined));
    await applyConfirmed(np, config({ rules: [{ class: 'voice', protocol: 'udp', ports: [6000] }] }));
    const { sent, received } = await lab.udp({ count: 1000, perSecond: 1000, payloadBytes: 100, port: 6000 });
    const text = await lab.exec(lab.ns.s, 'nft', ['list', 'table', 'inet', 'np10_rx']);
    const [efPackets, allPackets] = [...text.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(sent, 1000);
    assert.equal(allPackets, received, 'the counter saw what the sink received');
    assert.equal(efPackets, sent, 'every datagram sent arrived marked EF');
  });

  await t.test('an unconfirmed apply is gone after its deadline; a confirmed one stays; a crash before confirming is undone at the next start', async (t) => {
    const lab = await createQosLab(t);
    const before = await qdiscText(lab, WAN_IF);
    const dbDir = lab.dbDir();
    let np = await lab.startNetPulse({ dbDir });
    t.after(() => np.kill9().catch(() => undefined));
    await np.ok('PUT', '/api/qos', config());
    const first = await np.ok<{ applied: { rollback_deadline: string } }>('POST', '/api/qos/apply', { confirm_within_seconds: 5, dry_run: false });
    assert.match(await qdiscText(lab, WAN_IF), /htb 4e50:/);
    const deadline = Date.parse(first.applied.rollback_deadline);
    await waitFor('the unconfirmed tree to be rolled back', async () => ((await traces(lab)).length === 0 ? true : undefined), { timeoutMs: 120_000, everyMs: 250 });
    assert.ok(Date.now() >= deadline, 'not rolled back before its deadline');
    assert.equal((await np.ok<QosBody>('GET', '/api/qos')).applied, null);
    assert.equal(await qdiscText(lab, WAN_IF), before);

    const second = await np.ok<{ applied: { rollback_deadline: string } }>('POST', '/api/qos/apply', { confirm_within_seconds: 5, dry_run: false });
    await np.ok('POST', '/api/qos/confirm');
    const deadline2 = Date.parse(second.applied.rollback_deadline);
    await waitFor('the old deadline to pass', async () => (Date.now() > deadline2 + 2000 ? true : undefined), { timeoutMs: 30_000, everyMs: 250 });
    assert.match(await qdiscText(lab, WAN_IF), /htb 4e50:/, 'the confirmed tree stays');
    assert.equal((await np.ok<QosBody>('GET', '/api/qos')).applied!.confirmed, true);

    // Crash with an apply pending: the next start removes it.
    await np.ok('POST', '/api/qos/apply', { confirm_within_seconds: 600, dry_run: false });
    await np.kill9();
    assert.deepEqual(await traces(lab), ['qdisc', 'class', 'ifb', 'nft table'], 'a kill -9 leaves the tree');
    np = await lab.startNetPulse({ dbDir });
    assert.deepEqual(await traces(lab), [], 'the next start removed the unconfirmed tree');
    assert.equal(await qdiscText(lab, WAN_IF), before);
  });

  await t.test('apply twice, then remove: nothing of Net-Pulse remains and the qdisc is what it was; dry run changes nothing', async (t) => {
    const lab = await createQosLab(t);
    const before = await qdiscText(lab, WAN_IF);
    const np = await lab.startNetPulse();
    t.after(() => np.kill9().catch(() => undefined));
    await np.ok('PUT', '/api/qos', config({ policers: [{ target: { host: CLIENT_ADDR }, rate_kbit: 5000, burst_kbyte: 64 }] }));
    const dry = await np.ok<{ commands: { command: string; stdin: string }[] }>('POST', '/api/qos/apply', { confirm_within_seconds: 60, dry_run: true });
    assert.deepEqual(dry.commands.map((c) => c.command), ['ip -batch -', 'tc -batch -', 'nft -f -']);
    assert.match(dry.commands[1]!.stdin, /^qdisc add dev wan0 root handle 4e50: htb default 30$/m);
    assert.deepEqual(await traces(lab), [], 'a dry run applies nothing');
    await np.ok('POST', '/api/qos/apply', { confirm_within_seconds: 60, dry_run: false });
    await np.ok('POST', '/api/qos/apply', { confirm_within_seconds: 60, dry_run: false });
    assert.equal((await lab.exec(lab.ns.r, 'tc', ['class', 'show', 'dev', WAN_IF])).match(/class htb 4e50:/g)?.length, 6, 'one tree, not two');
    await np.ok('DELETE', '/api/qos');
    assert.deepEqual(await traces(lab), []);
    assert.equal(await qdiscText(lab, WAN_IF), before);
    // A stop with a confirmed tree (keep_on_stop false) removes it too.
    await applyConfirmed(np, config());
    await np.stop();
    assert.deepEqual(await traces(lab), [], 'stop removed the tree');
  });
});
