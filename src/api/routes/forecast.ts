/**
 * GET /api/forecast (an interface's or the monitored total's next hours, with bands and the measured skill)
 * and POST /api/forecast (any hourly series, or a batch of them). The forecast code is imported on the first
 * request: until then it costs nothing. Fits run in a worker thread; GET answers are cached per clock hour.
 */
import { Type } from '../type.js';
import type { ForecastService, LocalForecast } from '../../forecast/forecast-service.js';
import type { HourlyForecast } from '../../forecast/forecaster.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { badRequest } from '../errors.js';
import { ErrorBody, InterfaceNameParam, NullableNumber, NullableString, withErrors } from '../schemas.js';
import { requireKnownInterface } from './interfaces.js';

const MAX_HORIZON = 168;
const DEFAULT_HORIZON = 24;
/** A year of hourly points is about 0.5 MB of JSON; a batch may hold a few. */
const FORECAST_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
const MAX_BATCH = 32;

const SkillSchema = Type.Object(
  {
    mae_ratio_vs_same_hour_yesterday: Type.Unsafe<number | null>({
      type: 'number',
      nullable: true,
      description: 'Mean absolute error of the forecasts of the last days ÷ that of "same hour yesterday" (below 1: better); null when that baseline made no error',
    }),
    mae_ratio_vs_same_hour_last_week: NullableNumber,
    origins: Type.Integer({ description: 'Past days (24 h-ahead forecasts each) the ratios come from' }),
  },
  { description: "The method's error on the series' own last days, re-forecast from each day's start" },
);

const DirectionSchema = Type.Object({ method: Type.String(), method_label: Type.String(), skill: SkillSchema });

const Unavailable = Type.Object({
  available: Type.Literal(false),
  interface: NullableString,
  reason: Type.String(),
  available_from: Type.Unsafe<string | null>({ type: 'string', nullable: true, description: 'When there will be 14 days of history if the collector keeps running; null without any' }),
  history_hours: Type.Integer(),
});

const LocalPoint = Type.Object({
  timestamp: Type.String({ description: 'Start of the hour, ISO 8601 UTC' }),
  rx_bytes: Type.Integer(),
  tx_bytes: Type.Integer(),
  rx_low: Type.Integer({ description: '80 % band: 80 % of past forecasts fell between low and high' }),
  rx_high: Type.Integer(),
  tx_low: Type.Integer(),
  tx_high: Type.Integer(),
  rx_low_95: Type.Integer({ description: '95 % band' }),
  rx_high_95: Type.Integer(),
  tx_low_95: Type.Integer(),
  tx_high_95: Type.Integer(),
});

const LocalAvailable = Type.Object({
  available: Type.Literal(true),
  interface: NullableString,
  interfaces: Type.Array(Type.String(), { description: 'The interfaces summed' }),
  method: Type.String({ description: 'The method picked (rx and tx pick separately; "rx:…,tx:…" when they differ)' }),
  history_hours: Type.Integer({ description: 'Hours of hourly history used (at most 12 weeks)' }),
  horizon_hours: Type.Integer(),
  fitted_at: Type.String(),
  fit_ms: Type.Number({ description: 'Wall time of the fit (both directions), in the worker thread' }),
  skill: SkillSchema,
  rx: DirectionSchema,
  tx: DirectionSchema,
  data: Type.Array(LocalPoint),
});

const SeriesPointSchema = Type.Object({ timestamp: Type.String({ maxLength: 40 }), value: Type.Number() }, { additionalProperties: false });
const SeriesSchema = Type.Array(SeriesPointSchema, { maxItems: 100_000, description: 'Hourly points, oldest first, one per hour: at least 14 days, at most a year' });

const SeriesAnswer = Type.Object({
  available: Type.Literal(true),
  method: Type.String(),
  method_label: Type.String(),
  history_hours: Type.Integer(),
  horizon_hours: Type.Integer(),
  skill: SkillSchema,
  data: Type.Array(
    Type.Object({ timestamp: Type.String(), value: Type.Number(), low: Type.Number(), high: Type.Number(), low_95: Type.Number(), high_95: Type.Number() }),
  ),
});

function skillOf(forecasts: readonly HourlyForecast[]) {
  // Summed over the directions: MAE of the picks ÷ MAE of the baseline (one series: its own ratio).
  const sum = (pick: (f: HourlyForecast) => number | null) => {
    let total = 0;
    for (const f of forecasts) {
      const v = pick(f);
      if (v === null) return null;
      total += v;
    }
    return total;
  };
  const maeOf = (f: HourlyForecast, m: string) => f.candidates.find((c) => c.method === m)?.mae ?? null;
  const picked = sum((f) => maeOf(f, f.method));
  const sn24 = sum((f) => maeOf(f, 'sn24'));
  // SN168 is a candidate too; its MAE over the same days is its ratio × the pick's.
  const sn168 = sum((f) => (f.skill.maeRatioVsSn168 === null || f.skill.maeRatioVsSn168 === 0 ? null : maeOf(f, f.method)! / f.skill.maeRatioVsSn168));
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : b === 0 ? (a === 0 ? 1 : null) : a / b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    mae_ratio_vs_same_hour_yesterday: round(forecasts.length === 1 ? forecasts[0]!.skill.maeRatioVsSn24 : ratio(picked, sn24)),
    mae_ratio_vs_same_hour_last_week: round(forecasts.length === 1 ? forecasts[0]!.skill.maeRatioVsSn168 : ratio(picked, sn168)),
    origins: Math.min(...forecasts.map((f) => f.skill.origins)),
  };
}

export function registerForecastRoutes(app: App, ctx: AppContext): void {
  let service: Promise<ForecastService> | null = null;
  const forecasts = () =>
    (service ??= import('../../forecast/forecast-service.js').then((m) =>
      m.createForecastService({ trafficService: ctx.trafficService, timezone: ctx.config.timezone, now: ctx.now, logger: app.log }),
    ));
  app.addHook('onClose', async () => {
    if (service !== null) await (await service).close();
  });

  const horizonOf = (h: number | undefined) => {
    const horizon = h ?? DEFAULT_HORIZON;
    if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) throw badRequest('INVALID_HORIZON', `horizon_hours must be a whole number of hours 1–${MAX_HORIZON} (7 days), not ${horizon}`);
    return horizon;
  };

  app.get(
    '/api/forecast',
    {
      schema: {
        tags: ['forecast'],
        summary: 'The next hours of an interface (or of the monitored total), with 80 % and 95 % bands and the measured skill',
        description:
          'Hourly rx and tx bytes for the next horizon_hours (1–168, default 24) from the current clock hour. Each direction picks its method (same hour yesterday, same hour last week, ' +
          'double-seasonal Holt-Winters, or the mean of Holt-Winters and ridge regression) by re-forecasting each of its last 7 days; skill is the pick\'s error on those days ÷ the error of "same hour yesterday". ' +
          'Bands are quantiles of the same series\' own recent 24 h-ahead errors (beyond 24 h widened by √days, not measured). With fewer than 14 days of history: available false and when there will be a forecast. ' +
          'Fitted in a worker thread, cached for the clock hour. Errors: INVALID_HORIZON, INVALID_INTERFACE_NAME, UNKNOWN_INTERFACE (404).',
        querystring: Type.Object({
          interface: Type.Optional(InterfaceNameParam),
          horizon_hours: Type.Optional(Type.Integer({ description: `1–${MAX_HORIZON}; default ${DEFAULT_HORIZON}` })),
        }),
        response: withErrors({ 200: Type.Union([LocalAvailable, Unavailable]) }),
      },
    },
    async (req) => {
      const horizon = horizonOf(req.query.horizon_hours);
      const name = req.query.interface ?? null;
      if (name !== null) await requireKnownInterface(ctx, name);
      const interfaces = name !== null ? [name] : ctx.settings.monitoredList();
      const f: LocalForecast = await (await forecasts()).local(interfaces);
      if (!f.available) {
        return { available: false as const, interface: name, reason: f.reason, available_from: f.availableFromSec === null ? null : new Date(f.availableFromSec * 1000).toISOString(), history_hours: f.historyHours };
      }
      const { rx, tx } = f;
      const int = (v: number) => Math.round(v);
      const direction = (d: HourlyForecast) => ({ method: d.method, method_label: METHOD_LABEL[d.method], skill: skillOf([d]) });
      return {
        available: true as const,
        interface: name,
        interfaces,
        method: rx.method === tx.method ? rx.method : `rx:${rx.method},tx:${tx.method}`,
        history_hours: f.historyHours,
        horizon_hours: horizon,
        fitted_at: new Date(f.fittedAtSec * 1000).toISOString(),
        fit_ms: Math.round(f.fitMs),
        skill: skillOf([rx, tx]),
        rx: direction(rx),
        tx: direction(tx),
        data: Array.from({ length: horizon }, (_, k) => ({
          timestamp: new Date((f.firstHourSec + k * 3600) * 1000).toISOString(),
          rx_bytes: int(rx.point[k]!),
          tx_bytes: int(tx.point[k]!),
          rx_low: int(rx.low80[k]!),
          rx_high: int(rx.high80[k]!),
          tx_low: int(tx.low80[k]!),
          tx_high: int(tx.high80[k]!),
          rx_low_95: int(rx.low95[k]!),
          rx_high_95: int(rx.high95[k]!),
          tx_low_95: int(tx.low95[k]!),
          tx_high_95: int(tx.high95[k]!),
        })),
      };
    },
  );

  app.post(
    '/api/forecast',
    {
      bodyLimit: FORECAST_BODY_LIMIT_BYTES,
      schema: {
        tags: ['forecast'],
        summary: 'Forecast any hourly series: { "series": [{ "timestamp", "value" }, …], "horizon_hours": 24 } or { "batch": [{ "id", "series" }, …] }',
        description:
          'The same forecaster as GET /api/forecast, on the series sent (values in any unit, ≥ 0; day and week are taken in UTC). Answers { available, method, skill, data: [{ timestamp, value, low, high, low_95, high_95 }] }, ' +
          `or { results: [{ id, … }] } for a batch (at most ${MAX_BATCH}). A write: needs the token when one is set. ` +
          'Errors (the first bad point is named; for a batch, the id): INVALID_FORECAST_REQUEST, INVALID_HORIZON, INVALID_TIMESTAMP, SERIES_UNSORTED, SERIES_DUPLICATE_TIMESTAMP, SERIES_NOT_HOURLY, SERIES_NEGATIVE_VALUE, SERIES_TOO_SHORT (< 14 days), SERIES_TOO_LONG (> a year), BODY_TOO_LARGE (413).',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            series: Type.Optional(SeriesSchema),
            batch: Type.Optional(Type.Array(Type.Object({ id: Type.String({ maxLength: 200 }), series: SeriesSchema }, { additionalProperties: false }), { maxItems: MAX_BATCH })),
            horizon_hours: Type.Optional(Type.Integer({ description: `1–${MAX_HORIZON}; default ${DEFAULT_HORIZON}` })),
          },
          { additionalProperties: false },
        ),
        response: {
          ...withErrors({ 200: Type.Union([SeriesAnswer, Type.Object({ results: Type.Array(Type.Intersect([Type.Object({ id: Type.String() }), SeriesAnswer])) })]) }),
          413: ErrorBody,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const horizon = horizonOf(b.horizon_hours);
      if ((b.series === undefined) === (b.batch === undefined)) throw badRequest('INVALID_FORECAST_REQUEST', 'send either "series" (one series) or "batch" (a list of { id, series }), not both and not neither');
      const { checkSeries, SeriesError, utcHourOfWeek } = await import('../../forecast/series.js');
      const items = b.series !== undefined ? [{ id: null as string | null, series: b.series }] : b.batch!.map((x) => ({ id: x.id as string | null, series: x.series }));
      const checked = items.map((item, i) => {
        try {
          return checkSeries(item.series);
        } catch (err) {
          if (err instanceof SeriesError) throw badRequest(err.code, item.id === null ? err.message : `batch[${i}] (id "${item.id}"): ${err.message}`);
          throw err;
        }
      });
      const reply = await (await forecasts()).series(checked.map((c) => ({ values: Float64Array.from(c.values), phase: utcHourOfWeek(c.startSec), horizonHours: horizon })));
      const answers = reply.results.map((r, i) => {
        if (!r.ok) throw new Error(r.error);
        const f = r.forecast;
        const c = checked[i]!;
        const firstSec = c.startSec + c.values.length * 3600;
        return {
          available: true as const,
          method: f.method,
          method_label: METHOD_LABEL[f.method],
          history_hours: c.values.length,
          horizon_hours: horizon,
          skill: skillOf([f]),
          data: f.point.map((v, k) => ({ timestamp: new Date((firstSec + k * 3600) * 1000).toISOString(), value: v, low: f.low80[k]!, high: f.high80[k]!, low_95: f.low95[k]!, high_95: f.high95[k]! })),
        };
      });
      return b.series !== undefined ? answers[0]! : { results: answers.map((a, i) => ({ id: items[i]!.id!, ...a })) };
    },
  );
}

/** Kept here (not imported from the forecaster) so registering the routes loads none of the forecast code. */
const METHOD_LABEL: Record<HourlyForecast['method'], string> = {
  sn24: 'same hour yesterday',
  sn168: 'same hour last week',
  dshw: 'double-seasonal Holt-Winters (log scale, multi-step fit)',
  ridge24: 'ridge regression on the last 24 hours (log scale)',
  combo: 'mean of double-seasonal Holt-Winters and ridge regression',
};
