/**
 * Month-end scenarios for a billing cycle: what was used so far plus the remaining days at three labelled
 * paces, each with the day the cap would be reached. Scenarios, not a confidence interval: with a few months
 * of history no interval for a month's total could be calibrated (research note §5). Pure: day totals in,
 * projections out.
 */

export const SCENARIOS = ['last_7_days_pace', 'typical_week', 'busy_week'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_LABELS: Record<ScenarioName, string> = {
  last_7_days_pace: "at the last 7 days' pace",
  typical_week: 'in a typical week (each weekday as on average over the last 3 weeks)',
  busy_week: 'in a busy week (the busiest of the last 4 weeks)',
};

/** Complete days each scenario needs before it is given. */
export const SCENARIO_MIN_DAYS: Record<ScenarioName, number> = { last_7_days_pace: 7, typical_week: 7, busy_week: 14 };

export interface CycleInput {
  /** Bytes of each complete day, oldest first, ending yesterday (any days before the cycle help the profiles). */
  completeDays: readonly number[];
  /** Day number (days since 1970-01-01, local calendar) of completeDays[0]. */
  firstDayNumber: number;
  /** Bytes so far today, and the part of today that has passed (0..1). */
  todayBytes: number;
  todayFraction: number;
  /** The cycle: [startDay, endDay) as day numbers; today lies inside. */
  cycleStartDay: number;
  cycleEndDay: number;
  /** The cap, if any, in the same bytes. */
  limitBytes?: number | null;
}

export interface Scenario {
  name: ScenarioName;
  label: string;
  /** null when there are fewer complete days than the scenario needs (see reason). */
  projectedBytes: number | null;
  /** Day number on which the cap is reached under this scenario (in the past if already reached); null: not in this cycle, or no cap. */
  capReachedDay: number | null;
  reason: string | null;
}

export interface CycleProjection {
  soFarBytes: number;
  /** vnStat-style linear estimate: so far ÷ elapsed × length. */
  linearBytes: number | null;
  scenarios: Scenario[];
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export const weekdayOf = (dayNumber: number) => (((dayNumber + 3) % 7) + 7) % 7;

/**
 * Bytes each remaining day (today first, then to the cycle's end) gets under a scenario; null without
 * enough history.
 */
export function remainingDays(name: ScenarioName, input: CycleInput): number[] | null {
  const past = input.completeDays;
  const todayIndex = past.length;
  const todayDay = input.firstDayNumber + todayIndex;
  const count = input.cycleEndDay - todayDay;
  if (past.length < SCENARIO_MIN_DAYS[name] || count <= 0) return null;
  if (name === 'last_7_days_pace') {
    const rate = past.slice(-7).reduce((a, b) => a + b, 0) / 7;
    return new Array<number>(count).fill(rate);
  }
  if (name === 'typical_week') {
    return Array.from({ length: count }, (_, j) => {
      // The same weekday 1, 2 and 3 weeks back, each moved back by whole weeks until it is a complete day.
      let index = todayIndex + j;
      while (index >= todayIndex) index -= 7;
      const same = [index, index - 7, index - 14].filter((i) => i >= 0).map((i) => past[i]!);
      return same.reduce((a, b) => a + b, 0) / same.length;
    });
  }
  // busy_week: the busiest of the last (up to) 4 complete weeks, weekday by weekday.
  let bestStart = todayIndex - 7;
  let bestTotal = -Infinity;
  for (let w = 1; w <= 4 && todayIndex - 7 * w >= 0; w++) {
    const start = todayIndex - 7 * w;
    const total = past.slice(start, start + 7).reduce((a, b) => a + b, 0);
    if (total > bestTotal) {
      bestTotal = total;
      bestStart = start;
    }
  }
  return Array.from({ length: count }, (_, j) => past[bestStart + ((((todayIndex + j - bestStart) % 7) + 7) % 7)]!);
}

export function projectCycle(input: CycleInput): CycleProjection {
  const todayIndex = input.completeDays.length;
  const todayDay = input.firstDayNumber + todayIndex;
  const cycleDays: { day: number; bytes: number }[] = [];
  for (let i = Math.max(0, input.cycleStartDay - input.firstDayNumber); i < todayIndex; i++) cycleDays.push({ day: input.firstDayNumber + i, bytes: input.completeDays[i]! });
  const soFar = cycleDays.reduce((a, d) => a + d.bytes, 0) + input.todayBytes;
  const elapsedDays = todayDay - input.cycleStartDay + input.todayFraction;
  const length = input.cycleEndDay - input.cycleStartDay;
  const linear = elapsedDays <= 0 ? null : (soFar / elapsedDays) * length;
  const limit = input.limitBytes ?? null;

  const scenarios = SCENARIOS.map((name): Scenario => {
    const rest = remainingDays(name, input);
    if (rest === null) {
      return { name, label: SCENARIO_LABELS[name], projectedBytes: null, capReachedDay: null, reason: `needs ${SCENARIO_MIN_DAYS[name]} complete days of history, there are ${input.completeDays.length}` };
    }
    // Today keeps what it used and gets the rest of its day's share.
    const todayRest = rest[0]! * Math.max(0, 1 - input.todayFraction);
    const future = [{ day: todayDay, bytes: input.todayBytes + todayRest }, ...rest.slice(1).map((b, j) => ({ day: todayDay + 1 + j, bytes: b }))];
    const projected = cycleDays.reduce((a, d) => a + d.bytes, 0) + future.reduce((a, d) => a + d.bytes, 0);
    let capReachedDay: number | null = null;
    if (limit !== null && limit > 0) {
      let sum = 0;
      for (const d of [...cycleDays, ...future]) {
        sum += d.bytes;
        if (sum >= limit) {
          capReachedDay = d.day;
          break;
        }
      }
    }
    return { name, label: SCENARIO_LABELS[name], projectedBytes: projected, capReachedDay, reason: null };
  });
  return { soFarBytes: soFar, linearBytes: linear, scenarios };
}

export interface WeekAheadSkill {
  /** Mean absolute % error of the next 7 days' total, "typical week" and "last 7 days' pace". */
  typicalWeekErrorPercent: number;
  paceErrorPercent: number;
  /** Past days the projections were made from. */
  origins: number;
}

/**
 * How well the scenarios' paces did on this series' own past: from each of the last (up to) 28 days with 3
 * weeks before it and a complete week after, the next 7 days' total by "typical week" and by the last 7
 * days' pace, against what happened. null with fewer than 3 such days or no traffic.
 */
export function weekAheadSkill(completeDays: readonly number[], maxOrigins = 28): WeekAheadSkill | null {
  const n = completeDays.length;
  let typical = 0;
  let pace = 0;
  let origins = 0;
  for (let o = n - 7; o >= 21 && origins < maxOrigins; o--) {
    const actual = completeDays.slice(o, o + 7).reduce((a, b) => a + b, 0);
    if (actual <= 0) continue;
    const input: CycleInput = { completeDays: completeDays.slice(0, o), firstDayNumber: 0, todayBytes: 0, todayFraction: 0, cycleStartDay: o, cycleEndDay: o + 7 };
    const t = remainingDays('typical_week', input)!.reduce((a, b) => a + b, 0);
    const p = remainingDays('last_7_days_pace', input)!.reduce((a, b) => a + b, 0);
    typical += Math.abs(t - actual) / actual;
    pace += Math.abs(p - actual) / actual;
    origins++;
  }
  if (origins < 3) return null;
  return { typicalWeekErrorPercent: (100 * typical) / origins, paceErrorPercent: (100 * pace) / origins, origins };
}
