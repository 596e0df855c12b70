/**
 * Forecast jobs as the worker thread runs them (and as the in-process fallback runs them): series in,
 * forecasts (or the reason there is none) out, with the wall time of the fits.
 */
import { forecastHourly, HistoryTooShortError, type HourlyForecast } from './forecaster.js';

export interface ForecastJob {
  values: Float64Array;
  phase: number;
  horizonHours: number;
  capacityPerHour?: number;
}

export interface ForecastJobMessage {
  id: number;
  jobs: ForecastJob[];
}

export type ForecastJobResult = { ok: true; forecast: HourlyForecast } | { ok: false; error: string; tooShort: boolean };

export interface ForecastJobReply {
  id: number;
  results: ForecastJobResult[];
  /** Wall time of all the fits in this message. */
  fitMs: number;
}

export function runForecastJobs(message: ForecastJobMessage): ForecastJobReply {
  const started = performance.now();
  const results = message.jobs.map((job): ForecastJobResult => {
    try {
      return { ok: true, forecast: forecastHourly(job.values, { horizonHours: job.horizonHours, phase: job.phase, capacityPerHour: job.capacityPerHour }) };
    } catch (err) {
      return { ok: false, error: (err as Error).message, tooShort: err instanceof HistoryTooShortError };
    }
  });
  return { id: message.id, results, fitMs: performance.now() - started };
}
