import { Type } from '../type.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { Count, ErrorBody, NullableString, withErrors } from '../schemas.js';

const Status = Type.Object({
  running: Type.Boolean(),
  interval_seconds: Type.Integer(),
  monitored_interfaces: Type.Array(Type.String()),
  polls: Type.Integer(),
  failed_polls: Type.Integer(),
  skipped_ticks: Type.Integer(),
  last_poll_at: NullableString,
  next_poll_at: NullableString,
  last_error: NullableString,
  first_data_at: NullableString,
  started_at: NullableString,
  poll_duration_us_median: Type.Unsafe<number | null>({ type: 'number', nullable: true }),
  /** Polls held in memory until the next commit (answers include them); see NETPULSE_COMMIT_INTERVAL. */
  pending_polls: Type.Integer(),
  commits: Type.Integer(),
  /** rtnetlink link events (issue #8): on, or off and why; messages the kernel dropped (socket buffer full). */
  link_events: Type.Object({ on: Type.Boolean(), reason: NullableString, lost_messages: Type.Integer() }),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function collectorStatus(ctx: AppContext) {
  const s = ctx.collector.stats();
  const first = ctx.runs.firstStart();
  return {
    running: s.running,
    interval_seconds: ctx.settings.interval().intervalSec,
    monitored_interfaces: ctx.settings.monitoredList(),
    polls: s.polls,
    failed_polls: s.failedPolls,
    skipped_ticks: s.skippedTicks,
    last_poll_at: iso(s.lastPollAtMs),
    next_poll_at: iso(s.nextPollAtMs),
    last_error: s.lastError,
    first_data_at: first === null ? null : new Date(first * 1000).toISOString(),
    started_at: iso(s.startedAtMs),
    poll_duration_us_median: median(s.recentDurationsUs),
    pending_polls: s.pendingPolls,
    commits: s.commits,
    link_events: { on: ctx.linkEvents?.on ?? false, reason: ctx.linkEvents === undefined ? 'not started' : ctx.linkEvents.reason, lost_messages: ctx.linkEvents?.lost ?? 0 },
  };
}

const Sample = Type.Object({
  interface: Type.String(),
  start: Type.String(),
  end: Type.String(),
  rx_bytes: Count,
  tx_bytes: Count,
  rx_packets: Count,
  tx_packets: Count,
});

export function registerCollectorRoutes(app: App, ctx: AppContext): void {
  const tags = ['collector'];
  app.get('/collector/status', { schema: { tags, summary: 'Whether the collector runs, its interval, last and next poll', response: { 200: Status } } }, async () => collectorStatus(ctx));

  app.post('/collector/start', { schema: { tags, summary: 'Start polling on the configured interval', security: [{ bearer: [] }], response: withErrors({ 200: Status }) } }, async () => {
    ctx.collector.start(ctx.settings.interval().intervalSec);
    return collectorStatus(ctx);
  });

  app.post('/collector/stop', { schema: { tags, summary: 'Stop polling (the server keeps answering)', security: [{ bearer: [] }], response: withErrors({ 200: Status }) } }, async () => {
    ctx.collector.stop();
    return collectorStatus(ctx);
  });

  app.post(
    '/collector/collect',
    {
      schema: {
        tags,
        summary: 'Poll now and store what crossed since the last poll',
        security: [{ bearer: [] }],
        response: withErrors({ 200: Type.Object({ baseline: Type.Boolean(), at: Type.String(), duration_us: Type.Number(), samples: Type.Array(Sample) }), 503: ErrorBody }),
      },
    },
    async () => {
      const result = await ctx.collector.pollNow();
      if (result === null) {
        throw new HttpError(503, 'COLLECT_FAILED', `the counters could not be read: ${ctx.collector.stats().lastError ?? 'unknown error'}`);
      }
      return {
        baseline: result.baseline,
        at: new Date(result.atMs).toISOString(),
        duration_us: result.durationUs,
        samples: result.samples.map((s) => ({
          interface: s.interfaceName,
          start: new Date(s.startSec * 1000).toISOString(),
          end: new Date(s.endSec * 1000).toISOString(),
          rx_bytes: s.counters.rxBytes,
          tx_bytes: s.counters.txBytes,
          rx_packets: s.counters.rxPackets,
          tx_packets: s.counters.txPackets,
        })),
      };
    },
  );
}
