import { Type } from '../type.js';
import { isValidInterfaceName } from '../../collector/interface-name.js';
import { apiAlert, type CapDirection, type CapStatus, DEFAULT_THRESHOLDS_PERCENT } from '../../services/alerts-service.js';
import type { CycleScenario } from '../../forecast/cycle-scenarios.js';
import type { WeekAheadSkill } from '../../forecast/month-end.js';
import { combineDaySources, dayNumberOfIso, ESTIMATE_MIN_ELAPSED_SEC, parseByteSize, USAGE_PERIODS, usageRows, type DaySource, type UsagePeriod, type UsageRow } from '../../services/usage-service.js';
import { listRemoteDevices, remoteDaySource } from '../../sync/remote-usage.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, badRequest } from '../errors.js';
import { Count, ErrorBody, NullableNumber, NullableString, withErrors } from '../schemas.js';
import { fromPostgres, resolveDevice } from './devices.js';
import { requireKnownInterface } from './interfaces.js';

const DEFAULT_LIMITS: Record<UsagePeriod, number> = { day: 30, month: 12, year: 5 };
const MAX_LIMIT = 1000;

const NullableCountObject = <T>(props: Record<string, unknown>, description: string) =>
  Type.Unsafe<T | null>({ ...Type.Object(props as never), nullable: true, description });

const Totals = { rx_bytes: Count, tx_bytes: Count, total_bytes: Count };

const ScenarioSchema = Type.Object({
  name: Type.String({ enum: ['last_7_days_pace', 'typical_week', 'busy_week'] }),
  label: Type.String(),
  projected_bytes: Type.Unsafe<bigint | null>({ type: 'integer', nullable: true, description: 'So far + the remaining days at this pace; null without enough history (see reason)' }),
  reason: NullableString,
});

const CapScenarioSchema = Type.Object({
  ...ScenarioSchema.properties,
  cap_reached_on: Type.Unsafe<string | null>({ type: 'string', nullable: true, description: 'YYYY-MM-DD the cap is reached on under this scenario (in the past if already reached); null: not in this billing month' }),
});

const SCENARIOS_DESCRIPTION =
  "Month-end scenarios, not a confidence interval: the billing month so far plus the remaining days at the last 7 days' pace, in a typical week (each weekday's mean over the last 3 weeks) or in a busy week (the busiest of the last 4)";

const ScenarioSkillSchema = Type.Unsafe<Record<string, number> | null>({
  ...Type.Object({
    typical_week_error_percent: Type.Number({ description: 'Mean absolute % error of a week\'s total projected as "typical week"' }),
    last_7_days_pace_error_percent: Type.Number(),
    origins: Type.Integer({ description: 'Past days (up to 28) each projecting the following week from the 3 before it' }),
  }),
  nullable: true,
  description: 'How the paces did on this series\' own past weeks; null with under about 4½ weeks of history',
});

function apiScenarioSkill(s: WeekAheadSkill | null) {
  if (s === null) return null;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { typical_week_error_percent: r(s.typicalWeekErrorPercent), last_7_days_pace_error_percent: r(s.paceErrorPercent), origins: s.origins };
}

function apiScenario(s: CycleScenario) {
  return { name: s.name, label: s.label, projected_bytes: s.projectedBytes, reason: s.reason };
}

const UsageRowSchema = Type.Object({
  label: Type.String({ description: '2026-03-15 (day), 2026-03 (billing month, named after the month it starts in) or 2026 (year)' }),
  start: Type.String({ description: 'Local midnight the period starts at, ISO 8601 UTC' }),
  end: Type.String({ description: 'Local midnight it ends at (exclusive), ISO 8601 UTC' }),
  start_date: Type.String({ description: 'First day, YYYY-MM-DD' }),
  end_date: Type.String({ description: 'The day after the last day, YYYY-MM-DD' }),
  ...Totals,
  current: Type.Boolean({ description: 'The period that contains now' }),
  estimate: NullableCountObject<Record<string, bigint>>(Totals, `The current period's projected totals (so far × length / elapsed); null on past periods and in the first ${ESTIMATE_MIN_ELAPSED_SEC / 3600} h`),
  scenarios: Type.Optional(Type.Array(ScenarioSchema, { description: `Only on the current billing month (period=month), of rx + tx. ${SCENARIOS_DESCRIPTION}` })),
  scenario_skill: Type.Optional(ScenarioSkillSchema),
});

function apiUsageRow(r: UsageRow) {
  return {
    label: r.label,
    start: new Date(r.startSec * 1000).toISOString(),
    end: new Date(r.endSec * 1000).toISOString(),
    start_date: r.startDate,
    end_date: r.endDate,
    rx_bytes: r.rxBytes,
    tx_bytes: r.txBytes,
    total_bytes: r.rxBytes + r.txBytes,
    current: r.current,
    estimate: r.estimate === null ? null : { rx_bytes: r.estimate.rxBytes, tx_bytes: r.estimate.txBytes, total_bytes: r.estimate.rxBytes + r.estimate.txBytes },
  };
}

const CapStatusSchema = Type.Object({
  period: Type.String({ description: 'Billing month label (YYYY-MM of its first day)' }),
  start: Type.String(),
  end: Type.String(),
  start_date: Type.String(),
  end_date: Type.String(),
  interfaces: Type.Array(Type.String()),
  rx_bytes: Count,
  tx_bytes: Count,
  used_bytes: Count,
  limit_bytes: Count,
  remaining_bytes: Count,
  projected_bytes: Type.Unsafe<bigint | null>({ type: 'integer', nullable: true, description: 'Month-end projection; null in the first hour' }),
  percent_used: Type.Number(),
  projected_percent: NullableNumber,
  scenarios: Type.Array(CapScenarioSchema, { description: `${SCENARIOS_DESCRIPTION}; in the cap's direction` }),
  scenario_skill: ScenarioSkillSchema,
});

function apiCapStatus(s: CapStatus, { scenarios, skill }: { scenarios: readonly CycleScenario[]; skill: WeekAheadSkill | null }) {
  return {
    period: s.periodLabel,
    start: new Date(s.periodStartSec * 1000).toISOString(),
    end: new Date(s.periodEndSec * 1000).toISOString(),
    start_date: s.startDate,
    end_date: s.endDate,
    interfaces: s.interfaces,
    rx_bytes: s.rxBytes,
    tx_bytes: s.txBytes,
    used_bytes: s.usedBytes,
    limit_bytes: s.limitBytes,
    remaining_bytes: s.usedBytes >= s.limitBytes ? 0n : s.limitBytes - s.usedBytes,
    projected_bytes: s.projectedBytes,
    percent_used: s.percentUsed,
    projected_percent: s.projectedPercent,
    scenarios: scenarios.map((c) => ({ ...apiScenario(c), cap_reached_on: c.capReachedOn })),
    scenario_skill: apiScenarioSkill(skill),
  };
}

/** The month-end scenarios (the forecast code is imported on first use). */
async function scenariosFor(source: DaySource, opts: { startDate: string; endDate: string; timeZone: string; nowSec: number; limitBytes: bigint | null; direction: CapDirection }) {
  const { cycleScenarios } = await import('../../forecast/cycle-scenarios.js');
  return cycleScenarios(source, {
    cycleStartDay: dayNumberOfIso(opts.startDate),
    cycleEndDay: dayNumberOfIso(opts.endDate),
    timeZone: opts.timeZone,
    nowSec: opts.nowSec,
    limitBytes: opts.limitBytes,
    bytesOf: (d) => (opts.direction === 'rx' ? d.rxBytes : opts.direction === 'tx' ? d.txBytes : d.rxBytes + d.txBytes),
  });
}

const DataCapSchema = Type.Object({
  limit_bytes: Type.Unsafe<bigint | null>({ type: 'integer', nullable: true, description: 'The monthly cap in bytes; null: no cap' }),
  interface: Type.Unsafe<string | null>({ type: 'string', nullable: true, description: 'The interface it applies to; null: the total' }),
  direction: Type.String({ enum: ['both', 'rx', 'tx'], description: 'What counts against it: rx + tx (both), or one direction' }),
  thresholds_percent: Type.Array(Type.Integer(), { description: 'An alert fires once per billing month when usage crosses each' }),
  month_start_day: Type.Integer({ description: 'Billing months start on this day (1–28) at local midnight' }),
  month_start_day_source: Type.String({ enum: ['env', 'config', 'default'] }),
  timezone: Type.String(),
  units: Type.String({ enum: ['decimal', 'binary'], description: 'How alert messages write volumes' }),
  webhook_configured: Type.Boolean(),
  updated_at: NullableString,
  status: Type.Unsafe<Record<string, unknown> | null>({ ...CapStatusSchema, nullable: true, description: 'The billing month so far; null without a cap' }),
});

async function dataCapView(ctx: AppContext) {
  const cap = ctx.alerts.getCap();
  const status = await ctx.alerts.status();
  return {
    limit_bytes: cap.limitBytes,
    interface: cap.interfaceName,
    direction: cap.direction,
    thresholds_percent: cap.thresholdsPercent,
    month_start_day: ctx.usage.monthStartDay(),
    month_start_day_source: ctx.usage.monthStartDaySource(),
    timezone: ctx.config.timezone,
    units: ctx.config.usage.units,
    webhook_configured: ctx.config.usage.alertWebhookUrl !== null,
    updated_at: cap.updatedAtSec === null ? null : new Date(cap.updatedAtSec * 1000).toISOString(),
    status:
      status === null
        ? null
        : apiCapStatus(
            status,
            await scenariosFor(ctx.usage.daySource(status.interfaces), { startDate: status.startDate, endDate: status.endDate, timeZone: ctx.config.timezone, nowSec: Math.floor(ctx.now() / 1000), limitBytes: status.limitBytes, direction: cap.direction }),
          ),
  };
}

const CapBody = Type.Object(
  {
    limit_bytes: Type.Optional(Type.Unsafe<number | null>({ type: 'integer', nullable: true, description: 'The cap in bytes (≥ 1); null removes the cap' })),
    limit: Type.Optional(Type.String({ maxLength: 32, description: 'The cap as text instead: "1 TB", "500GB", "1.5 TiB" (GB = 10^9, GiB = 2^30)' })),
    interface: Type.Optional(Type.Unsafe<string | null>({ type: 'string', maxLength: 64, nullable: true, description: 'An interface, or null (default) for the total' })),
    direction: Type.Optional(Type.String({ description: 'both (default), rx or tx' })),
    thresholds_percent: Type.Optional(Type.Array(Type.Integer(), { maxItems: 32, description: 'Whole percents 1–1000, at most 10; default [80, 100]' })),
    month_start_day: Type.Optional(Type.Unsafe<number | null>({ type: 'integer', nullable: true, description: 'Billing month start day 1–28; null: back to 1. Refused while NETPULSE_MONTH_START_DAY is set' })),
  },
  { additionalProperties: false },
);

const invalidCap = (message: string) => badRequest('INVALID_CAP', message);

/**
 * Ajv coerces body types too (true → 1, "100" → 100, "80" → [80], 5 → "5"): each cap field that is sent must
 * already have its JSON type, as for the config bodies. What is missing or unknown is left to the schema.
 */
function capBodyAsSent(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  const is = (v: unknown, type: 'number' | 'string', nullable: boolean) => v === undefined || typeof v === type || (nullable && v === null);
  return (
    is(b.limit_bytes, 'number', true) &&
    is(b.limit, 'string', false) &&
    is(b.interface, 'string', true) &&
    is(b.direction, 'string', false) &&
    is(b.month_start_day, 'number', true) &&
    (b.thresholds_percent === undefined || (Array.isArray(b.thresholds_percent) && b.thresholds_percent.every((t) => typeof t === 'number')))
  );
}

export function registerUsageRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Day, month or year totals of an interface or of the total, newest first, the current period with its estimate',
        description:
          'Periods are calendar days in the configured time zone (NETPULSE_TZ; a DST day is 23 or 25 h long), billing months from the month start day (1–28) at local midnight to the same day of the next month, and calendar years. ' +
          'Without `interface` the rows sum the "total": the interfaces with stored traffic whose kind is ethernet, wireless or other (not loopback, container, tunnel, bridge or virtual), or the NETPULSE_USAGE_INTERFACES selection. ' +
          'Periods before the first stored day are left out. `device=all` sums every device that syncs to PostgreSQL (each by its own local dates and total interfaces; this device from its local database); `device=<id>` shows one of them. ' +
          'Errors: INVALID_PERIOD, INVALID_LIMIT, INVALID_INTERFACE_NAME, UNKNOWN_INTERFACE, INVALID_DEVICE, UNKNOWN_DEVICE, SYNC_NOT_CONFIGURED, SYNC_UNAVAILABLE (503).',
        querystring: Type.Object({
          period: Type.String({ description: 'day, month or year' }),
          interface: Type.Optional(Type.String({ maxLength: 64, description: 'One interface; default: the total' })),
          device: Type.Optional(Type.String({ maxLength: 64, description: '"local" (default), "all", or a device id from GET /api/devices' })),
          limit: Type.Optional(Type.Integer({ description: `How many periods back (1–${MAX_LIMIT}); default ${DEFAULT_LIMITS.day} days, ${DEFAULT_LIMITS.month} months, ${DEFAULT_LIMITS.year} years` })),
        }),
        response: {
          ...withErrors({
            200: Type.Object({
              period: Type.String({ enum: [...USAGE_PERIODS] }),
              device: Type.Object({ id: Type.String({ description: 'A device id, or "all"' }), name: Type.String(), is_local: Type.Boolean() }),
              interface: NullableString,
              interfaces: Type.Array(Type.String(), { description: 'The interfaces summed (for device=all: on any device)' }),
              timezone: Type.String({ description: 'The zone of start and end' }),
              month_start_day: Type.Integer(),
              rows: Type.Array(UsageRowSchema),
            }),
          }),
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      if (!(USAGE_PERIODS as readonly string[]).includes(q.period)) throw badRequest('INVALID_PERIOD', `period must be day, month or year, not "${q.period}"`);
      const period = q.period as UsagePeriod;
      const limit = q.limit ?? DEFAULT_LIMITS[period];
      if (limit < 1 || limit > MAX_LIMIT) throw badRequest('INVALID_LIMIT', `limit must be 1–${MAX_LIMIT}`);
      const interfaceName = q.interface ?? null;
      if (interfaceName !== null && !isValidInterfaceName(interfaceName)) throw badRequest('INVALID_INTERFACE_NAME', `"${interfaceName}" is not a valid interface name`);
      const selection = await resolveDevice(ctx, q.device);
      const nowSec = Math.floor(ctx.now() / 1000);
      const monthStartDay = ctx.usage.monthStartDay();

      let source: DaySource;
      let interfaces: string[];
      let timeZone = ctx.config.timezone;
      let device = { id: ctx.device.deviceId, name: ctx.device.name, is_local: true };
      if (selection.kind === 'local') {
        if (interfaceName !== null) await requireKnownInterface(ctx, interfaceName);
        interfaces = interfaceName === null ? await ctx.usage.totalInterfaces() : [interfaceName];
        source = ctx.usage.daySource(interfaces);
      } else {
        const pool = ctx.sync!.pool;
        if (selection.kind === 'remote') {
          const d = selection.device;
          device = { id: d.deviceId, name: d.name, is_local: false };
          timeZone = d.timezone;
          interfaces = interfaceName === null ? d.usageInterfaces : [interfaceName];
          source = remoteDaySource(pool, { deviceId: d.deviceId, excludeDeviceId: null, interfaceName });
        } else {
          device = { id: 'all', name: 'All devices', is_local: false };
          const localInterfaces = interfaceName === null ? await ctx.usage.totalInterfaces() : [interfaceName];
          const others = await fromPostgres(ctx, () => listRemoteDevices(pool));
          interfaces = [...new Set([...localInterfaces, ...(interfaceName === null ? others.flatMap((o) => (o.deviceId === ctx.device.deviceId ? [] : o.usageInterfaces)) : [])])].sort();
          source = combineDaySources([ctx.usage.daySource(localInterfaces), remoteDaySource(pool, { deviceId: null, excludeDeviceId: ctx.device.deviceId, interfaceName })]);
        }
      }
      const rows = await fromPostgres(ctx, () => usageRows(source, { period, limit, monthStartDay, timeZone, nowSec }));
      const current = period === 'month' ? rows.find((r) => r.current) : undefined;
      const projection =
        current === undefined ? null : await fromPostgres(ctx, () => scenariosFor(source, { startDate: current.startDate, endDate: current.endDate, timeZone, nowSec, limitBytes: null, direction: 'both' }));
      return {
        period,
        device,
        interface: interfaceName,
        interfaces,
        timezone: timeZone,
        month_start_day: monthStartDay,
        rows: rows.map((r) => (r === current && projection !== null ? { ...apiUsageRow(r), scenarios: projection.scenarios.map(apiScenario), scenario_skill: apiScenarioSkill(projection.skill) } : apiUsageRow(r))),
      };
    },
  );

  app.get(
    '/api/config/data-cap',
    {
      schema: {
        tags: ['usage'],
        summary: 'The monthly data cap, the billing month settings, and the billing month so far (used, projection, percent)',
        response: withErrors({ 200: DataCapSchema }),
      },
    },
    async () => dataCapView(ctx),
  );

  app.put(
    '/api/config/data-cap',
    {
      schema: {
        tags: ['usage'],
        summary: 'Set (replace) the monthly data cap: { "limit": "1 TB" } or { "limit_bytes": 1000000000000, "interface": null, "thresholds_percent": [80, 100], "month_start_day": 15 }',
        description:
          'Fields left out take their defaults (total, both directions, [80, 100], month start day 1). { "limit_bytes": null } removes the cap. Alerts are evaluated at once. ' +
          'Errors: INVALID_CAP, UNKNOWN_INTERFACE (404), MONTH_START_DAY_FROM_ENV (409).',
        security: [{ bearer: [] }],
        body: CapBody,
        response: { ...withErrors({ 200: DataCapSchema }), 409: ErrorBody },
      },
      preValidation: async (req) => {
        if (!capBodyAsSent(req.body)) throw badRequest('VALIDATION_ERROR', 'body must be an object whose fields have their JSON types: limit_bytes a number or null, limit a string, interface a string or null, direction a string, thresholds_percent an array of numbers, month_start_day a number or null (Content-Type: application/json)');
      },
    },
    async (req) => {
      const b = req.body;
      if (b.limit !== undefined && b.limit_bytes !== undefined) throw invalidCap('give limit or limit_bytes, not both');
      let limitBytes: bigint | null;
      if (b.limit !== undefined) {
        limitBytes = parseByteSize(b.limit);
        if (limitBytes === null) throw invalidCap(`limit "${b.limit}" is not a size like "1 TB", "500 GB" or "1.5 TiB"`);
      } else if (b.limit_bytes === undefined) {
        throw invalidCap('limit_bytes (or limit) is required; null removes the cap');
      } else {
        limitBytes = b.limit_bytes === null ? null : BigInt(b.limit_bytes);
      }
      if (limitBytes !== null && (limitBytes < 1n || limitBytes > 2n ** 62n)) throw invalidCap('the cap must be at least 1 byte (and below 2^62)');
      const direction = b.direction ?? 'both';
      if (!['both', 'rx', 'tx'].includes(direction)) throw invalidCap(`direction must be both, rx or tx, not "${direction}"`);
      const thresholds = b.thresholds_percent ?? [...DEFAULT_THRESHOLDS_PERCENT];
      if (thresholds.length === 0 || thresholds.length > 10 || thresholds.some((t) => t < 1 || t > 1000)) throw invalidCap('thresholds_percent must hold 1–10 whole percents, each 1–1000');
      const monthStartDay = b.month_start_day ?? null;
      if (monthStartDay !== null && (monthStartDay < 1 || monthStartDay > 28)) throw invalidCap('month_start_day must be 1–28 (every month has those days)');
      if (b.month_start_day !== undefined && ctx.config.usage.monthStartDay !== null && monthStartDay !== ctx.config.usage.monthStartDay) {
        throw new HttpError(409, 'MONTH_START_DAY_FROM_ENV', `NETPULSE_MONTH_START_DAY=${ctx.config.usage.monthStartDay} is set and wins; unset it to change the day here`);
      }
      const interfaceName = b.interface ?? null;
      if (interfaceName !== null) await requireKnownInterface(ctx, interfaceName);
      ctx.alerts.setCap({ limitBytes, interfaceName, direction: direction as CapDirection, thresholdsPercent: thresholds, monthStartDay: ctx.config.usage.monthStartDay !== null ? null : monthStartDay });
      await ctx.alerts.evaluate();
      return dataCapView(ctx);
    },
  );

  app.get(
    '/api/alerts',
    {
      schema: {
        tags: ['usage'],
        summary: 'Data-cap alerts that fired, newest first: threshold crossings and month-end projections over the cap, each once per billing month',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: withErrors({
          200: Type.Object({
            webhook_configured: Type.Boolean(),
            alerts: Type.Array(
              Type.Object({
                id: Type.Integer(),
                kind: Type.String({ enum: ['threshold', 'projection'] }),
                threshold_percent: Type.Integer({ description: 'The threshold crossed; 100 for a projection' }),
                scope: Type.String({ description: '"total" or "interface:<name>"' }),
                interface: NullableString,
                period_start: Type.String(),
                period_end: Type.String(),
                limit_bytes: Count,
                used_bytes: Count,
                projected_bytes: Type.Unsafe<bigint | null>({ type: 'integer', nullable: true }),
                percent_used: Type.Number(),
                fired_at: Type.String(),
                message: Type.String(),
                webhook: Type.Object({
                  status: Type.String({ enum: ['not_configured', 'pending', 'delivered', 'failed'] }),
                  attempts: Type.Integer(),
                  last_error: NullableString,
                }),
              }),
            ),
          }),
        }),
      },
    },
    async (req) => ({ webhook_configured: ctx.config.usage.alertWebhookUrl !== null, alerts: ctx.alerts.list(req.query.limit).map(apiAlert) }),
  );
}

