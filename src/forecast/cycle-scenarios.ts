/**
 * The billing cycle's month-end scenarios from a day source (this instance's day tier, or PostgreSQL):
 * reads the cycle so far plus the 4 weeks before it, and hands the day totals to projectCycle. Imported
 * on first use by the usage and data-cap answers.
 */
import { dayNumberOfIso, dayStartSec, isoDateOf, localDayNumber, type DaySource, type DayTotal } from '../services/usage-service.js';
import { projectCycle, weekAheadSkill, type ScenarioName, type WeekAheadSkill } from './month-end.js';

/** Days before the cycle read: the profiles need 4 weeks, the skill 8 (28 origins + 3 weeks before + 1 after). */
const LOOKBACK_DAYS = 56;

export interface CycleScenario {
  name: ScenarioName;
  label: string;
  projectedBytes: bigint | null;
  /** YYYY-MM-DD on which the cap is reached under this scenario; null: not this cycle, or no cap. */
  capReachedOn: string | null;
  reason: string | null;
}

export async function cycleScenarios(
  source: DaySource,
  opts: { cycleStartDay: number; cycleEndDay: number; timeZone: string; nowSec: number; limitBytes: bigint | null; bytesOf: (d: DayTotal) => bigint },
): Promise<{ scenarios: CycleScenario[]; skill: WeekAheadSkill | null }> {
  const today = localDayNumber(opts.nowSec, opts.timeZone);
  const [rows, oldest] = await Promise.all([source.days(isoDateOf(opts.cycleStartDay - LOOKBACK_DAYS), isoDateOf(today + 1)), source.oldestDay()]);
  const byDay = new Map<number, bigint>();
  for (const r of rows) {
    const n = dayNumberOfIso(r.day);
    byDay.set(n, (byDay.get(n) ?? 0n) + opts.bytesOf(r));
  }
  // Complete days from the first stored one (no data before it, not zero traffic), ending yesterday.
  const first = Math.max(opts.cycleStartDay - LOOKBACK_DAYS, oldest === null ? today : Math.min(today, dayNumberOfIso(oldest)));
  const completeDays: number[] = [];
  for (let d = first; d < today; d++) completeDays.push(Number(byDay.get(d) ?? 0n));
  const todayStart = dayStartSec(today, opts.timeZone);
  const todayLength = dayStartSec(today + 1, opts.timeZone) - todayStart;
  const projection = projectCycle({
    completeDays,
    firstDayNumber: first,
    todayBytes: Number(byDay.get(today) ?? 0n),
    todayFraction: Math.min(1, Math.max(0, (opts.nowSec - todayStart) / todayLength)),
    cycleStartDay: opts.cycleStartDay,
    cycleEndDay: opts.cycleEndDay,
    limitBytes: opts.limitBytes === null ? null : Number(opts.limitBytes),
  });
  const scenarios = projection.scenarios.map((s) => ({
    name: s.name,
    label: s.label,
    projectedBytes: s.projectedBytes === null ? null : BigInt(Math.round(s.projectedBytes)),
    capReachedOn: s.capReachedDay === null ? null : isoDateOf(s.capReachedDay),
    reason: s.reason,
  }));
  return { scenarios, skill: weekAheadSkill(completeDays) };
}
