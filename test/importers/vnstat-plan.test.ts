import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localToInstant, planVnstatImport, type VnstatInterface, type VnstatRow } from '../../src/importers/vnstat.js';
import { migrate, openDatabase } from '../../src/storage/db.js';
import { MIGRATIONS } from '../../src/storage/migrations/index.js';
import type { ImportPiece } from '../../src/storage/import-repo.js';

const T = (s: string) => localToInstant(s, 'UTC');
const row = (level: VnstatRow['level'], start: string, end: string, rx: bigint, tx = 0n): VnstatRow => ({ level, startSec: T(start), endSec: T(end), rxBytes: rx, txBytes: tx });
const sum = (pieces: ImportPiece[], tier: string) => pieces.filter((p) => p.tier === tier).reduce((s, p) => s + p.counters.rxBytes, 0n);

test('localToInstant reads vnStat local dates in the zone given', () => {
  assert.equal(localToInstant('2026-03-01', 'UTC'), Date.UTC(2026, 2, 1) / 1000);
  assert.equal(localToInstant('2026-03-01 10:05:00', 'UTC'), Date.UTC(2026, 2, 1, 10, 5) / 1000);
  assert.equal(localToInstant('2026-07-01 10:00:00', 'Europe/Berlin'), Date.UTC(2026, 6, 1, 8) / 1000);
  assert.equal(localToInstant('2026-03-15', 'Asia/Kolkata'), Date.UTC(2026, 2, 14, 18, 30) / 1000);
});

test('planVnstatImport spreads the rest of a month beyond the days vnStat still lists over the days before them', () => {
  const iface: VnstatInterface = {
    name: 'eth0',
    updatedSec: T('2026-04-10'),
    rows: [
      row('year', '2026-01-01', '2027-01-01', 1_000n),
      row('month', '2026-03-01', '2026-04-01', 700n),
      row('day', '2026-03-30', '2026-03-31', 100n),
      row('day', '2026-03-31', '2026-04-01', 200n),
    ],
  };
  const plan = planVnstatImport(iface, 'wan0', T('2026-04-20'));
  // The year's data ends at vnStat's last update: its rest (1000 - 700) covers 2026-01-01 .. 2026-03-01 and 2026-04-01 .. 04-10.
  assert.equal(sum(plan.pieces, 'traffic_1d'), 1_000n);
  assert.equal(sum(plan.pieces, 'traffic_1h'), 0n, 'days, months and years go to the day tier only');
  const march = plan.pieces.filter((p) => p.startSec >= T('2026-03-01') && p.endSec <= T('2026-03-30'));
  assert.equal(march.reduce((s, p) => s + p.counters.rxBytes, 0n), 400n, 'the month minus its two listed days, over the 29 days before them');
  assert.ok(plan.pieces.every((p) => p.endSec <= iface.updatedSec && p.interfaceName === 'wan0'));
});

test('planVnstatImport takes only finer rows of a row that reaches past the cut', () => {
  const iface: VnstatInterface = {
    name: 'eth0',
    updatedSec: T('2026-04-10 12:20:00'),
    rows: [
      row('day', '2026-04-10', '2026-04-11', 9_000n),
      row('hour', '2026-04-10 10:00:00', '2026-04-10 11:00:00', 3_000n),
      row('hour', '2026-04-10 12:00:00', '2026-04-10 13:00:00', 5_000n),
      row('fiveminute', '2026-04-10 12:00:00', '2026-04-10 12:05:00', 1_000n),
      row('fiveminute', '2026-04-10 12:05:00', '2026-04-10 12:10:00', 2_000n),
      row('fiveminute', '2026-04-10 12:10:00', '2026-04-10 12:15:00', 1_500n),
    ],
  };
  const plan = planVnstatImport(iface, 'eth0', T('2026-04-10 12:10:00'));
  // 10:00 hour (3000) + the two 5-minute rows before 12:10 (3000); the 12:00 hour and the day reach past the cut.
  assert.equal(sum(plan.pieces, 'traffic_1d'), 6_000n);
  assert.equal(sum(plan.pieces, 'traffic_1h'), 6_000n);
  assert.equal(sum(plan.pieces, 'traffic_1m'), 3_000n);
  assert.ok(plan.pieces.every((p) => p.endSec <= T('2026-04-10 12:10:00')));
  assert.equal(plan.skippedRows, 3);
});

test('migrate applies a migration with a lower version that arrived after a higher one', () => {
  const db = openDatabase(':memory:');
  const top = MIGRATIONS.at(-1)!.version;
  const high = { version: top + 2, name: 'high', sql: 'CREATE TABLE high_one (x INTEGER);' };
  assert.equal(migrate(db, [...MIGRATIONS, high]), 1);
  const late = { version: top + 1, name: 'late', sql: 'CREATE TABLE late_one (x INTEGER);' };
  const list = [...MIGRATIONS, late, high];
  assert.equal(migrate(db, list), 1);
  assert.equal(migrate(db, list), 0);
  assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'late_one'").get());
  db.close();
});
