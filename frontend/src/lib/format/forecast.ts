/**
 * Words and chart points for the forecast (GET /api/forecast) and the month-end scenarios: the measured
 * skill said plainly, never a number without it.
 */
import type { ApiForecast, ApiScenario, ApiScenarioSkill } from '$shared/api-types';
import { formatBytes, type PrefixSystem } from './units';
import { formatCivilDay } from './usage-cards';

/** One forecast hour as rates (bytes per second), for the traffic chart. */
export interface ForecastRatePoint {
  startMs: number;
  rx: number;
  tx: number;
  rxLow: number;
  rxHigh: number;
  txLow: number;
  txHigh: number;
}

export function forecastRates(forecast: ApiForecast | null): ForecastRatePoint[] {
  if (forecast === null || !forecast.available) return [];
  return forecast.data.map((p) => ({
    startMs: Date.parse(p.timestamp),
    rx: p.rx_bytes / 3600,
    tx: p.tx_bytes / 3600,
    rxLow: p.rx_low / 3600,
    rxHigh: p.rx_high / 3600,
    txLow: p.tx_low / 3600,
    txHigh: p.tx_high / 3600,
  }));
}

/**
 * "about 20 % better than assuming today repeats yesterday": the error ratio against "same hour yesterday"
 * in words (within 5 % either way: "about as good as").
 */
export function describeSkill(ratio: number | null): string {
  if (ratio === null) return 'as good as assuming today repeats yesterday, which was exact on these days';
  const percent = Math.round(Math.abs(1 - ratio) * 100);
  if (percent < 5) return 'about as good as assuming today repeats yesterday';
  return `about ${percent} % ${ratio < 1 ? 'better' : 'worse'} than assuming today repeats yesterday`;
}

/** The sentence under the traffic chart. */
export function describeForecast(forecast: ApiForecast, locale?: string): string {
  if (!forecast.available) {
    if (forecast.available_from === null) return 'No forecast yet: it needs 14 days of hourly history.';
    const when = new Date(forecast.available_from).toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
    return `No forecast yet: it needs 14 days of history (${Math.floor(forecast.history_hours / 24)} so far), so from about ${when}.`;
  }
  const days = forecast.skill.origins;
  return `Dashed: the next ${forecast.data.length} h, with the band 80 % of past forecasts fell in. On the last ${days} day${days === 1 ? '' : 's'} it was ${describeSkill(forecast.skill.mae_ratio_vs_same_hour_yesterday)}.`;
}

export interface ScenarioLine {
  name: ApiScenario['name'];
  title: string;
  amount: string;
  /** When the cap is reached under it, in words; null without a cap. */
  cap: string | null;
}

const SCENARIO_TITLES: Record<ApiScenario['name'], string> = {
  last_7_days_pace: "At the last 7 days' pace",
  typical_week: 'In a typical week',
  busy_week: 'In a busy week',
};

/** Scenario rows for the usage page; those without enough history say what they need. */
export function scenarioLines(scenarios: readonly ApiScenario[], prefixSystem: PrefixSystem, todayDate: string, locale?: string): ScenarioLine[] {
  return scenarios.map((s) => ({
    name: s.name,
    title: SCENARIO_TITLES[s.name],
    amount: s.projected_bytes === null ? `not yet: ${s.reason ?? 'too little history'}` : formatBytes(s.projected_bytes, prefixSystem, locale),
    cap:
      s.cap_reached_on === undefined
        ? null
        : s.cap_reached_on === null
          ? 'stays under the cap'
          : s.cap_reached_on <= todayDate
            ? `cap reached ${formatCivilDay(s.cap_reached_on, locale)}`
            : `cap reached on ${formatCivilDay(s.cap_reached_on, locale)}`,
  }));
}

/** How the paces did on the series' own past weeks, in words. */
export function describeScenarioSkill(skill: ApiScenarioSkill | null | undefined): string {
  if (!skill) return 'Scenarios, not a forecast range: how well they did is shown after about 5 weeks of history.';
  const t = Math.round(skill.typical_week_error_percent);
  const p = Math.round(skill.last_7_days_pace_error_percent);
  return `Scenarios, not a forecast range. On your own last ${skill.origins} days, “typical week” missed the following week's total by about ${t} % on average, the last 7 days' pace by about ${p} %.`;
}
