import { Type } from '@fastify/type-provider-typebox';
import type { TrafficAnswer } from '../../services/traffic-service.js';
import type { RawRow } from '../../storage/traffic-repo.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { badRequest } from '../errors.js';
import { Count, Counters, InterfaceNameParam, NullableCount, withErrors } from '../schemas.js';
import { requireKnownInterface } from './interfaces.js';

const MAX_WINDOW_HOURS = 87_600; // ten years

const TrafficPoint = Type.Object({
  timestamp: Type.String({ description: 'Bucket start, ISO 8601 UTC' }),
  rx_bytes: NullableCount,
  tx_bytes: NullableCount,
  rx_packets: NullableCount,
  tx_packets: NullableCount,
  covered_seconds: Type.Unsafe<number | null>({
    type: 'integer',
    nullable: true,
    description: 'Seconds of the bucket the collector was running; a rate is bytes / covered_seconds. null when unknown.',
  }),
});

const TrafficResponse = Type.Object({
  data: Type.Array(TrafficPoint),
  interface: Type.Unsafe<string | null>({ type: 'string', nullable: true }),
  interfaces: Type.Array(Type.String()),
  time_window_hours: Type.Number(),
  group_minutes: Type.Integer(),
  bucket_seconds: Type.Integer(),
  timezone: Type.String(),
  start: Type.String(),
  end: Type.String(),
});

const RawSample = Type.Object({
  interface: Type.String(),
  timestamp: Type.String({ description: 'End of the sample, ISO 8601 UTC' }),
  span_seconds: Type.Integer(),
  ...Counters.properties,
});

export function apiRawSample(r: RawRow) {
  return {
    interface: r.interface_name,
    timestamp: new Date(r.timestamp * 1000).toISOString(),
    span_seconds: r.span_seconds,
    rx_bytes: r.rx_bytes,
    tx_bytes: r.tx_bytes,
    rx_packets: r.rx_packets,
    tx_packets: r.tx_packets,
    rx_errors: r.rx_errors,
    tx_errors: r.tx_errors,
    rx_drops: r.rx_drops,
    tx_drops: r.tx_drops,
  };
}

/** Parses an ISO 8601 date-time or unix seconds; undefined stays undefined. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,12}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw badRequest('INVALID_TIME', `${name}="${value}" is neither an ISO 8601 date-time nor unix seconds`);
  }
  return Math.floor(ms / 1000);
}

const count = (v: number | bigint | null): string => (v === null ? 'null' : String(v));

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * ISO 8601 (UTC, .000Z) of whole unix seconds, as Date#toISOString writes it but several times faster for a
 * run of buckets: the date part is formatted once per day.
 */
export function createIsoFormatter(): (sec: number) => string {
  let day = NaN;
  let datePart = '';
  return (sec) => {
    const d = Math.floor(sec / 86400);
    if (d !== day) {
      day = d;
      datePart = new Date(d * 86_400_000).toISOString().slice(0, 11);
    }
    const s = sec - d * 86400;
    return `${datePart}${TWO_DIGITS[Math.floor(s / 3600)]}:${TWO_DIGITS[Math.floor(s / 60) % 60]}:${TWO_DIGITS[s % 60]}.000Z`;
  };
}

/** GET /api/traffic's body (TrafficResponse) as JSON text; counts exact (BigInt past 2^53). */
export function trafficJson(
  answer: TrafficAnswer,
  meta: { interface: string | null; interfaces: readonly string[]; timeWindowHours: number; groupMinutes: number; timezone: string },
): string {
  const iso = createIsoFormatter();
  const points = new Array<string>(answer.buckets.length);
  for (let i = 0; i < answer.buckets.length; i++) {
    const b = answer.buckets[i]!;
    const ts = iso(b.startSec);
    points[i] =
      b.sums === null
        ? `{"timestamp":"${ts}","rx_bytes":null,"tx_bytes":null,"rx_packets":null,"tx_packets":null,"covered_seconds":null}`
        : `{"timestamp":"${ts}","rx_bytes":${count(b.sums.rx_bytes)},"tx_bytes":${count(b.sums.tx_bytes)},"rx_packets":${count(b.sums.rx_packets)},"tx_packets":${count(b.sums.tx_packets)},"covered_seconds":${count(b.coveredSec)}}`;
  }
  return (
    `{"data":[${points.join(',')}],` +
    `"interface":${JSON.stringify(meta.interface)},"interfaces":${JSON.stringify(meta.interfaces)},` +
    `"time_window_hours":${JSON.stringify(meta.timeWindowHours)},"group_minutes":${meta.groupMinutes},` +
    `"bucket_seconds":${answer.bucketSeconds},"timezone":${JSON.stringify(meta.timezone)},` +
    `"start":"${new Date(answer.startSec * 1000).toISOString()}","end":"${new Date(answer.endSec * 1000).toISOString()}"}`
  );
}

export function registerTrafficRoutes(app: App, ctx: AppContext): void {
  const tags = ['traffic'];

  app.get(
    '/api/traffic',
    {
      schema: {
        tags,
        summary: 'Traffic in buckets of group_minutes over the last time_window_hours, for one interface or the sum of the monitored ones',
        description:
          'Buckets are aligned to group_minutes (UTC); a grouping of a day or more is whole calendar days in the configured time zone. A bucket in which the collector was not running has null totals. At most 20,000 buckets.',
        querystring: Type.Object({
          time_window_hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, description: 'Window length in hours (e.g. 1, 24, 168, 8760)' }),
          group_minutes: Type.Integer({ minimum: 1, maximum: 366 * 1440, description: 'Bucket length in minutes; 1440 and its multiples are calendar days' }),
          interface: Type.Optional(InterfaceNameParam),
        }),
        response: withErrors({ 200: TrafficResponse }),
      },
    },
    async (req, reply) => {
      const { time_window_hours: windowHours, group_minutes: groupMinutes, interface: name } = req.query;
      if (name !== undefined) await requireKnownInterface(ctx, name);
      const interfaces = name !== undefined ? [name] : ctx.settings.monitoredList();
      const answer = ctx.trafficService.query({ windowHours, groupMinutes, interfaces });
      // Written by hand rather than through the schema's serializer: a year of hours is 8,760 points, and
      // this is the dashboard's hot path. The shape is exactly TrafficResponse (tests parse it exactly).
      const body = trafficJson(answer, {
        interface: name ?? null,
        interfaces,
        timeWindowHours: windowHours,
        groupMinutes,
        timezone: ctx.config.timezone,
      });
      // The text is already the JSON of TrafficResponse: send it as is (the typed reply expects the object).
      return reply.type('application/json; charset=utf-8').serializer((text: string) => text).send(body as unknown as Parameters<typeof reply.send>[0]);
    },
  );

  app.get(
    '/api/traffic/history',
    {
      schema: {
        tags,
        summary: 'Raw samples (one per poll and interface with traffic), newest first, paged',
        querystring: Type.Object({
          interface: Type.Optional(InterfaceNameParam),
          start: Type.Optional(Type.String({ description: 'ISO 8601 or unix seconds; default 24 hours ago' })),
          end: Type.Optional(Type.String({ description: 'ISO 8601 or unix seconds; default now' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
        }),
        response: withErrors({
          200: Type.Object({ data: Type.Array(RawSample), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer(), start: Type.String(), end: Type.String() }),
        }),
      },
    },
    async (req) => {
      const q = req.query;
      if (q.interface !== undefined) await requireKnownInterface(ctx, q.interface);
      const nowSec = Math.floor(ctx.now() / 1000);
      // Samples are stamped with their read time rounded to the second: the newest may lie up to half a second after nowSec.
      const toSec = (parseTime(q.end, 'end') ?? Math.ceil(ctx.now() / 1000)) + 1;
      const fromSec = parseTime(q.start, 'start') ?? nowSec - 86400;
      if (fromSec >= toSec) throw badRequest('INVALID_RANGE', 'start must be before end');
      const { rows, total } = ctx.traffic.history({ interfaceName: q.interface ?? null, fromSec, toSec, limit: q.limit, offset: q.offset });
      return { data: rows.map(apiRawSample), total, limit: q.limit, offset: q.offset, start: new Date(fromSec * 1000).toISOString(), end: new Date((toSec - 1) * 1000).toISOString() };
    },
  );

  const SummaryRow = Type.Object({ interface: Type.String(), ...Counters.properties });
  app.get(
    '/api/traffic/summary',
    {
      schema: {
        tags,
        summary: 'Totals per interface and for the monitored set over the last `hours` (minute resolution up to its retention, hours beyond)',
        querystring: Type.Object({ hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, default: 24 }) }),
        response: withErrors({ 200: Type.Object({ hours: Type.Number(), start: Type.String(), end: Type.String(), interfaces: Type.Array(SummaryRow), total: Type.Omit(SummaryRow, ['interface']), monitored_interfaces: Type.Array(Type.String()) }) }),
      },
    },
    async (req) => {
      const nowSec = Math.floor(ctx.now() / 1000);
      const fromSec = nowSec - Math.round(req.query.hours * 3600);
      // Whole hours from the hour tier, the partial hours at either end from the minute tier.
      const firstMinute = Math.ceil(fromSec / 60) * 60;
      const firstHour = Math.ceil(fromSec / 3600) * 3600;
      const lastHour = Math.floor(nowSec / 3600) * 3600;
      const parts =
        firstHour < lastHour
          ? [
              ctx.traffic.sumByInterface('traffic_1m', null, firstMinute, firstHour),
              ctx.traffic.sumByInterface('traffic_1h', null, firstHour, lastHour),
              ctx.traffic.sumByInterface('traffic_1m', null, lastHour, nowSec + 60),
            ]
          : [ctx.traffic.sumByInterface('traffic_1m', null, firstMinute, nowSec + 60)];
      const zero = () => ({ rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n, rx_errors: 0n, tx_errors: 0n, rx_drops: 0n, tx_drops: 0n });
      const byInterface = new Map<string, ReturnType<typeof zero>>();
      for (const r of parts.flat()) {
        const sums = byInterface.get(r.interface_name) ?? zero();
        for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += BigInt(r[k]);
        byInterface.set(r.interface_name, sums);
      }
      const rows = [...byInterface].sort(([a], [b]) => a.localeCompare(b)).map(([interface_name, sums]) => ({ interface_name, ...sums }));
      const monitored = ctx.settings.monitored();
      const total = zero();
      for (const r of rows) {
        if (!monitored.has(r.interface_name)) continue;
        for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
      }
      return {
        hours: req.query.hours,
        start: new Date(fromSec * 1000).toISOString(),
        end: new Date(nowSec * 1000).toISOString(),
        interfaces: rows.map(({ interface_name, ...c }) => ({ interface: interface_name, ...c })),
        total,
        monitored_interfaces: [...monitored].sort(),
      };
    },
  );

  app.get(
    '/api/traffic/latest',
    {
      schema: {
        tags,
        summary: 'The newest stored sample of each interface (or of one)',
        querystring: Type.Object({ interface: Type.Optional(InterfaceNameParam) }),
        response: withErrors({ 200: Type.Object({ data: Type.Array(RawSample) }) }),
      },
    },
    async (req) => {
      if (req.query.interface !== undefined) await requireKnownInterface(ctx, req.query.interface);
      return { data: ctx.traffic.latest(req.query.interface ?? null).map(apiRawSample) };
    },
  );
}
