import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consecutiveDayStarts, startOfNextZonedDay, startOfZonedDay, zonedDate } from '../../src/shared/zoned-time.js';

const iso = (s: number) => new Date(s * 1000).toISOString();
const at = (y: number, m: number, d: number, h: number, min = 0) => Date.UTC(y, m - 1, d, h, min) / 1000;

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
