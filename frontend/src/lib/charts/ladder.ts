/**
 * The two slider ladders — "Time Window" (1 hour … 1 year) and "Grouping" (1 minute … 1 day) — and the
 * rule that keeps the chart readable: a grouping is offered for a window only when it yields between
 * MIN_CHART_POINTS and MAX_CHART_POINTS buckets (the server's own cap, 20,000, is far above this).
 */

export interface LadderStep {
  value: number;
  label: string;
  /** Short form for tick marks under a slider. */
  short: string;
}

export const WINDOW_LADDER_HOURS: readonly LadderStep[] = [
  { value: 1, label: '1 hour', short: '1h' },
  { value: 3, label: '3 hours', short: '3h' },
  { value: 6, label: '6 hours', short: '6h' },
  { value: 12, label: '12 hours', short: '12h' },
  { value: 24, label: '24 hours', short: '24h' },
  { value: 48, label: '2 days', short: '2d' },
  { value: 72, label: '3 days', short: '3d' },
  { value: 168, label: '7 days', short: '7d' },
  { value: 336, label: '14 days', short: '14d' },
  { value: 720, label: '30 days', short: '30d' },
  { value: 2160, label: '90 days', short: '90d' },
  { value: 4320, label: '180 days', short: '180d' },
  { value: 8760, label: '1 year', short: '1y' },
];

export const GROUPING_LADDER_MINUTES: readonly LadderStep[] = [
  { value: 1, label: '1 minute', short: '1m' },
  { value: 5, label: '5 minutes', short: '5m' },
  { value: 15, label: '15 minutes', short: '15m' },
  { value: 30, label: '30 minutes', short: '30m' },
  { value: 60, label: '1 hour', short: '1h' },
  { value: 180, label: '3 hours', short: '3h' },
  { value: 360, label: '6 hours', short: '6h' },
  { value: 720, label: '12 hours', short: '12h' },
  { value: 1440, label: '1 day', short: '1d' },
];

export const MAX_CHART_POINTS = 1500;
export const MIN_CHART_POINTS = 2;
/** The point count a freshly picked grouping aims for: detailed, but far from the cap. */
export const TARGET_CHART_POINTS = 300;

export const DEFAULT_WINDOW_HOURS = 24;
export const DEFAULT_GROUP_MINUTES = 5;

/**
 * What the server has told us about minute-level retention: windows of at least `fromWindowHours`
 * need hourly (or coarser) groups. Learnt from a GROUPING_NOT_AVAILABLE answer.
 */
export interface GroupingLimit {
  fromWindowHours: number;
  minGroupMinutes: number;
}

export function bucketCount(windowHours: number, groupMinutes: number): number {
  return (windowHours * 60) / groupMinutes;
}

/** The groupings the slider offers for a window, smallest first; never empty. */
export function allowedGroupings(windowHours: number, limit: GroupingLimit | null = null): LadderStep[] {
  const allowed = GROUPING_LADDER_MINUTES.filter((step) => {
    const points = bucketCount(windowHours, step.value);
    if (points > MAX_CHART_POINTS || points < MIN_CHART_POINTS) return false;
    if (limit && windowHours >= limit.fromWindowHours && step.value < limit.minGroupMinutes) return false;
    return true;
  });
  if (allowed.length > 0) return allowed;
  return [GROUPING_LADDER_MINUTES[GROUPING_LADDER_MINUTES.length - 1]!];
}

/**
 * The grouping to use after the window changed: the current one if it is still offered, otherwise the
 * offered one whose point count is nearest (on a log scale) to TARGET_CHART_POINTS.
 */
export function fitGrouping(windowHours: number, currentGroupMinutes: number, limit: GroupingLimit | null = null): number {
  const allowed = allowedGroupings(windowHours, limit);
  if (allowed.some((step) => step.value === currentGroupMinutes)) return currentGroupMinutes;
  let best = allowed[0]!;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const step of allowed) {
    const distance = Math.abs(Math.log(bucketCount(windowHours, step.value) / TARGET_CHART_POINTS));
    if (distance < bestDistance) {
      best = step;
      bestDistance = distance;
    }
  }
  return best.value;
}

/** The ladder step with this value, or the nearest one below it (or the first). */
export function indexOfStep(ladder: readonly LadderStep[], value: number): number {
  let index = 0;
  ladder.forEach((step, i) => {
    if (step.value <= value) index = i;
  });
  return index;
}

/** Whether a value is on the ladder (e.g. a window read back from localStorage). */
export function isOnLadder(ladder: readonly LadderStep[], value: number): boolean {
  return ladder.some((step) => step.value === value);
}

/**
 * What a GROUPING_NOT_AVAILABLE answer teaches: groupings under an hour (or the coarser one the message
 * names, "use a multiple of 60") are refused for windows longer than the minute tier reaches ("a window
 * of at most 720 hours"; without that phrase, for windows as long as the refused one). The result
 * always excludes the refused grouping, so fitting again cannot ask for it twice.
 */
export function groupingLimitFromMessage(message: string, refusedWindowHours: number, refusedGroupMinutes: number): GroupingLimit {
  const named = /(?:multiple of|e\.g\.|at least)\s*(\d+)/i.exec(message);
  const namedMinutes = named ? Number(named[1]) : 0;
  const reach = /at most\s*(\d+)\s*hours?/i.exec(message);
  const reachHours = reach ? Number(reach[1]) : Number.NaN;
  return {
    fromWindowHours: Number.isFinite(reachHours) && reachHours < refusedWindowHours ? reachHours + 1e-9 : refusedWindowHours,
    minGroupMinutes: Math.max(60, namedMinutes, refusedGroupMinutes + 1),
  };
}

/** Two limits in force at once: the stricter of each. */
export function mergeGroupingLimits(a: GroupingLimit | null, b: GroupingLimit): GroupingLimit {
  if (a === null) return b;
  return { fromWindowHours: Math.min(a.fromWindowHours, b.fromWindowHours), minGroupMinutes: Math.max(a.minGroupMinutes, b.minGroupMinutes) };
}
