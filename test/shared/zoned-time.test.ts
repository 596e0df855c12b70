import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { zoneinfoAt } from '../../src/config/zoneinfo.js';
import { consecutiveDayStarts, startOfNextZonedDay, startOfZonedDay, useZoneRules, zonedDate, zonedParts, zoneOffsetSec, type ZoneRulesSource } from '../../src/shared/zoned-time.js';

const iso = (s: number) => new Date(s * 1000).toISOString();
const at = (y: number, m: number, d: number, h: number, min = 0) => Date.UTC(y, m - 1, d, h, min) / 1000;

// The same calendar arithmetic whichever source gives the rules: Intl (ICU), or the system's zoneinfo files.
const sources: [string, ZoneRulesSource | null][] = [['Intl', null], ['the system zoneinfo files', (name) => zoneinfoAt().rules(name)]];
for (const [label, source] of sources) {
  describe(`zoned time from ${label}`, () => {
    before(() => useZoneRules(source));
    after(() => useZoneRules(null));

    test('startOfZonedDay finds local midnight in a half-hour zone', () => {
      assert.equal(iso(startOfZonedDay(at(2026, 1, 1, 20), 'Asia/Kolkata')), '2026-01-01T18:30:00.000Z');
      assert.equal(zonedDate(at(2026, 1, 1, 20), 'Asia/Kolkata'), '2026-01-02');
    });

    test('a day in New York lasts 23 hours when DST starts and 25 when it ends', () => {
      const spring = startOfZonedDay(at(2026, 3, 8, 12), 'America/New_York');
      assert.equal((startOfNextZonedDay(spring, 'America/New_York') - spring) / 3600, 23);
      const autumn = startOfZonedDay(at(2026, 11, 1, 12), 'America/New_York');
      assert.equal((startOfNextZonedDay(autumn, 'America/New_York') - autumn) / 3600, 25);
    });

    test('a day whose midnight does not exist starts at its first hour', () => {
      // Chile moves its clocks from 00:00 to 01:00 on 2026-09-06.
      const start = startOfZonedDay(at(2026, 9, 6, 12), 'America/Santiago');
      assert.equal(iso(start), '2026-09-06T04:00:00.000Z');
      assert.equal(zonedDate(start, 'America/Santiago'), '2026-09-06');
    });

    test('consecutiveDayStarts steps over DST changes and agrees with startOfNextZonedDay', () => {
      for (const zone of ['America/New_York', 'Asia/Kolkata', 'America/Santiago', 'Australia/Lord_Howe', 'UTC']) {
        const first = startOfZonedDay(at(2026, 1, 1, 12), zone);
        const fast = consecutiveDayStarts(first, 366, zone);
        let slow = first;
        for (let i = 0; i < 366; i++) {
          assert.equal(fast[i], slow, `${zone} day ${i}`);
          slow = startOfNextZonedDay(slow, zone);
        }
      }
    });
  });
}

test('a zone the zoneinfo tree lacks is answered by Intl, and a source is asked once per zone', () => {
  const asked: string[] = [];
  useZoneRules((name) => {
    asked.push(name);
    return null;
  });
  try {
    // No such file: Intl's rules (Kolkata has been +05:30 since 1945).
    assert.equal(zoneOffsetSec(at(2026, 1, 1, 0), 'Asia/Kolkata'), 19800);
    assert.deepEqual(zonedParts(at(2026, 1, 1, 20), 'Asia/Kolkata'), { year: 2026, month: 1, day: 2, hour: 1, minute: 30, second: 0 });
    assert.deepEqual(asked, ['Asia/Kolkata']);
    // UTC needs no source at all.
    assert.equal(zoneOffsetSec(at(2026, 6, 1, 0), 'UTC'), 0);
    assert.deepEqual(asked, ['Asia/Kolkata']);
  } finally {
    useZoneRules(null);
  }
});

test('a source\'s rules are used as given', () => {
  useZoneRules((name) => (name === 'Test/Plus3' ? () => 3 * 3600 : null));
  try {
    assert.equal(zonedDate(at(2026, 1, 1, 22), 'Test/Plus3'), '2026-01-02');
    assert.equal(startOfZonedDay(at(2026, 1, 1, 22), 'Test/Plus3'), at(2026, 1, 1, 21));
  } finally {
    useZoneRules(null);
  }
});
