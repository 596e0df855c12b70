import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CounterReading, RawCounters } from '../../src/collector/counter-source.js';
import { MAX_STORED_DELTA, TWO_POW_32, TWO_POW_64, computeDeltas, isZeroDelta, stateFromReading, type CounterState } from '../../src/collector/deltas.js';

function counters(partial: Partial<RawCounters> = {}): RawCounters {
  return { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n, ...partial };
}

function reading(timeMs: number, ifaces: { name: string; ifindex?: number | null; c: Partial<RawCounters> }[], bootId: string | null = 'boot-a'): CounterReading {
  return { timeMs, bootId, interfaces: ifaces.map((i) => ({ name: i.name, ifindex: i.ifindex ?? 2, counters: counters(i.c) })), failures: [] };
}

const T0 = 1_700_000_000_000;

function state(r: CounterReading): CounterState {
  return stateFromReading(r);
}

test('computeDeltas treats the first reading as a baseline', () => {
  const r = computeDeltas(null, reading(T0, [{ name: 'eth0', c: { rxBytes: 5000n } }]));
  assert.equal(r.baseline, true);
  assert.deepEqual(r.deltas, []);
  assert.equal(r.next.interfaces.get('eth0')?.counters.rxBytes, 5000n);
});

test('computeDeltas subtracts counters above 2^53 exactly', () => {
  const big = (1n << 60n) + 1n;
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: big, txBytes: big } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: big + 123_456_789n, txBytes: big + 7n } }]));
  assert.equal(r.deltas[0]?.counters.rxBytes, 123_456_789n);
  assert.equal(r.deltas[0]?.counters.txBytes, 7n);
  assert.equal(r.deltas[0]?.reason, 'counted');
});

test('computeDeltas reads a smaller 32-bit counter as a wrap when the wrapped delta is plausible', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: TWO_POW_32 - 1000n, rxPackets: 10n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 500n, rxPackets: 12n } }]), { speedMbps: () => 1000 });
  assert.equal(r.deltas[0]?.counters.rxBytes, 1500n);
  assert.equal(r.deltas[0]?.reason, 'wrap32');
});

test('computeDeltas reads a counter near 2^64 that comes back small as a 64-bit wrap', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: TWO_POW_64 - 100n, rxPackets: TWO_POW_32 + 5n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 50n, rxPackets: TWO_POW_32 + 6n } }]));
  assert.equal(r.deltas[0]?.counters.rxBytes, 150n);
  assert.equal(r.deltas[0]?.reason, 'wrap64');
});

test('computeDeltas treats a smaller counter as a reset when no wrap is plausible', () => {
  // 5 GB before, 1 KB now, one second apart on a 1 Gbit/s link: neither wrap fits, so it restarted from zero.
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 5_000_000_000n, rxPackets: 4_000_000n, txBytes: 9n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 1024n, rxPackets: 4_000_010n, txBytes: 2n } }]), { speedMbps: () => 1000 });
  assert.equal(r.deltas[0]?.reason, 'reset');
  assert.equal(r.deltas[0]?.counters.rxBytes, 1024n);
  assert.equal(r.deltas[0]?.counters.txBytes, 2n);
  // Every counter on its own: the packets that went on counting are counted as growth, not from zero.
  assert.equal(r.deltas[0]?.counters.rxPackets, 10n);
});

test('computeDeltas takes the wrap width per counter: a 32-bit tx wrap next to a 64-bit rx counter (issue #8)', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: TWO_POW_64 - 1n - 99_000n, txBytes: 4_294_966_996n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: TWO_POW_64 - 1n, txBytes: 0n } }]));
  assert.equal(r.deltas[0]?.reason, 'wrap32');
  assert.equal(r.deltas[0]?.counters.rxBytes, 99_000n);
  assert.equal(r.deltas[0]?.counters.txBytes, 300n);
  const r2 = computeDeltas(r.next, reading(T0 + 2000, [{ name: 'eth0', c: { rxBytes: 123_456n, txBytes: 4_321n } }]));
  assert.equal(r2.deltas[0]?.reason, 'wrap64');
  assert.equal(r2.deltas[0]?.counters.rxBytes, 123_457n);
  assert.equal(r2.deltas[0]?.counters.txBytes, 4_321n);
});

test('computeDeltas baselines a reset to values the link could not have carried, counting nothing', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 5_000_000_000n, txBytes: 7_000n } }]));
  const huge = TWO_POW_64 - 1000n;
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 100n, txBytes: huge } }]), { speedMbps: () => 1000 });
  assert.equal(r.deltas[0]?.reason, 'implausible');
  assert.equal(isZeroDelta(r.deltas[0]!.counters), true);
  assert.equal(r.deltas[0]?.rejected?.field, 'txBytes');
  assert.equal(r.deltas[0]?.rejected?.current.txBytes, huge);
  // The new reading is the baseline: the next poll counts from it.
  const r2 = computeDeltas(r.next, reading(T0 + 2000, [{ name: 'eth0', c: { rxBytes: 600n, txBytes: huge + 10n } }]), { speedMbps: () => 1000 });
  assert.deepEqual([r2.deltas[0]?.reason, r2.deltas[0]?.counters.rxBytes, r2.deltas[0]?.counters.txBytes], ['counted', 500n, 10n]);
});

test('computeDeltas baselines an interface that appears with counters too big for the time since the last reading', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 10n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 10n } }, { name: 'veth1', ifindex: 9, c: { rxBytes: 1n << 62n } }]));
  assert.equal(r.deltas.find((d) => d.name === 'veth1')?.reason, 'implausible');
  assert.equal(r.deltas.find((d) => d.name === 'veth1')?.rejected?.previous, null);
});

test('computeDeltas judges plausibility by the monotonic time when the wall clock stepped', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 0n } }]));
  // 2 GB, with the wall clock one hour back but 10 s really elapsed on a 1 Gbit/s link (2.5 GB possible).
  const r = computeDeltas(prev, reading(T0 - 3_600_000, [{ name: 'eth0', c: { rxBytes: 2_000_000_000n } }]), { speedMbps: () => 1000, monotonicElapsedMs: 10_000 });
  assert.equal(r.deltas[0]?.counters.rxBytes, 2_000_000_000n);
  assert.equal(r.clockWentBack, true);
});

test('computeDeltas never yields a delta of 2^63 or more, whatever the elapsed time', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 0n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 1n << 63n } }]), { monotonicElapsedMs: 1e15 });
  assert.equal(r.deltas[0]?.reason, 'implausible');
  assert.ok(r.deltas[0]!.counters.rxBytes <= MAX_STORED_DELTA);
});

test('computeDeltas treats bytes and packets going down together as a reset, not a pair of wraps', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 4_000_000_000n, rxPackets: 3_000_000n } }]));
  const r = computeDeltas(prev, reading(T0 + 30_000, [{ name: 'eth0', c: { rxBytes: 900n, rxPackets: 3n } }]));
  assert.equal(r.deltas[0]?.reason, 'reset');
  assert.equal(r.deltas[0]?.counters.rxBytes, 900n);
  assert.equal(r.deltas[0]?.counters.rxPackets, 3n);
});

test('computeDeltas counts an interface that appeared since the previous reading from zero', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 10n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 10n } }, { name: 'veth1', ifindex: 9, c: { rxBytes: 777n, txBytes: 3n } }]));
  const v = r.deltas.find((d) => d.name === 'veth1');
  assert.equal(v?.reason, 'appeared');
  assert.equal(v?.counters.rxBytes, 777n);
  assert.equal(v?.startMs, T0);
});

test('computeDeltas counts an interface whose ifindex changed from zero', () => {
  const prev = state(reading(T0, [{ name: 'veth1', ifindex: 9, c: { rxBytes: 10_000n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'veth1', ifindex: 12, c: { rxBytes: 20_000n } }]));
  assert.equal(r.deltas[0]?.reason, 'recreated');
  assert.equal(r.deltas[0]?.counters.rxBytes, 20_000n);
});

test('computeDeltas counts everything from zero after a reboot, starting at boot time', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 9_000_000n } }], 'boot-a'));
  const bootTimeMs = T0 + 3_600_000;
  const r = computeDeltas(prev, reading(T0 + 7_200_000, [{ name: 'eth0', c: { rxBytes: 4_000n } }], 'boot-b'), { bootTimeMs });
  assert.equal(r.baseline, false);
  assert.equal(r.deltas[0]?.reason, 'rebooted');
  assert.equal(r.deltas[0]?.counters.rxBytes, 4_000n);
  assert.equal(r.deltas[0]?.startMs, bootTimeMs);
});

test('computeDeltas spans the whole gap after a restart on the same boot', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 1_000n } }]));
  const later = T0 + 3 * 3_600_000;
  const r = computeDeltas(prev, reading(later, [{ name: 'eth0', c: { rxBytes: 51_000n } }]));
  assert.equal(r.deltas[0]?.counters.rxBytes, 50_000n);
  assert.equal(r.deltas[0]?.startMs, T0);
  assert.equal(r.deltas[0]?.endMs, later);
});

test('computeDeltas keeps the bytes but gives no duration when the clock went back', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 1_000n } }]));
  const r = computeDeltas(prev, reading(T0 - 60_000, [{ name: 'eth0', c: { rxBytes: 3_000n } }]));
  assert.equal(r.clockWentBack, true);
  assert.equal(r.deltas[0]?.counters.rxBytes, 2_000n);
  assert.equal(r.deltas[0]?.startMs, r.deltas[0]?.endMs);
});

test('computeDeltas counts nothing of growth far above the link speed: a glitch, baselined', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 0n } }]));
  // 10 GB in one second on a 100 Mbit/s link (credited with at least 1 Gbit/s × 2).
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 10_000_000_000n } }]), { speedMbps: () => 100 });
  assert.equal(r.deltas[0]?.reason, 'implausible');
  assert.equal(r.deltas[0]?.counters.rxBytes, 0n);
  assert.equal(r.deltas[0]?.rejected?.limit, 250_000_000n);
});

test('computeDeltas flags bytes above the link speed but within twice it as suspect and keeps them', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 0n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 200_000_000n } }]), { speedMbps: () => 1000 });
  assert.equal(r.deltas[0]?.suspect, true);
  assert.equal(r.deltas[0]?.counters.rxBytes, 200_000_000n);
});

test('computeDeltas keeps the previous state of an interface whose read failed', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 100n } }, { name: 'wlan0', c: { rxBytes: 5_000n } }]));
  const failed: CounterReading = { ...reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 200n } }]), failures: [{ name: 'wlan0', error: 'EINVAL' }] };
  const r1 = computeDeltas(prev, failed);
  assert.equal(r1.next.interfaces.get('wlan0')?.counters.rxBytes, 5_000n);
  // Next time it reads again it is compared with what was last seen, not counted from zero.
  const r2 = computeDeltas(r1.next, reading(T0 + 2000, [{ name: 'eth0', c: { rxBytes: 300n } }, { name: 'wlan0', c: { rxBytes: 5_500n } }]));
  assert.equal(r2.deltas.find((d) => d.name === 'wlan0')?.counters.rxBytes, 500n);
  assert.equal(r2.deltas.find((d) => d.name === 'wlan0')?.reason, 'counted');
});

test('computeDeltas sets a baseline when the previous boot id was unknown', () => {
  const prev = state(reading(T0, [{ name: 'eth0', c: { rxBytes: 100n } }], null));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'eth0', c: { rxBytes: 200n } }], 'boot-a'));
  assert.equal(r.baseline, true);
});

test('computeDeltas counts nothing for counters that are the same object and carries the state over', () => {
  const first = reading(T0, [{ name: 'eth0', c: { rxBytes: 5000n } }, { name: 'eth1', c: { rxBytes: 7n } }]);
  const prev = state(first);
  // A source that read the same line again returns the same counters object.
  const again: CounterReading = { ...first, timeMs: T0 + 1000, interfaces: [first.interfaces[0]!, { ...first.interfaces[1]!, counters: counters({ rxBytes: 9n }) }] };
  const r = computeDeltas(prev, again, { speedMbps: () => 1000 });
  assert.deepEqual(r.deltas[0]?.counters, counters());
  assert.equal(r.deltas[0]?.reason, 'counted');
  assert.equal(r.deltas[0]?.suspect, false);
  assert.equal(isZeroDelta(r.deltas[0]!.counters), true);
  assert.equal(r.next.interfaces.get('eth0'), prev.interfaces.get('eth0'), 'unchanged: the same state object');
  assert.deepEqual(r.deltas[1]?.counters, counters({ rxBytes: 2n }));
  assert.notEqual(r.next.interfaces.get('eth1'), prev.interfaces.get('eth1'));
});

test('computeDeltas counts an interface re-created with the same counters object from zero', () => {
  const first = reading(T0, [{ name: 'eth0', ifindex: 2, c: { rxBytes: 5000n } }]);
  const again: CounterReading = { ...first, timeMs: T0 + 1000, interfaces: [{ ...first.interfaces[0]!, ifindex: 9 }] };
  const r = computeDeltas(state(first), again);
  assert.equal(r.deltas[0]?.reason, 'recreated');
  assert.equal(r.deltas[0]?.counters.rxBytes, 5000n);
  assert.equal(r.next.interfaces.get('eth0')?.ifindex, 9);
});

test('computeDeltas accepts a fractional link speed (systeminformation reports Wi-Fi as 866.7 Mbit/s)', () => {
  const prev = state(reading(T0, [{ name: 'wlan0', c: { rxBytes: 0n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'wlan0', c: { rxBytes: 100_000_000n } }]), { speedMbps: () => 866.7 });
  assert.equal(r.deltas[0]?.counters.rxBytes, 100_000_000n);
  assert.equal(r.deltas[0]?.suspect, false);
  const fast = computeDeltas(prev, reading(T0 + 1000, [{ name: 'wlan0', c: { rxBytes: 200_000_000n } }]), { speedMbps: () => 866.7 });
  assert.equal(fast.deltas[0]?.suspect, true);
});

test('computeDeltas carries a renamed interface (same ifindex, new name) on from the old name\'s last reading', () => {
  const prev = state(reading(T0, [{ name: 'eth1', ifindex: 7, c: { rxBytes: 9_000_000n, txBytes: 100n } }]));
  const r = computeDeltas(prev, reading(T0 + 1000, [{ name: 'wan0', ifindex: 7, c: { rxBytes: 9_000_500n, txBytes: 130n } }]), { speedMbps: () => 1000 });
  assert.deepEqual([r.deltas[0]?.name, r.deltas[0]?.reason, r.deltas[0]?.counters.rxBytes, r.deltas[0]?.counters.txBytes], ['wan0', 'renamed', 500n, 30n]);
  assert.equal(r.next.interfaces.has('eth1'), false, 'the old name is forgotten: renamed back, it is not compared with stale counters');
});

test('computeDeltas compares an interface back with the same ifindex (moved to another namespace and back) with its last reading', () => {
  const prev = state(reading(T0, [{ name: 'veth0', ifindex: 7, c: { rxBytes: 2_000_000n } }]));
  const away = computeDeltas(prev, reading(T0 + 1000, []));
  assert.equal(away.next.interfaces.get('veth0')?.seenAtMs, T0);
  const back = computeDeltas(away.next, reading(T0 + 5000, [{ name: 'veth0', ifindex: 7, c: { rxBytes: 2_000_700n } }]));
  assert.deepEqual([back.deltas[0]?.reason, back.deltas[0]?.counters.rxBytes, back.deltas[0]?.startMs], ['counted', 700n, T0]);
});
