import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawCounters } from '../../src/collector/counter-source.js';
import type { CounterState } from '../../src/collector/deltas.js';
import { createStateRepo } from '../../src/storage/state-repo.js';
import { makeStore } from '../helpers/store.js';

function counters(rxBytes: bigint): RawCounters {
  return { rxBytes, txBytes: 1n, rxPackets: 2n, txPackets: 3n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 18446744073709551615n };
}

function stateOf(timeMs: number, rows: Record<string, bigint>): CounterState {
  return { timeMs, bootId: 'boot-a', interfaces: new Map(Object.entries(rows).map(([name, rx]) => [name, { ifindex: 2, counters: counters(rx) }])) };
}

type Row = { interface_name: string; rx_bytes: string; tx_drops: string };

function storedRows(db: ReturnType<typeof makeStore>['db']): Record<string, string> {
  const rows = db.prepare('SELECT interface_name, rx_bytes, tx_drops FROM counter_state ORDER BY interface_name').all() as Row[];
  return Object.fromEntries(rows.map((r) => [r.interface_name, r.rx_bytes]));
}

test('StateRepo.save after a committed save writes only the rows that changed and deletes vanished names', (t) => {
  const { db } = makeStore(t);
  const repo = createStateRepo(db);
  const first = stateOf(1000, { eth0: 10n, eth1: 20n, wlan0: 30n });
  db.transaction(() => repo.save(first))();
  repo.markCommitted();
  // Behind the repo's back: a row it knows to be unchanged is not written again.
  db.prepare("UPDATE counter_state SET rx_bytes = 'untouched' WHERE interface_name = 'eth1'").run();
  const second: CounterState = { timeMs: 2000, bootId: 'boot-a', interfaces: new Map([['eth0', { ifindex: 2, counters: counters(11n) }], ['eth1', first.interfaces.get('eth1')!]]) };
  db.transaction(() => repo.save(second))();
  repo.markCommitted();
  assert.deepEqual(storedRows(db), { eth0: '11', eth1: 'untouched' });
  const meta = db.prepare('SELECT time_ms, boot_id FROM collector_state').get();
  assert.deepEqual(meta, { time_ms: 2000, boot_id: 'boot-a' });
});

test('StateRepo.save writes every row again when the previous save was not reported committed (rolled back)', (t) => {
  const { db } = makeStore(t);
  const repo = createStateRepo(db);
  db.transaction(() => repo.save(stateOf(1000, { eth0: 10n, eth1: 20n })))();
  repo.markCommitted();
  const failing = db.transaction((s: CounterState) => {
    repo.save(s);
    throw new Error('disk full');
  });
  const second = stateOf(2000, { eth0: 15n, eth1: 25n, wlan0: 5n });
  assert.throws(() => failing(second), /disk full/);
  assert.deepEqual(storedRows(db), { eth0: '10', eth1: '20' }, 'rolled back');
  // The collector keeps the old state and polls again: eth1 and wlan0 did not move since the failed save.
  const third: CounterState = { timeMs: 3000, bootId: 'boot-a', interfaces: new Map([['eth0', { ifindex: 2, counters: counters(16n) }], ['eth1', second.interfaces.get('eth1')!], ['wlan0', second.interfaces.get('wlan0')!]]) };
  db.transaction(() => repo.save(third))();
  repo.markCommitted();
  assert.deepEqual(storedRows(db), { eth0: '16', eth1: '25', wlan0: '5' });
});

test('StateRepo.load gives back what save wrote, counters up to 2^64-1 exact', (t) => {
  const { db } = makeStore(t);
  const repo = createStateRepo(db);
  assert.equal(repo.load(), null);
  const saved = stateOf(5000, { eth0: 18446744073709551615n, lo: 0n });
  db.transaction(() => repo.save(saved))();
  repo.markCommitted();
  assert.deepEqual(createStateRepo(db).load(), saved);
  // After a load, an unchanged state writes no interface row; a changed one is written.
  const again = createStateRepo(db);
  const loaded = again.load()!;
  db.prepare("UPDATE counter_state SET rx_bytes = 'untouched' WHERE interface_name = 'lo'").run();
  db.transaction(() => again.save({ ...loaded, timeMs: 6000, interfaces: new Map([...loaded.interfaces, ['eth0', { ifindex: 2, counters: counters(1n) }]]) }))();
  assert.deepEqual(storedRows(db), { eth0: '1', lo: 'untouched' });
});
