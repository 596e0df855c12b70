import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectCycle, weekAheadSkill, weekdayOf, type CycleInput } from '../../src/forecast/month-end.js';

// 2026-03-02 is a Monday.
const MONDAY = Math.round(Date.UTC(2026, 2, 2) / 86_400_000);

function cycleAfter(days: number, history: readonly number[], at: (dayIndex: number) => number, extra: Partial<CycleInput> = {}): CycleInput {
  // history: days before the cycle; the cycle starts on MONDAY and lasts 30 days.
  const first = MONDAY - history.length;
  return {
    completeDays: [...history, ...Array.from({ length: days }, (_, i) => at(i))],
    firstDayNumber: first,
    todayBytes: 0,
    todayFraction: 0,
    cycleStartDay: MONDAY,
    cycleEndDay: MONDAY + 30,
    ...extra,
  };
}

test('weekdayOf counts Monday as 0', () => {
  assert.equal(weekdayOf(MONDAY), 0);
  assert.equal(weekdayOf(MONDAY + 6), 6);
  assert.equal(weekdayOf(0), 3); // 1970-01-01, a Thursday
});

test('constant daily use: every scenario and the linear estimate are exact', () => {
  const p = projectCycle(cycleAfter(10, new Array(21).fill(100), () => 100));
  assert.equal(p.linearBytes, 3000);
  for (const s of p.scenarios) assert.equal(s.projectedBytes, 3000, s.name);
});

test('weekends twice the weekdays: "typical week" is exact at day 5, linear is 21 % low', () => {
  const use = (dayNumber: number) => (weekdayOf(dayNumber) >= 5 ? 2 : 1);
  const history = Array.from({ length: 21 }, (_, i) => use(MONDAY - 21 + i));
  const p = projectCycle(cycleAfter(5, history, (i) => use(MONDAY + i)));
  // 30 days from a Monday: 22 weekdays + 8 weekend days = 38; five weekdays × 6 = 30.
  assert.equal(p.linearBytes, 30);
  assert.equal(p.scenarios.find((s) => s.name === 'typical_week')!.projectedBytes, 38);
  assert.ok(Math.abs(p.scenarios.find((s) => s.name === 'last_7_days_pace')!.projectedBytes! - (5 + 25 * (9 / 7))) < 1e-9);
});

test('"busy week" repeats the busiest of the last 4 weeks and the cap dates follow each scenario', () => {
  const history = Array.from({ length: 28 }, (_, i) => (i >= 7 && i < 14 ? 300 : 100));
  const p = projectCycle({ ...cycleAfter(0, history, () => 0), limitBytes: 2900 });
  const by = Object.fromEntries(p.scenarios.map((s) => [s.name, s]));
  assert.equal(by.busy_week!.projectedBytes, 9000);
  assert.equal(by.typical_week!.projectedBytes, 30 * (500 / 3));
  assert.equal(by.last_7_days_pace!.projectedBytes, 3000);
  // 2900 bytes at 300 a day: reached on the 10th day (index 9); at 100 a day on the 29th.
  assert.equal(by.busy_week!.capReachedDay, MONDAY + 9);
  assert.equal(by.last_7_days_pace!.capReachedDay, MONDAY + 28);
});

test('today so far counts, the rest of today gets its share', () => {
  const p = projectCycle({ ...cycleAfter(3, new Array(14).fill(100), () => 100), todayBytes: 80, todayFraction: 0.5 });
  assert.equal(p.soFarBytes, 380);
  // today: 80 + 50, then 26 days × 100.
  assert.equal(p.scenarios[0]!.projectedBytes, 300 + 130 + 2600);
});

test('a cap already passed is reported on the day it was passed; too little history gives no scenario', () => {
  const p = projectCycle({ ...cycleAfter(3, new Array(7).fill(10), () => 500), limitBytes: 900 });
  const by = Object.fromEntries(p.scenarios.map((s) => [s.name, s]));
  assert.equal(by.last_7_days_pace!.capReachedDay, MONDAY + 1);
  assert.equal(by.busy_week!.projectedBytes, null);
  assert.match(by.busy_week!.reason!, /needs 14 complete days/);
  const none = projectCycle(cycleAfter(2, [], () => 5));
  assert.ok(none.scenarios.every((s) => s.projectedBytes === null));
  assert.equal(none.linearBytes, 150);
});

test('weekAheadSkill: a weekday pattern is exact for "typical week" and measured against the pace; short history gives none', () => {
  const use = (dayNumber: number) => (weekdayOf(dayNumber) >= 5 ? 2 : 1);
  // Day 0 of the array is 1970-01-01 (firstDayNumber 0 inside weekAheadSkill): its weekday pattern lines up.
  const days = Array.from({ length: 56 }, (_, i) => use(i));
  const s = weekAheadSkill(days)!;
  assert.equal(s.typicalWeekErrorPercent, 0);
  assert.equal(s.paceErrorPercent, 0); // every 7-day window has the same total
  const ramp = Array.from({ length: 56 }, (_, i) => 100 + 10 * i);
  const r = weekAheadSkill(ramp)!;
  assert.ok(r.paceErrorPercent < r.typicalWeekErrorPercent, 'a steady rise favours the recent pace');
  assert.equal(weekAheadSkill(days.slice(0, 29)), null);
});
