import { Readable } from 'node:stream';
import { Type } from '../type.js';
import { COUNTER_COLUMNS } from '../../storage/counter-columns.js';
import type { RunsRepo } from '../../storage/runs-repo.js';
import type { Tier, TrafficRepo } from '../../storage/traffic-repo.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { badRequest } from '../errors.js';
import { InterfaceNameParam } from '../schemas.js';
import { requireKnownInterface } from './interfaces.js';
import { parseTime } from './traffic.js';

export type ExportFormat = 'json' | 'csv';
export type ExportResolution = 'raw' | 'minute' | 'hour' | 'day' | 'runs';

const TIER_OF: Record<Exclude<ExportResolution, 'raw' | 'runs'>, Tier> = { minute: 'traffic_1m', hour: 'traffic_1h', day: 'traffic_1d' };
const CHUNK_ROWS = 500;

/**
 * Streams stored traffic as CSV or JSON, a chunk of rows at a time: a year of data never sits in memory.
 * Shared by GET /api/export/traffic and `netpulse export`.
 */
export function exportTraffic(
  traffic: TrafficRepo,
  options: { format: ExportFormat; resolution: ExportResolution; interfaceName: string | null; fromSec: number; toSec: number },
  runs?: RunsRepo,
): Readable {
  if (options.resolution === 'runs') return exportRuns(runs, options);
  const source = options.resolution === 'raw' ? 'raw' : TIER_OF[options.resolution];
  const rows = traffic.iterate(source, options.interfaceName, options.fromSec, options.toSec);
  const header = ['timestamp', 'interface_name', ...(source === 'raw' ? ['span_seconds'] : []), ...COUNTER_COLUMNS];
  let started = false;
  let first = true;
  return new Readable({
    read() {
      let out = '';
      if (!started) {
        started = true;
        out += options.format === 'csv' ? header.join(',') + '\n' : '{"data":[';
      }
      for (let i = 0; i < CHUNK_ROWS; i++) {
        const next = rows.next();
        if (next.done) {
          if (options.format === 'json') out += ']}\n';
          this.push(out);
          this.push(null);
          return;
        }
        const r = next.value as unknown as Record<string, unknown>;
        const ts = new Date(Number(r.timestamp ?? r.bucket_start) * 1000).toISOString();
        if (options.format === 'csv') {
          const name = String(r.interface_name);
          out += [ts, /[",\n]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name, ...(source === 'raw' ? [String(r.span_seconds)] : []), ...COUNTER_COLUMNS.map((c) => String(r[c]))].join(',') + '\n';
        } else {
          const fields = [`"timestamp":"${ts}"`, `"interface_name":${JSON.stringify(r.interface_name)}`];
          if (source === 'raw') fields.push(`"span_seconds":${String(r.span_seconds)}`);
          for (const c of COUNTER_COLUMNS) fields.push(`"${c}":${String(r[c])}`);
          out += (first ? '' : ',') + '{' + fields.join(',') + '}';
          first = false;
        }
      }
      this.push(out);
    },
  });
}

/** When the collector ran (collector_runs), for a backup that restores null-versus-zero buckets too. */
function exportRuns(runs: RunsRepo | undefined, options: { format: ExportFormat; fromSec: number; toSec: number }): Readable {
  const iso = (sec: number | null) => (sec === null ? null : new Date(sec * 1000).toISOString());
  const rows = (runs?.overlapping(options.fromSec, options.toSec) ?? []).map((r) => ({ started_at: iso(r.startedAt), last_poll_at: iso(r.lastPollAt), ended_at: iso(r.endedAt) }));
  const text =
    options.format === 'csv'
      ? ['started_at,last_poll_at,ended_at', ...rows.map((r) => `${r.started_at},${r.last_poll_at},${r.ended_at ?? ''}`)].join('\n') + '\n'
      : `{"data":[${rows.map((r) => JSON.stringify(r)).join(',')}]}\n`;
  return Readable.from([text]);
}

export function registerExportRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/export/traffic',
    {
      schema: {
        tags: ['export'],
        summary: 'Download stored traffic as CSV or JSON, streamed',
        description: 'resolution: raw samples (kept for the raw retention), minute/hour/day rollups, or runs (when the collector ran: what tells no data from no traffic). Counts are exact integers. `netpulse import` reads every one back.',
        querystring: Type.Object({
          format: Type.String({ enum: ['json', 'csv'], default: 'json' }),
          resolution: Type.String({ enum: ['raw', 'minute', 'hour', 'day', 'runs'], default: 'raw' }),
          interface: Type.Optional(InterfaceNameParam),
          start: Type.Optional(Type.String({ description: 'ISO 8601 or unix seconds; default: everything' })),
          end: Type.Optional(Type.String({ description: 'ISO 8601 or unix seconds; default: now' })),
        }),
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (q.interface !== undefined) await requireKnownInterface(ctx, q.interface);
      const fromSec = parseTime(q.start, 'start') ?? 0;
      // Ceil: samples are stamped with their read time rounded to the second, so the newest may be ahead of floor(now).
      const toSec = (parseTime(q.end, 'end') ?? Math.ceil(ctx.now() / 1000)) + 1;
      if (fromSec >= toSec) throw badRequest('INVALID_RANGE', 'start must be before end');
      const format = q.format as ExportFormat;
      const stream = exportTraffic(ctx.traffic, { format, resolution: q.resolution as ExportResolution, interfaceName: q.interface ?? null, fromSec, toSec }, ctx.runs);
      const stamp = new Date(ctx.now()).toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="netpulse-traffic-${stamp}.${format}"`)
        .send(stream);
    },
  );
}
