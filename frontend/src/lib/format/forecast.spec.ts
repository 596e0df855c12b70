import { describe, expect, it } from 'vitest';
import type { ApiForecast } from '$shared/api-types';
import { describeForecast, describeScenarioSkill, describeSkill, forecastRates, scenarioLines } from './forecast';

const available: ApiForecast = {
  available: true,
  method: 'combo',
  history_hours: 900,
  skill: { mae_ratio_vs_same_hour_yesterday: 0.8, mae_ratio_vs_same_hour_last_week: 0.9, origins: 7 },
  data: [
    { timestamp: '2026-03-02T10:00:00.000Z', rx_bytes: 3_600_000, tx_bytes: 360_000, rx_low: 1_800_000, rx_high: 7_200_000, tx_low: 0, tx_high: 720_000 },
    { timestamp: '2026-03-02T11:00:00.000Z', rx_bytes: 7_200, tx_bytes: 0, rx_low: 0, rx_high: 7_200, tx_low: 0, tx_high: 0 },
  ],
};

describe('describeSkill', () => {
  it('says the error ratio against "same hour yesterday" in words', () => {
    expect(describeSkill(0.8)).toBe('about 20 % better than assuming today repeats yesterday');
    expect(describeSkill(0.734)).toBe('about 27 % better than assuming today repeats yesterday');
    expect(describeSkill(1)).toBe('about as good as assuming today repeats yesterday');
    expect(describeSkill(0.97)).toBe('about as good as assuming today repeats yesterday');
    expect(describeSkill(1.3)).toBe('about 30 % worse than assuming today repeats yesterday');
  });
});

describe('describeForecast', () => {
  it('names the horizon, the band and the skill over the days it was measured on', () => {
    expect(describeForecast(available)).toBe(
      'Dashed: the next 2 h, with the band 80 % of past forecasts fell in. On the last 7 days it was about 20 % better than assuming today repeats yesterday.',
    );
  });

  it('says from when there will be a forecast', () => {
    const text = describeForecast({ available: false, reason: 'x', available_from: '2026-03-14T10:00:00.000Z', history_hours: 50 }, 'en-GB');
    expect(text).toBe('No forecast yet: it needs 14 days of history (2 so far), so from about 14 Mar 2026.');
    expect(describeForecast({ available: false, reason: 'x', available_from: null, history_hours: 0 })).toMatch(/needs 14 days/);
  });
});

describe('forecastRates', () => {
  it('turns bytes per hour into bytes per second for the chart', () => {
    const [first] = forecastRates(available);
    expect(first).toEqual({ startMs: Date.UTC(2026, 2, 2, 10), rx: 1000, tx: 100, rxLow: 500, rxHigh: 2000, txLow: 0, txHigh: 200 });
    expect(forecastRates({ available: false, reason: '', available_from: null, history_hours: 0 })).toEqual([]);
    expect(forecastRates(null)).toEqual([]);
  });
});

describe('scenarioLines', () => {
  it('gives each scenario its amount and the day the cap is reached', () => {
    const lines = scenarioLines(
      [
        { name: 'last_7_days_pace', label: '', projected_bytes: 412_000_000_000, reason: null, cap_reached_on: null },
        { name: 'typical_week', label: '', projected_bytes: 450_000_000_000, reason: null, cap_reached_on: '2026-03-28' },
        { name: 'busy_week', label: '', projected_bytes: null, reason: 'needs 14 complete days of history, there are 9', cap_reached_on: null },
      ],
      'si',
      '2026-03-10',
      'en-GB',
    );
    expect(lines.map((l) => l.title)).toEqual(["At the last 7 days' pace", 'In a typical week', 'In a busy week']);
    expect(lines[0]!.amount).toBe('412 GB');
    expect(lines[0]!.cap).toBe('stays under the cap');
    expect(lines[1]!.cap).toBe('cap reached on Sat, 28 Mar 2026');
    expect(lines[2]!.amount).toBe('not yet: needs 14 complete days of history, there are 9');
  });

  it('leaves the cap out where the answer has none (the usage rows)', () => {
    const [line] = scenarioLines([{ name: 'typical_week', label: '', projected_bytes: 1_500, reason: null }], 'iec', '2026-03-10');
    expect(line!.cap).toBeNull();
    expect(line!.amount).toBe('1.46 KiB');
  });

  it('says a cap already passed without "on"', () => {
    const [line] = scenarioLines([{ name: 'busy_week', label: '', projected_bytes: 9, reason: null, cap_reached_on: '2026-03-04' }], 'si', '2026-03-10', 'en-GB');
    expect(line!.cap).toBe('cap reached Wed, 4 Mar 2026');
  });
});

describe('describeScenarioSkill', () => {
  it("says how the paces did on the series' own weeks, or that it needs more history", () => {
    expect(describeScenarioSkill({ typical_week_error_percent: 8.4, last_7_days_pace_error_percent: 12.6, origins: 28 })).toBe(
      "Scenarios, not a forecast range. On your own last 28 days, “typical week” missed the following week's total by about 8 % on average, the last 7 days' pace by about 13 %.",
    );
    expect(describeScenarioSkill(null)).toMatch(/after about 5 weeks/);
  });
});
