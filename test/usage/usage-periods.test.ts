import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { InterfaceKind, InterfaceMeta } from '../../src/collector/counter-source.js';
import {
  createUsageService,
  dayNumberOfIso,
  estimateTotal,
  formatBytes,
  isoDateOf,
  kindFromName,
  matchesPattern,
  parseByteSize,
  periodContaining,
  selectTotalInterfaces,
  type UsagePeriod,
} from '../../src/services/usage-service.js';
import { makeStore } from '../helpers/store.js';

const at = (iso: string) => Date.parse(iso) / 1000;
const zero = { rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };

function meta(name: string, kind: InterfaceKind): InterfaceMeta {
  return { name, kind, ifindex: 1, isUp: true, operState: 'up', mtu: 1500, speedMbps: null, mac: null, isVirtual: false, addresses: [], hasDefaultRoute: false };
}

/** A real SQLite store in a zone, a fixed "now", and the usage service over it. */
function world(t: TestContext, timezone: string, nowIso: string, monthStartDay = 1) {
  const store = makeStore(t, { timezone });
  let nowMs = Date.parse(nowIso);
  const usage = createUsageService({
    traffic: store.traffic,
    timezone,
    monthStartDay: () => monthStartDay,
    interfaceFilter: null,
    listInterfaces: async () => [meta('eth0', 'ethernet'), meta('wlan0', 'wireless'), meta('lo', 'loopback'), meta('docker0', 'container')],
    now: () => nowMs,
  });
  const write = (name: string, startIso: string, endIso: string, rxBytes: bigint, txBytes = 0n) =>
    store.traffic.write([{ interfaceName: name, startSec: at(startIso), endSec: at(endIso), counters: { ...zero, rxBytes, txBytes } }]);
  return { store, usage, write, setNow: (iso: string) => (nowMs = Date.parse(iso)) };
}

describe('periods on calendar dates', () => {
  const p = (date: string, period: UsagePeriod, n: number) => {
    const r = periodContaining(dayNumberOfIso(date), period, n);
    return `${isoDateOf(r.start)}..${isoDateOf(r.end)} ${r.label}`;
  };

  test('periodContaining puts a day before the 15th in the billing month that began on the 15th of the month before', () => {
    assert.equal(p('2026-03-14', 'month', 15), '2026-02-15..2026-03-15 2026-02');
    assert.equal(p('2026-03-15', 'month', 15), '2026-03-15..2026-04-15 2026-03');
  });

  test('periodContaining runs a billing month starting on the 15th across the new year', () => {
    assert.equal(p('2026-01-03', 'month', 15), '2025-12-15..2026-01-15 2025-12');
    assert.equal(p('2025-12-31', 'month', 15), '2025-12-15..2026-01-15 2025-12');
  });

  test('periodContaining gives calendar months for a month start day of 1, and calendar years', () => {
    assert.equal(p('2024-02-29', 'month', 1), '2024-02-01..2024-03-01 2024-02');
    assert.equal(p('2026-07-04', 'year', 15), '2026-01-01..2027-01-01 2026');
    assert.equal(p('2026-07-04', 'day', 15), '2026-07-04..2026-07-05 2026-07-04');
  });

  test('periodContaining lets a billing month starting on the 28th include a short February', () => {
    assert.equal(p('2026-03-01', 'month', 28), '2026-02-28..2026-03-28 2026-02');
    assert.equal(p('2026-02-27', 'month', 28), '2026-01-28..2026-02-28 2026-01');
  });
});

describe('estimate maths', () => {
  test('estimateTotal scales what passed so far to the whole period', () => {
    assert.equal(estimateTotal(1_000n, 6 * 3600, 24 * 3600), 4_000n);
    assert.equal(estimateTotal(13_000n, 13 * 3600, 25 * 3600), 25_000n);
  });

  test('estimateTotal gives null in the first hour of a period', () => {
    assert.equal(estimateTotal(5_000n, 3599, 86400), null);
    assert.equal(estimateTotal(5_000n, 3600, 86400), 120_000n);
  });

  test('estimateTotal rounds down and stays exact past 2^53', () => {
    assert.equal(estimateTotal(10n, 3 * 3600, 10 * 3600), 33n);
    assert.equal(estimateTotal(2n ** 60n, 86400, 2 * 86400), 2n ** 61n);
  });
});

describe('the total interfaces', () => {
  const kinds: Record<string, InterfaceKind> = { eth0: 'ethernet', wlan0: 'wireless', lo: 'loopback', docker0: 'container', wg0: 'tunnel', br0: 'bridge', enx1: 'other', veth1a: 'container', bond0: 'virtual' };
  const names = Object.keys(kinds);
  const kindOf = (n: string) => kinds[n]!;

  test('selectTotalInterfaces keeps ethernet, wireless and other kinds by default', () => {
    assert.deepEqual(selectTotalInterfaces(names, kindOf, null), ['enx1', 'eth0', 'wlan0']);
  });

  test('selectTotalInterfaces takes "-" entries away from the default set', () => {
    assert.deepEqual(selectTotalInterfaces(names, kindOf, ['-wlan*']), ['enx1', 'eth0']);
  });

  test('selectTotalInterfaces with plain entries picks by name instead of kind', () => {
    assert.deepEqual(selectTotalInterfaces(names, kindOf, ['eth0', 'wg*']), ['eth0', 'wg0']);
    assert.deepEqual(selectTotalInterfaces(names, kindOf, ['*', '-lo', '-veth*']), ['bond0', 'br0', 'docker0', 'enx1', 'eth0', 'wg0', 'wlan0']);
  });

  test('matchesPattern treats only * as special', () => {
    assert.equal(matchesPattern('eth0.100', 'eth0.*'), true);
    assert.equal(matchesPattern('eth0x100', 'eth0.*'), false);
    assert.equal(matchesPattern('eth0', 'eth'), false);
  });

  test('kindFromName recognises gone interfaces by their names', () => {
    assert.equal(kindFromName('lo'), 'loopback');
    assert.equal(kindFromName('docker0'), 'container');
    assert.equal(kindFromName('wg0'), 'tunnel');
    assert.equal(kindFromName('enp3s0'), 'other');
  });
});

describe('units', () => {
  test('formatBytes writes decimal units by default and binary ones when asked', () => {
    assert.equal(formatBytes(999n, 'decimal'), '999 B');
    assert.equal(formatBytes(1_500_000_000n, 'decimal'), '1.50 GB');
    assert.equal(formatBytes(2n ** 30n, 'binary'), '1.00 GiB');
    assert.equal(formatBytes(2n ** 30n, 'decimal'), '1.07 GB');
  });

  test('parseByteSize reads decimal and binary suffixes exactly', () => {
    assert.equal(parseByteSize('1 TB'), 10n ** 12n);
    assert.equal(parseByteSize('500GB'), 500n * 10n ** 9n);
    assert.equal(parseByteSize('1.5 TiB'), 3n * 2n ** 39n);
    assert.equal(parseByteSize('1000'), 1000n);
    assert.equal(parseByteSize('lots'), null);
    assert.equal(parseByteSize('5 XB'), null);
  });
});

describe('usage rows from the day tier', () => {
  test('a +05:30 zone (Asia/Kolkata) starts its days at 18:30 UTC and splits a span across local midnight', async (t) => {
    const w = world(t, 'Asia/Kolkata', '2026-03-10T06:30:00Z'); // 12:00 local on the 10th
    w.write('eth0', '2026-03-09T18:00:00Z', '2026-03-09T18:20:00Z', 1_000n); // 23:30–23:50 on the 9th
    w.write('eth0', '2026-03-09T18:20:00Z', '2026-03-09T18:40:00Z', 2_000n); // 23:50–00:10: half each
    w.write('eth0', '2026-03-09T18:40:00Z', '2026-03-09T19:00:00Z', 4_000n, 7n); // 00:10–00:30 on the 10th
    const { rows, interfaces } = await w.usage.rows({ period: 'day', interfaceName: null, limit: 5 });
    assert.deepEqual(interfaces, ['eth0']);
    assert.equal(rows.length, 2, 'days before the first stored day are left out');
    assert.equal(rows[0]!.label, '2026-03-10');
    assert.equal(new Date(rows[0]!.startSec * 1000).toISOString(), '2026-03-09T18:30:00.000Z');
    assert.equal(new Date(rows[0]!.endSec * 1000).toISOString(), '2026-03-10T18:30:00.000Z');
    assert.equal(rows[0]!.rxBytes, 5_000n);
    assert.equal(rows[0]!.txBytes, 7n);
    assert.equal(rows[0]!.current, true);
    assert.equal(rows[1]!.label, '2026-03-09');
    assert.equal(rows[1]!.rxBytes, 2_000n);
    assert.equal(rows[1]!.estimate, null);
    // 12 of 24 hours gone: the day's estimate is twice what passed.
    assert.deepEqual(rows[0]!.estimate, { rxBytes: 10_000n, txBytes: 14n });
  });

  test('America/New_York days are 23 hours on the spring DST change and 25 on the autumn one', async (t) => {
    const w = world(t, 'America/New_York', '2026-11-01T17:00:00Z'); // 12:00 EST, after falling back
    for (let h = 0; h < 25; h++) {
      const start = at('2026-11-01T04:00:00Z') + h * 3600; // local midnight (EDT) onwards, 25 hours
      if (start + 3600 > at('2026-11-01T17:00:00Z')) break;
      w.store.traffic.write([{ interfaceName: 'eth0', startSec: start, endSec: start + 3600, counters: { ...zero, rxBytes: 1_000n, txBytes: 0n } }]);
    }
    const today = (await w.usage.rows({ period: 'day', interfaceName: 'eth0', limit: 1 })).rows[0]!;
    assert.equal(today.label, '2026-11-01');
    assert.equal(today.endSec - today.startSec, 25 * 3600);
    assert.equal(today.rxBytes, 13_000n);
    assert.deepEqual(today.estimate, { rxBytes: 25_000n, txBytes: 0n }, '13 of 25 hours gone');

    w.setNow('2026-03-09T12:00:00Z');
    w.write('eth0', '2026-03-08T04:00:00Z', '2026-03-08T05:00:00Z', 9n); // 23:00 EST on the 7th
    w.write('eth0', '2026-03-08T05:00:00Z', '2026-03-08T06:00:00Z', 1n); // 00:00 EST on the 8th
    w.write('eth0', '2026-03-09T03:00:00Z', '2026-03-09T04:00:00Z', 2n); // 23:00 EDT on the 8th
    w.write('eth0', '2026-03-09T04:00:00Z', '2026-03-09T05:00:00Z', 30n); // 00:00 EDT on the 9th
    const days = (await w.usage.rows({ period: 'day', interfaceName: 'eth0', limit: 3 })).rows;
    assert.deepEqual(
      days.map((d) => [d.label, (d.endSec - d.startSec) / 3600, d.rxBytes]),
      [
        ['2026-03-09', 24, 30n],
        ['2026-03-08', 23, 3n],
        ['2026-03-07', 24, 9n],
      ],
    );
  });

  test('billing months starting on the 15th sum their days exactly, with the current one estimated', async (t) => {
    const w = world(t, 'UTC', '2026-03-20T12:00:00Z', 15);
    for (let d = dayNumberOfIso('2026-01-01'); d <= dayNumberOfIso('2026-03-20'); d++) {
      const noon = d * 86400 + 12 * 3600;
      w.store.traffic.write([{ interfaceName: 'eth0', startSec: noon - 3600, endSec: noon, counters: { ...zero, rxBytes: 1_000_000n, txBytes: 1n } }]);
      w.store.traffic.write([{ interfaceName: 'lo', startSec: noon - 3600, endSec: noon, counters: { ...zero, rxBytes: 777n, txBytes: 777n } }]);
    }
    const { rows, interfaces } = await w.usage.rows({ period: 'month', interfaceName: null, limit: 12 });
    assert.deepEqual(interfaces, ['eth0'], 'loopback is not part of the total');
    assert.deepEqual(
      rows.map((r) => [r.label, r.startDate, r.endDate, r.rxBytes / 1_000_000n, r.txBytes]),
      [
        ['2026-03', '2026-03-15', '2026-04-15', 6n, 6n],
        ['2026-02', '2026-02-15', '2026-03-15', 28n, 28n],
        ['2026-01', '2026-01-15', '2026-02-15', 31n, 31n],
        ['2025-12', '2025-12-15', '2026-01-15', 14n, 14n],
      ],
    );
    // 5.5 of 31 days gone.
    assert.deepEqual(rows[0]!.estimate, { rxBytes: (6_000_000n * 31n * 2n) / 11n, txBytes: (6n * 31n * 2n) / 11n });
    const years = (await w.usage.rows({ period: 'year', interfaceName: null, limit: 3 })).rows;
    assert.deepEqual(years.map((r) => [r.label, r.rxBytes]), [['2026', 79_000_000n]]);
  });

  test('summary gives today, yesterday, this and last billing month and all time', async (t) => {
    const w = world(t, 'Asia/Kolkata', '2026-04-16T06:30:00Z', 15);
    w.write('wlan0', '2026-04-01T00:00:00Z', '2026-04-01T01:00:00Z', 100n, 1n);
    w.write('eth0', '2026-04-15T00:00:00Z', '2026-04-15T01:00:00Z', 10n, 2n);
    w.write('eth0', '2026-04-16T00:00:00Z', '2026-04-16T01:00:00Z', 5n, 3n);
    w.write('docker0', '2026-04-16T00:00:00Z', '2026-04-16T01:00:00Z', 1_000n, 1_000n);
    const { interfaces, summary } = await w.usage.summary(null);
    assert.deepEqual(interfaces, ['eth0', 'wlan0']);
    assert.equal(summary.today.rxBytes, 5n);
    assert.equal(summary.yesterday?.rxBytes, 10n);
    assert.equal(summary.thisMonth.label, '2026-04');
    assert.equal(summary.thisMonth.rxBytes, 15n);
    assert.equal(summary.lastMonth?.label, '2026-03');
    assert.equal(summary.lastMonth?.rxBytes, 100n);
    assert.deepEqual(summary.allTime, { rxBytes: 115n, txBytes: 6n, since: '2026-04-01' });
  });

  test('rows on an empty database hold the current period alone, at zero', async (t) => {
    const w = world(t, 'UTC', '2026-05-05T00:30:00Z');
    const { rows } = await w.usage.rows({ period: 'month', interfaceName: null, limit: 12 });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.rxBytes, 0n);
    assert.equal(rows[0]!.current, true);
  });
});
