/**
 * The QoS service against a fake kernel seam (issue #10): rollback after the deadline unless confirmed,
 * the state written before anything runs (so a crash is repaired or removed at the next start), a failed
 * apply removing what it did, remove on stop, and the fallback throttle. The kernel paths run in
 * test/kernel/qos.test.ts.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { QosApplier } from '../../src/qos/applier.js';
import { CAPABILITY_NAMES, type QosCapabilities, type RemovePlan } from '../../src/qos/planner.js';
import { withDefaults } from '../../src/qos/qos-config.js';
import { QOS_APPLIED_KEY, createQosService, type QosAppliedState, type QosService } from '../../src/qos/qos-service.js';
import { createConfigRepo } from '../../src/storage/config-repo.js';
import { openDatabase } from '../../src/storage/db.js';

/** A machine with eth0 that remembers what the scripts did to it. */
function fakeKernel(options: { failTc?: boolean } = {}) {
  const m = { root: { kind: 'pfifo_fast', handle: '0:' }, ingress: false, ifb: false, table: false, runs: [] as string[] };
  const applier: QosApplier = {
    probe: async () => Object.fromEntries(CAPABILITY_NAMES.map((n) => [n, n === 'htb' || n === 'ifb' || n === 'dscp' ? { available: true, reason: null } : { available: false, reason: 'missing' }])) as QosCapabilities,
    qdiscs: async () => ({ root: { ...m.root }, ingress: m.ingress }),
    linkExists: async (dev) => dev === 'eth0' || (dev === 'npifb-eth0' && m.ifb),
    tableExists: async () => m.table,
    async run(plan: Pick<RemovePlan, 'ipBatch' | 'tcBatch' | 'nftScript'>) {
      m.runs.push(plan.ipBatch + plan.tcBatch + plan.nftScript);
      if (plan.ipBatch.includes('link add')) m.ifb = true;
      if (plan.ipBatch.includes('link del')) m.ifb = false;
      if (plan.tcBatch.includes('qdisc del dev eth0 root')) m.root = { kind: 'pfifo_fast', handle: '0:' };
      if (plan.tcBatch.includes('qdisc del dev eth0 ingress')) m.ingress = false;
      if (options.failTc && plan.tcBatch.includes(' add ')) {
        m.root = { kind: 'htb', handle: '4e50:' };
        throw new Error('tc -batch - failed: Error: Exclusivity flag on, cannot modify.');
      }
      if (plan.tcBatch.includes('root handle 4e50: htb')) m.root = { kind: 'htb', handle: '4e50:' };
      if (plan.tcBatch.includes('ingress\n')) m.ingress = plan.tcBatch.includes('add dev eth0 handle ffff: ingress') || m.ingress;
      if (plan.nftScript.includes('delete table')) m.table = plan.nftScript.includes('chain np_egress');
    },
    classCounters: async () => [],
    close() {},
  };
  return { m, applier };
}

function setUp(t: TestContext, kernel = fakeKernel(), nowMs = { value: 1_000_000 }) {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const configRepo = createConfigRepo(db);
  const signal = { overCap: false, period: '2026-12' };
  const start = () =>
    createQosService({ configRepo, logger: pino({ level: 'silent' }), now: () => nowMs.value, applier: kernel.applier, linkSpeedMbps: () => 1000, throttleSignal: async () => ({ ...signal }) });
  return { configRepo, kernel, nowMs, signal, start };
}

const CONFIG = withDefaults({ interface: 'eth0', upload_kbit: 20_000, download_kbit: 20_000 });

test('an unconfirmed apply is removed when its deadline passes; a confirmed one stays', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const { kernel, start, nowMs } = setUp(t);
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig(CONFIG);
  const applied = (await qos.apply({ confirmWithinSec: 60, dryRun: false })) as QosAppliedState;
  assert.equal(applied.deadline_ms, nowMs.value + 60_000);
  assert.equal(kernel.m.root.handle, '4e50:');
  t.mock.timers.tick(59_000);
  await settle();
  assert.equal(kernel.m.root.handle, '4e50:', 'still there before the deadline');
  t.mock.timers.tick(1_000);
  await settle();
  assert.equal(kernel.m.root.handle, '0:');
  assert.equal(kernel.m.ifb, false);
  assert.equal(qos.applied(), null);

  await qos.apply({ confirmWithinSec: 60, dryRun: false });
  assert.equal(qos.confirm().deadline_ms, null);
  t.mock.timers.tick(120_000);
  await settle();
  assert.equal(kernel.m.root.handle, '4e50:', 'a confirmed tree stays');
});

test('a rollback puts back the confirmed tree the unconfirmed apply replaced', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const { kernel, start } = setUp(t);
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig(CONFIG);
  await qos.apply({ confirmWithinSec: 60, dryRun: false });
  qos.confirm();
  qos.setConfig({ ...CONFIG, upload_kbit: 20 * 1000 - 1000 });
  await qos.apply({ confirmWithinSec: 30, dryRun: false });
  t.mock.timers.tick(30_000);
  await settle();
  assert.equal(qos.applied()!.config.upload_kbit, 20_000);
  assert.equal(qos.applied()!.deadline_ms, null);
  assert.match(kernel.m.runs.at(-1)!, /rate 20000kbit/);
});

test('a dry run returns the exact commands and changes nothing', async (t) => {
  const { kernel, start } = setUp(t);
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig(CONFIG);
  const dry = await qos.apply({ confirmWithinSec: 60, dryRun: true });
  assert.ok('commands' in dry);
  assert.deepEqual(dry.commands.map((c) => c.command), ['ip -batch -', 'tc -batch -', 'nft -f -']);
  assert.deepEqual(kernel.m.runs, []);
  assert.equal(qos.applied(), null);
});

test('a failed apply removes what it did and says why', async (t) => {
  const { kernel, start } = setUp(t, fakeKernel({ failTc: true }));
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig(CONFIG);
  await assert.rejects(qos.apply({ confirmWithinSec: 60, dryRun: false }), (err: Error & { code?: string }) => err.code === 'QOS_APPLY_FAILED' && /Exclusivity/.test(err.message));
  assert.equal(kernel.m.root.handle, '0:');
  assert.equal(kernel.m.ifb, false);
  assert.equal(qos.applied(), null);
});

test('at start a half-applied or unconfirmed tree is removed and a confirmed one re-applied', async (t) => {
  const { kernel, start, configRepo } = setUp(t);
  let qos: QosService = await start();
  qos.setConfig(CONFIG);
  await qos.apply({ confirmWithinSec: 60, dryRun: false });
  // A crash: the service never closes; the state says "applying" as if it died mid-apply.
  configRepo.set(QOS_APPLIED_KEY, { ...qos.applied()!, phase: 'applying' });
  qos = await start();
  assert.equal(kernel.m.root.handle, '0:');
  assert.equal(qos.applied(), null);
  await qos.apply({ confirmWithinSec: 60, dryRun: false });
  qos.confirm();
  kernel.m.root = { kind: 'pfifo_fast', handle: '0:' }; // a reboot took the tree away
  qos = await start();
  assert.equal(kernel.m.root.handle, '4e50:', 'repaired');
  assert.equal(qos.applied()!.deadline_ms, null);
  await qos.close();
  assert.equal(kernel.m.root.handle, '0:', 'stop removes it (keep_on_stop is false)');
});

test('an interface with a root qdisc Net-Pulse did not add is refused', async (t) => {
  const { kernel, start } = setUp(t);
  kernel.m.root = { kind: 'tbf', handle: '8001:' };
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig(CONFIG);
  await assert.rejects(qos.apply({ confirmWithinSec: 60, dryRun: false }), (err: Error & { code?: string }) => err.code === 'QOS_INTERFACE_BUSY');
  assert.deepEqual(kernel.m.runs, []);
});

test('the fallback throttle caps the background class once the projection passes the cap, until the month ends', async (t) => {
  const { kernel, start, signal } = setUp(t);
  const qos = await start();
  t.after(() => qos.close());
  qos.setConfig({ ...CONFIG, fallback_throttle: { enabled: true, target: { class: 'background' }, rate_kbit: 500 } });
  await qos.apply({ confirmWithinSec: 60, dryRun: false });
  qos.confirm();
  assert.equal(qos.applied()!.throttle_active, false);
  signal.overCap = true;
  await qos.checkThrottle();
  assert.equal(qos.applied()!.throttle_active, true);
  assert.match(kernel.m.runs.at(-1)!, /classid 4e50:50 htb rate 500kbit ceil 500kbit/);
  signal.overCap = false; // the projection dips again: the throttle lasts the month
  await qos.checkThrottle();
  assert.equal(qos.applied()!.throttle_active, true);
  signal.period = '2027-01';
  await qos.checkThrottle();
  assert.equal(qos.applied()!.throttle_active, false);
});

async function settle() {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
