/** The QoS planner as text (issue #10): config + capabilities + what is present → the exact scripts. No root needed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAPABILITY_NAMES, ifbName, planApply, planRemove, quantumBytes, type QosCapabilities, type QosPresent } from '../../src/qos/planner.js';
import { QosConfigError, validateQosConfig, withDefaults, type QosConfig } from '../../src/qos/qos-config.js';

/** This machine's kernel: htb, ifb and dscp, no cake, fq_codel, police or connmark. */
function caps(available: string[] = ['htb', 'ifb', 'dscp']): QosCapabilities {
  return Object.fromEntries(CAPABILITY_NAMES.map((n) => [n, available.includes(n) ? { available: true, reason: null } : { available: false, reason: 'Error: Specified qdisc kind is unknown.' }])) as QosCapabilities;
}
const FRESH: QosPresent = { rootOurs: false, ingressOurs: false, ifbExists: false };
const cfg = (over: Partial<QosConfig> = {}): QosConfig => ({ ...withDefaults({ interface: 'eth0', upload_kbit: 20_000, download_kbit: 50_000 }), ...over });

test('planApply builds an HTB tree in priority order with pfifo leaves when the kernel lacks cake and fq_codel', () => {
  const plan = planApply(cfg(), caps(), FRESH, { throttleActive: false });
  const tc = plan.tcBatch.split('\n');
  assert.deepEqual(tc.slice(0, 4), [
    'qdisc add dev eth0 root handle 4e50: htb default 30',
    'class add dev eth0 parent 4e50: classid 4e50:1 htb rate 20000kbit ceil 20000kbit quantum 200000',
    'class add dev eth0 parent 4e50:1 classid 4e50:10 htb rate 2000kbit ceil 20000kbit prio 0 quantum 25000',
    'qdisc add dev eth0 parent 4e50:10 handle 4e51: pfifo limit 100',
  ]);
  assert.equal(plan.leaf, 'pfifo');
  assert.deepEqual(plan.classes.map((c) => [c.id, c.prio, c.upload.rate_kbit]), [['voice', 0, 2000], ['video', 1, 6000], ['web', 2, 6000], ['file', 3, 4000], ['background', 4, 2000]]);
  assert.match(plan.notes.join('\n'), /leaves are pfifo/);
});

test('planApply prefers cake, then fq_codel, for the leaves', () => {
  assert.match(planApply(cfg(), caps(['htb', 'ifb', 'dscp', 'cake', 'fq_codel']), FRESH, { throttleActive: false }).tcBatch, /handle 4e51: cake besteffort$/m);
  assert.match(planApply(cfg(), caps(['htb', 'ifb', 'dscp', 'fq_codel']), FRESH, { throttleActive: false }).tcBatch, /handle 4e51: fq_codel$/m);
});

test('planApply shapes download on its own ifb fed by a match-all redirect from ingress', () => {
  const plan = planApply(cfg(), caps(), FRESH, { throttleActive: false });
  assert.equal(plan.ifb, 'npifb-eth0');
  assert.equal(plan.ipBatch, 'link add npifb-eth0 type ifb\nlink set dev npifb-eth0 up\n');
  assert.match(plan.tcBatch, /^qdisc add dev eth0 handle ffff: ingress\nfilter add dev eth0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev npifb-eth0$/m);
  assert.match(plan.tcBatch, /^class add dev npifb-eth0 parent 4e50: classid 4e50:1 htb rate 50000kbit ceil 50000kbit/m);
  assert.match(plan.tcBatch, /^filter add dev npifb-eth0 parent 4e50: protocol ip prio 10 u32 match ip dsfield 0xb8 0xfc flowid 4e50:10$/m);
});

test('planApply without ifb support leaves download alone and says why', () => {
  const plan = planApply(cfg(), caps(['htb', 'dscp']), FRESH, { throttleActive: false });
  assert.equal(plan.ifb, null);
  assert.equal(plan.ipBatch, '');
  assert.doesNotMatch(plan.tcBatch, /ingress|npifb/);
  assert.match(plan.notes.join('\n'), /download is not shaped/);
});

test('planApply deletes what Net-Pulse already owns before it adds (delete-then-add)', () => {
  const plan = planApply(cfg(), caps(), { rootOurs: true, ingressOurs: true, ifbExists: true }, { throttleActive: false });
  assert.deepEqual(plan.tcBatch.split('\n').slice(0, 3), ['qdisc del dev eth0 root', 'qdisc del dev eth0 ingress', 'qdisc del dev npifb-eth0 root']);
  assert.equal(plan.ipBatch, 'link set dev npifb-eth0 up\n');
  assert.match(plan.nftScript, /^table inet netpulse_qos\ndelete table inet netpulse_qos\ntable inet netpulse_qos \{$/m);
});

test('planApply classifies upload in nft by DSCP, port, host and the conntrack category, first match wins', () => {
  const plan = planApply(
    cfg({ rules: [{ class: 'voice', dscp: 'ef' }, { class: 'file', protocol: 'tcp', ports: [22], hosts: ['192.168.1.0/24'] }, { class: 'Video', category: 'video' }] }),
    caps(),
    FRESH,
    { throttleActive: false },
  );
  const classify = plan.nftScript.slice(plan.nftScript.indexOf('chain np_classify'), plan.nftScript.indexOf('chain np_dscp'));
  assert.deepEqual(classify.trim().split('\n').slice(1, -1).map((l) => l.trim()), [
    'ip dscp 46 meta priority set 4e50:10 return',
    'ip6 dscp 46 meta priority set 4e50:10 return',
    'ip saddr { 192.168.1.0/24 } meta l4proto tcp th dport { 22 } meta priority set 4e50:40 return',
    'ip daddr { 192.168.1.0/24 } meta l4proto tcp th dport { 22 } meta priority set 4e50:40 return',
    'ct mark and 0xff000000 == 0x02000000 meta priority set 4e50:20 return',
  ]);
  assert.match(plan.nftScript, /oifname "eth0" jump np_classify\n {4}oifname "eth0" jump np_dscp/);
  assert.match(plan.tcBatch, /^filter add dev npifb-eth0 parent 4e50: protocol ip prio 11 u32 match ip src 192.168.1.0\/24 match ip sport 22 0xffff match ip protocol 6 0xff flowid 4e50:40$/m);
  assert.match(plan.notes.join('\n'), /rules\[2\] shapes upload only: .*connmark/);
  // With the connmark action the category reaches the ifb as the skb mark.
  const withConnmark = planApply(cfg({ rules: [{ class: 'video', category: 'video' }] }), caps(['htb', 'ifb', 'dscp', 'connmark']), FRESH, { throttleActive: false });
  assert.match(withConnmark.tcBatch, /action connmark pipe action mirred/);
  assert.match(withConnmark.tcBatch, /u32 match mark 0x02000000 0xff000000 flowid 4e50:20$/m);
});

test('planApply marks DSCP per class for the next hop, v4 and v6', () => {
  const plan = planApply(cfg(), caps(), FRESH, { throttleActive: false });
  assert.match(plan.nftScript, /^ {4}meta priority 4e50:10 ip dscp set 46\n {4}meta priority 4e50:10 ip6 dscp set 46$/m);
  assert.doesNotMatch(plan.nftScript, /meta priority 4e50:30 ip dscp set/, 'web has no mark');
  assert.match(planApply(cfg(), caps(['htb', 'ifb']), FRESH, { throttleActive: false }).notes.join('\n'), /no DSCP marking/);
});

test('planApply polices a host both ways and a class on upload with nft limit … drop', () => {
  const plan = planApply(cfg({ policers: [{ target: { host: '192.168.1.7' }, rate_kbit: 8000, burst_kbyte: 64 }, { target: { class: 'file' }, rate_kbit: 1000, burst_kbyte: 16 }] }), caps(), FRESH, { throttleActive: false });
  assert.match(plan.nftScript, /^ {4}oifname "eth0" ip saddr 192\.168\.1\.7 limit rate over 1000000 bytes\/second burst 65536 bytes drop$/m);
  assert.match(plan.nftScript, /^ {4}oifname "eth0" meta priority 4e50:40 limit rate over 125000 bytes\/second burst 16384 bytes drop$/m);
  assert.match(plan.nftScript, /chain np_police_in \{\n {4}type filter hook prerouting priority -90; policy accept;\n {4}iifname "eth0" ip daddr 192\.168\.1\.7 limit rate over 1000000 bytes\/second/);
});

test('planApply with the fallback throttle in force caps the chosen class, or polices the chosen host', () => {
  const base = cfg({ fallback_throttle: { enabled: true, target: { class: 'background' }, rate_kbit: 500 } });
  const off = planApply(base, caps(), FRESH, { throttleActive: false });
  const on = planApply(base, caps(), FRESH, { throttleActive: true });
  assert.deepEqual(off.classes[4]!.upload, { rate_kbit: 2000, ceil_kbit: 20000 });
  assert.deepEqual(on.classes[4]!.upload, { rate_kbit: 500, ceil_kbit: 500 });
  assert.deepEqual(on.classes[4]!.download, { rate_kbit: 500, ceil_kbit: 500 });
  const host = planApply(cfg({ fallback_throttle: { enabled: true, target: { host: '192.168.1.9' }, rate_kbit: 800 } }), caps(), FRESH, { throttleActive: true });
  assert.match(host.nftScript, /ip saddr 192\.168\.1\.9 limit rate over 100000 bytes\/second/);
  assert.match(host.nftScript, /ip daddr 192\.168\.1\.9 limit rate over 100000 bytes\/second/);
});

test('planRemove deletes only what Net-Pulse owns', () => {
  assert.deepEqual(planRemove('eth0', { rootOurs: true, ingressOurs: true, ifbExists: true, tableExists: true }), {
    ipBatch: 'link del npifb-eth0\n',
    tcBatch: 'qdisc del dev eth0 root\nqdisc del dev eth0 ingress\n',
    nftScript: 'table inet netpulse_qos\ndelete table inet netpulse_qos\n',
  });
  assert.deepEqual(planRemove('eth0', { rootOurs: false, ingressOurs: false, ifbExists: false, tableExists: false }), { ipBatch: '', tcBatch: '', nftScript: '' });
});

test('ifbName keeps the kernel limit of 15 characters; quantumBytes stays within HTB’s range', () => {
  assert.equal(ifbName('enp0s31f6'), 'npifb-enp0s31f6');
  assert.equal(ifbName('wlp0s20f3longer'), 'npifb-wlp0s20f3');
  assert.equal(quantumBytes(64), 1514);
  assert.equal(quantumBytes(1_000_000), 200_000);
});

test('validateQosConfig names the first problem with a stable code', () => {
  const code = (c: QosConfig, speed: number | null = null) => {
    try {
      validateQosConfig(c, speed);
      return null;
    } catch (err) {
      assert.ok(err instanceof QosConfigError);
      return err.code;
    }
  };
  assert.equal(code(cfg()), null);
  assert.equal(code(cfg(), 10), 'QOS_RATE_ABOVE_LINK');
  assert.equal(code(cfg({ upload_kbit: 20 })), 'QOS_RATE_OUT_OF_RANGE');
  assert.equal(code(cfg({ classes: cfg().classes.map((c) => ({ ...c, share_percent: 30 })) })), 'QOS_SHARES_OVER_100');
  assert.equal(code(cfg({ classes: cfg().classes.map((c, i) => (i === 0 ? { ...c, ceil_percent: 5 } : c)) })), 'QOS_INVALID_SHARE');
  assert.equal(code(cfg({ classes: cfg().classes.slice(1) })), 'QOS_INVALID_CLASSES');
  assert.equal(code(cfg({ rules: [{ class: 'gaming', dscp: 'ef' }] })), 'QOS_UNKNOWN_CLASS');
  assert.equal(code(cfg({ rules: [{ class: 'voice', dscp: 'ef2' }] })), 'QOS_INVALID_DSCP');
  assert.equal(code(cfg({ rules: [{ class: 'voice' }] })), 'QOS_INVALID_RULE');
  assert.equal(code(cfg({ rules: [{ class: 'voice', hosts: ['10.0.0.300'] }] })), 'QOS_INVALID_HOST');
  assert.equal(code(cfg({ default_class: 'nope' })), 'QOS_UNKNOWN_CLASS');
  assert.equal(code(cfg({ fallback_throttle: { enabled: true, target: { class: 'background' }, rate_kbit: 30_000 } })), 'QOS_RATE_OUT_OF_RANGE');
});
