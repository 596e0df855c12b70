import { Type } from '../type.js';
import type { TrafficAnswer, TrafficBucket } from '../../services/traffic-service.js';
import type { RawRow } from '../../storage/traffic-repo.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { compareInterfaceNames } from '../../collector/interface-name.js';
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

/** One rendered answer: its buckets' values and its JSON, with where each point's text starts in it. */
interface Rendered {
  /** Per bucket: start, end, covered seconds (NaN: null), then the four sums (NaN: null), as doubles (exact: all safe integers). */
  values: Float64Array;
  body: Buffer;
  /** offsets[i]: the first byte of point i's text in body; offsets[n]: one past the last point's comma. */
  offsets: Uint32Array;
}

/**
 * The JSON text of the last answers, reused for the buckets a later answer has with the same values
 * (compared value by value, so nothing needs invalidating): a chart reload renders only the buckets that
 * changed, usually the newest, and copies the rest as bytes. Keyed by tier, bucket length, zone and
 * interfaces; the least recently used key goes first.
 */
export class TrafficJsonCache {
  private readonly byKey = new Map<string, Rendered>();
  constructor(private readonly maxKeys = 4) {}

  /** The previous answer of `key`, forgotten until keep() hands the new one. */
  take(key: string): Rendered | undefined {
    const r = this.byKey.get(key);
    this.byKey.delete(key);
    return r;
  }

  keep(key: string, rendered: Rendered): void {
    this.byKey.set(key, rendered);
    while (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
  }
}

const STRIDE = 7;

/**
 * The bucket's values as doubles into v at i * STRIDE; false when a count is a BigInt (past 2^53: such an
 * answer is not kept). Flat numbers rather than the bucket objects, so that what is kept between requests is
 * one array the garbage collector never walks.
 */
function putValues(v: Float64Array, i: number, b: TrafficBucket): boolean {
  const o = i * STRIDE;
  v[o] = b.startSec;
  v[o + 1] = b.endSec;
  v[o + 2] = b.coveredSec ?? NaN;
  if (b.sums === null) {
    v[o + 3] = v[o + 4] = v[o + 5] = v[o + 6] = NaN;
    return true;
  }
  const { rx_bytes, tx_bytes, rx_packets, tx_packets } = b.sums;
  if (typeof rx_bytes !== 'number' || typeof tx_bytes !== 'number' || typeof rx_packets !== 'number' || typeof tx_packets !== 'number') return false;
  v[o + 3] = rx_bytes;
  v[o + 4] = tx_bytes;
  v[o + 5] = rx_packets;
  v[o + 6] = tx_packets;
  return true;
}

/** Whether the values at v[i * STRIDE] are bucket b's (NaN stands for null). */
function sameValues(v: Float64Array, i: number, b: TrafficBucket): boolean {
  const o = i * STRIDE;
  if (v[o] !== b.startSec || v[o + 1] !== b.endSec) return false;
  if (b.coveredSec === null ? v[o + 2] === v[o + 2] : v[o + 2] !== b.coveredSec) return false;
  const sums = b.sums;
  if (sums === null) return v[o + 3] !== v[o + 3];
  return v[o + 3] === sums.rx_bytes && v[o + 4] === sums.tx_bytes && v[o + 5] === sums.rx_packets && v[o + 6] === sums.tx_packets;
}

function pointJson(ts: string, b: TrafficBucket): string {
  return b.sums === null
    ? `{"timestamp":"${ts}","rx_bytes":null,"tx_bytes":null,"rx_packets":null,"tx_packets":null,"covered_seconds":null}`
    : `{"timestamp":"${ts}","rx_bytes":${count(b.sums.rx_bytes)},"tx_bytes":${count(b.sums.tx_bytes)},"rx_packets":${count(b.sums.rx_packets)},"tx_packets":${count(b.sums.tx_packets)},"covered_seconds":${count(b.coveredSec)}}`;
}

type TrafficMeta = { interface: string | null; interfaces: readonly string[]; timeWindowHours: number; groupMinutes: number; timezone: string };

function trafficHead(): string {
  return '{"data":[';
}

function trafficTail(answer: TrafficAnswer, meta: TrafficMeta): string {
  return (
    `],"interface":${JSON.stringify(meta.interface)},"interfaces":${JSON.stringify(meta.interfaces)},` +
    `"time_window_hours":${JSON.stringify(meta.timeWindowHours)},"group_minutes":${meta.groupMinutes},` +
    `"bucket_seconds":${answer.bucketSeconds},"timezone":${JSON.stringify(meta.timezone)},` +
    `"start":"${new Date(answer.startSec * 1000).toISOString()}","end":"${new Date(answer.endSec * 1000).toISOString()}"}`
  );
}

/** GET /api/traffic's body (TrafficResponse) as JSON text; counts exact (BigInt past 2^53). */
export function trafficJson(answer: TrafficAnswer, meta: TrafficMeta): string {
  const iso = createIsoFormatter();
  const points = new Array<string>(answer.buckets.length);
  for (let i = 0; i < answer.buckets.length; i++) points[i] = pointJson(iso(answer.buckets[i]!.startSec), answer.buckets[i]!);
  return `${trafficHead()}${points.join(',')}${trafficTail(answer, meta)}`;
}

/**
 * The same text as trafficJson, as bytes, copying the points the cache already holds with the same values.
 * What the cache keeps is the new answer.
 */
export function trafficJsonBytes(answer: TrafficAnswer, meta: TrafficMeta, cache: TrafficJsonCache): Buffer {
  const key = `${answer.tier}|${answer.bucketSeconds}|${meta.timezone}|${meta.interfaces.join(',')}`;
  const prev = cache.take(key);
  const n = answer.buckets.length;
  // The run of leading buckets the previous answer rendered with the same values.
  let k = -1;
  let run = 0;
  if (prev !== undefined && n > 0) {
    const first = answer.buckets[0]!.startSec;
    const prevN = prev.offsets.length - 1;
    let lo = 0;
    let hi = prevN;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prev.values[mid * STRIDE]! < first) lo = mid + 1;
      else hi = mid;
    }
    if (lo < prevN && prev.values[lo * STRIDE] === first) {
      k = lo;
      while (run < n && k + run < prevN && sameValues(prev.values, k + run, answer.buckets[run]!)) run++;
    }
  }
  const head = Buffer.from(trafficHead());
  const reused = run > 0 ? prev!.body.subarray(prev!.offsets[k]!, prev!.offsets[k + run]!) : Buffer.alloc(0); // each point with its comma
  const iso = createIsoFormatter();
  const fresh = new Array<string>(n - run);
  // The previous answer's arrays are written over in place when the size is the same (a chart reload): each
  // index is read (k + i >= i) before it is written. Fewer external allocations, fewer GCs they would start.
  const offsets = prev !== undefined && prev.offsets.length === n + 1 ? prev.offsets : new Uint32Array(n + 1);
  let at = head.length;
  for (let i = 0; i < run; i++) {
    offsets[i] = at;
    at += prev!.offsets[k + i + 1]! - prev!.offsets[k + i]!;
  }
  for (let i = run; i < n; i++) {
    const text = `${pointJson(iso(answer.buckets[i]!.startSec), answer.buckets[i]!)},`;
    fresh[i - run] = text;
    offsets[i] = at;
    at += text.length; // ASCII: digits, ISO dates, fixed keys
  }
  offsets[n] = at;
  const freshBytes = Buffer.from(fresh.join(''));
  // The points end with a comma each: the tail overwrites the last one.
  const tail = Buffer.from(trafficTail(answer, meta));
  const pointsEnd = n > 0 ? at - 1 : at;
  const body = Buffer.allocUnsafe(pointsEnd + tail.length);
  head.copy(body, 0);
  reused.copy(body, head.length);
  if (run > 0) body[head.length + reused.length - 1] = 0x2c; // the reused run may have been the last, ended by ']'
  freshBytes.copy(body, head.length + reused.length, 0, Math.max(0, pointsEnd - head.length - reused.length));
  tail.copy(body, pointsEnd);
  const values = prev !== undefined && prev.values.length === n * STRIDE ? prev.values : new Float64Array(n * STRIDE);
  let exact = true;
  for (let i = 0; i < n && exact; i++) exact = putValues(values, i, answer.buckets[i]!);
  if (exact) cache.keep(key, { values, body, offsets });
  return body;
}

export function registerTrafficRoutes(app: App, ctx: AppContext): void {
  const tags = ['traffic'];
  const jsonCache = new TrafficJsonCache();

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
      const body = trafficJsonBytes(answer, {
        interface: name ?? null,
        interfaces,
        timeWindowHours: windowHours,
        groupMinutes,
        timezone: ctx.config.timezone,
      }, jsonCache);
      // The bytes are already the JSON of TrafficResponse: Fastify sends a Buffer as is (the typed reply expects the object).
      return reply.type('application/json; charset=utf-8').send(body as unknown as Parameters<typeof reply.send>[0]);
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
      const rows = [...byInterface].sort(([a], [b]) => compareInterfaceNames(a, b)).map(([interface_name, sums]) => ({ interface_name, ...sums }));
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
