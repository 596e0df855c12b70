import { describe, expect, it } from 'vitest';
import {
  GROUPING_LADDER_MINUTES,
  MAX_CHART_POINTS,
  WINDOW_LADDER_HOURS,
  allowedGroupings,
  bucketCount,
  fitGrouping,
  indexOfStep,
  groupingLimitFromMessage,
  mergeGroupingLimits,
} from './ladder';

const values = (steps: { value: number }[]): number[] => steps.map((s) => s.value);

describe('ladders', () => {
  it('the window ladder runs from 1 hour to 1 year', () => {
    expect(WINDOW_LADDER_HOURS[0]?.value).toBe(1);
    expect(WINDOW_LADDER_HOURS.at(-1)?.value).toBe(8760);
  });

  it('the grouping ladder runs from 1 minute to 1 day and never offers a partial day above a day', () => {
    expect(GROUPING_LADDER_MINUTES[0]?.value).toBe(1);
    expect(GROUPING_LADDER_MINUTES.at(-1)?.value).toBe(1440);
    expect(GROUPING_LADDER_MINUTES.every((s) => s.value < 1440 || s.value % 1440 === 0)).toBe(true);
  });
});

describe('allowedGroupings', () => {
  it('offers minute groupings for a 1-hour window but not groupings that give one point', () => {
    expect(values(allowedGroupings(1))).toEqual([1, 5, 15, 30]);
  });

  it('drops 1-minute groups for a 2-day window because they exceed the point cap', () => {
    expect(values(allowedGroupings(48))).not.toContain(1);
    expect(values(allowedGroupings(48))).toContain(5);
  });

  it('offers only 6-hour groups and coarser for a year', () => {
    expect(values(allowedGroupings(8760))).toEqual([360, 720, 1440]);
  });

  it('keeps every offered grouping under the point cap for every window', () => {
    for (const window of WINDOW_LADDER_HOURS) {
      for (const group of allowedGroupings(window.value)) {
        expect(bucketCount(window.value, group.value)).toBeLessThanOrEqual(MAX_CHART_POINTS);
      }
    }
  });

  it('honours a learnt minute-retention limit for long windows only', () => {
    const limit = { fromWindowHours: 336, minGroupMinutes: 60 };
    expect(values(allowedGroupings(336, limit))[0]).toBe(60);
    expect(values(allowedGroupings(168, limit))[0]).toBe(15);
  });
});

describe('fitGrouping', () => {
  it('keeps the current grouping when the new window still offers it', () => {
    expect(fitGrouping(24, 15)).toBe(15);
  });

  it('moves to a grouping near 300 points when the current one is too fine', () => {
    expect(fitGrouping(8760, 5)).toBe(1440);
    expect(fitGrouping(720, 1)).toBe(180);
  });

  it('moves to a grouping near 300 points when the current one is too coarse', () => {
    expect(fitGrouping(1, 1440)).toBe(1);
  });
});

describe('indexOfStep', () => {
  it('finds an exact step and rounds an off-ladder value down', () => {
    expect(indexOfStep(WINDOW_LADDER_HOURS, 24)).toBe(4);
    expect(indexOfStep(WINDOW_LADDER_HOURS, 30)).toBe(4);
    expect(indexOfStep(WINDOW_LADDER_HOURS, 0.5)).toBe(0);
  });
});

describe('groupingLimitFromMessage', () => {
  const serverMessage =
    'group_minutes=15 needs minute data, which is kept for 7 days; for a window of 336 hours use a multiple of 60 (e.g. 60) or a window of at most 168 hours';

  it('reads the coarser grouping and the minute tier reach from the server message', () => {
    const limit = groupingLimitFromMessage(serverMessage, 336, 15);
    expect(limit.minGroupMinutes).toBe(60);
    expect(values(allowedGroupings(336, limit))[0]).toBe(60);
    expect(values(allowedGroupings(168, limit))[0]).toBe(15);
  });

  it('applies to windows as long as the refused one when the message names no reach', () => {
    const limit = groupingLimitFromMessage('Not available', 720, 30);
    expect(limit).toEqual({ fromWindowHours: 720, minGroupMinutes: 60 });
  });

  it('always excludes the grouping that was refused', () => {
    const limit = groupingLimitFromMessage('use a multiple of 60', 2160, 180);
    expect(fitGrouping(2160, 180, limit)).not.toBe(180);
  });
});

describe('mergeGroupingLimits', () => {
  it('keeps the stricter side of each limit', () => {
    expect(mergeGroupingLimits({ fromWindowHours: 720, minGroupMinutes: 60 }, { fromWindowHours: 336, minGroupMinutes: 60 })).toEqual({
      fromWindowHours: 336,
      minGroupMinutes: 60,
    });
  });
});
