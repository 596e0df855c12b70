/**
 * The forecast seam: reads an interface's (or the monitored total's) hourly history from the hour tier,
 * hands the fit to the worker thread, and caches the answer for the rest of the clock hour. After the first
 * request it also refits, in the background every 10 minutes, the scopes asked for in the last day whose
 * answer is from an earlier hour, so later requests find the cache warm. Loaded on first use only
 * (the routes `await import()` it).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { TrafficService } from '../services/traffic-service.js';
import { zonedParts } from '../shared/zoned-time.js';
import { MAX_HORIZON_HOURS, MIN_HISTORY_HOURS, type HourlyForecast } from './forecaster.js';
import type { ForecastJob } from './jobs.js';
import { weekdayOf } from './month-end.js';
import { createForecastRunner, type ForecastRunner } from './runner.js';

/** Hours of history read for a fit: 12 weeks (the models use at most 10 weeks, plus the backtest week). */
export const HISTORY_WINDOW_HOURS = 12 * 7 * 24;
const REFRESH_EVERY_MS = 10 * 60_000;
const KEEP_WARM_MS = 24 * 3600_000;

export type LocalForecast =
  | { available: false; reason: string; availableFromSec: number | null; historyHours: number }
  | {
      available: true;
      historyHours: number;
      /** Start of the first forecast hour (the current clock hour). */
      firstHourSec: number;
      fittedAtSec: number;
      fitMs: number;
      rx: HourlyForecast;
      tx: HourlyForecast;
    };

export interface ForecastStats {
  fits: number;
  lastFitMs: number | null;
  totalFitMs: number;
  runner: 'worker' | 'inline' | 'idle';
}

export interface ForecastService {
  /** The next MAX_HORIZON_HOURS of the interfaces' summed traffic (callers slice their horizon). */
  local(interfaces: readonly string[]): Promise<LocalForecast>;
  /** Fits given series in the worker (POST /api/forecast). */
  series(jobs: ForecastJob[]): ReturnType<ForecastRunner['run']>;
  stats(): ForecastStats;
  close(): Promise<void>;
}

export interface ForecastServiceDeps {
  trafficService: TrafficService;
  timezone: string;
  now: () => number;
  logger?: FastifyBaseLogger;
  /** Run fits in this thread (tests of the fallback). */
  inline?: boolean;
}

/** Hour of the week (0 = Monday 00:00) of a unix time in a zone. */
export function zonedHourOfWeek(sec: number, timeZone: string): number {
  const p = zonedParts(sec, timeZone);
  return weekdayOf(Math.round(Date.UTC(p.year, p.month - 1, p.day) / 86_400_000)) * 24 + p.hour;
}

/**
 * Hourly values from the first hour with data to the last complete hour. Hours the collector did not run
 * take the same hour a day earlier (or the hour before, at the very start); `covered` counts the others.
 */
export function hourlyHistory(buckets: readonly { startSec: number; value: number | null }[]): { firstHourSec: number | null; values: number[]; covered: number } {
  const first = buckets.findIndex((b) => b.value !== null);
  if (first < 0) return { firstHourSec: null, values: [], covered: 0 };
  const values: number[] = [];
  let covered = 0;
  for (const b of buckets.slice(first)) {
    if (b.value !== null) {
      covered++;
      values.push(b.value);
    } else {
      values.push(values.length >= 24 ? values[values.length - 24]! : values[values.length - 1]!);
    }
  }
  return { firstHourSec: buckets[first]!.startSec, values, covered };
}

export function createForecastService(deps: ForecastServiceDeps): ForecastService {
  const runner = createForecastRunner({ inline: deps.inline, onWorkerError: (err) => deps.logger?.warn({ err }, 'forecast worker failed; forecasts run in the server thread') });
  const cache = new Map<string, { hourSec: number; answer: LocalForecast }>();
  const inFlight = new Map<string, Promise<LocalForecast>>();
  const lastAsked = new Map<string, { atMs: number; interfaces: readonly string[] }>();
  const stats = { fits: 0, lastFitMs: null as number | null, totalFitMs: 0 };
  let timer: NodeJS.Timeout | null = null;

  const currentHourSec = () => Math.floor(deps.now() / 3_600_000) * 3600;

  async function fit(interfaces: readonly string[], hourSec: number): Promise<LocalForecast> {
    const answer = deps.trafficService.query({ windowHours: HISTORY_WINDOW_HOURS, groupMinutes: 60, interfaces });
    // The last bucket holds the hour now is in: not complete, so not history.
    const complete = answer.buckets.filter((b) => b.endSec <= hourSec);
    const series = (key: 'rx_bytes' | 'tx_bytes') => hourlyHistory(complete.map((b) => ({ startSec: b.startSec, value: b.sums === null ? null : Number(b.sums[key]) })));
    const rx = series('rx_bytes');
    const tx = series('tx_bytes');
    if (rx.firstHourSec === null) {
      return { available: false, reason: 'no hourly traffic is stored yet; a forecast needs 14 days of it', availableFromSec: null, historyHours: 0 };
    }
    if (rx.covered < MIN_HISTORY_HOURS) {
      const missing = MIN_HISTORY_HOURS - rx.covered;
      return {
        available: false,
        reason: `${rx.covered} hours of history; a forecast needs ${MIN_HISTORY_HOURS} (14 days), so ${missing} more while the collector runs`,
        availableFromSec: hourSec + missing * 3600,
        historyHours: rx.covered,
      };
    }
    const phase = zonedHourOfWeek(rx.firstHourSec, deps.timezone);
    const reply = await runner.run([
      { values: Float64Array.from(rx.values), phase, horizonHours: MAX_HORIZON_HOURS },
      { values: Float64Array.from(tx.values), phase, horizonHours: MAX_HORIZON_HOURS },
    ]);
    stats.fits++;
    stats.lastFitMs = reply.fitMs;
    stats.totalFitMs += reply.fitMs;
    const [r, t] = reply.results;
    if (!r!.ok || !t!.ok) throw new Error(`forecast failed: ${!r!.ok ? r!.error : (t as { error: string }).error}`);
    return { available: true, historyHours: rx.covered, firstHourSec: hourSec, fittedAtSec: Math.floor(deps.now() / 1000), fitMs: reply.fitMs, rx: r!.forecast, tx: t!.forecast };
  }

  function get(interfaces: readonly string[]): Promise<LocalForecast> {
    const key = [...interfaces].sort().join('\n');
    const hourSec = currentHourSec();
    const hit = cache.get(key);
    if (hit !== undefined && hit.hourSec === hourSec) return Promise.resolve(hit.answer);
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    const p = fit(interfaces, hourSec)
      .then((answer) => {
        cache.set(key, { hourSec, answer });
        return answer;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  }

  function refresh(): void {
    const nowMs = deps.now();
    for (const [key, asked] of lastAsked) {
      if (nowMs - asked.atMs > KEEP_WARM_MS) {
        lastAsked.delete(key);
        cache.delete(key);
        continue;
      }
      get(asked.interfaces).catch((err) => deps.logger?.warn({ err }, 'background forecast fit failed'));
    }
  }

  return {
    local(interfaces) {
      lastAsked.set([...interfaces].sort().join('\n'), { atMs: deps.now(), interfaces: [...interfaces] });
      if (timer === null) {
        timer = setInterval(refresh, REFRESH_EVERY_MS);
        timer.unref();
      }
      return get(interfaces);
    },
    series: (jobs) => runner.run(jobs),
    stats: () => ({ ...stats, runner: runner.mode() }),
    async close() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await runner.close();
    },
  };
}
