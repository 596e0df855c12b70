import fs from 'node:fs';
import os from 'node:os';
import { Type } from '../type.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { median } from './collector.js';
import { healthOf } from './health.js';

function dbSizeBytes(dbPath: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += fs.statSync(dbPath + suffix).size;
    } catch {
      // a missing -wal or -shm file is normal
    }
  }
  return total;
}

let lastCpu = process.cpuUsage();
let lastCpuAt = process.hrtime.bigint();

/** Share of one core used by this process since the previous call (or since start). */
function cpuPercentSinceLastCall(): number {
  const now = process.hrtime.bigint();
  const usage = process.cpuUsage(lastCpu);
  const elapsedUs = Number(now - lastCpuAt) / 1000;
  lastCpu = process.cpuUsage();
  lastCpuAt = now;
  return elapsedUs > 0 ? ((usage.user + usage.system) / elapsedUs) * 100 : 0;
}

export function registerSystemRoutes(app: App, ctx: AppContext): void {
  const tags = ['system'];
  app.get(
    '/api/system/info',
    {
      schema: {
        tags,
        summary: 'The machine and this Net-Pulse: host name, OS, versions, database, time zone',
        response: {
          200: Type.Object({
            hostname: Type.String(),
            platform: Type.String(),
            arch: Type.String(),
            kernel: Type.String(),
            os_uptime_seconds: Type.Integer(),
            node_version: Type.String(),
            netpulse_version: Type.String(),
            timezone: Type.String(),
            database_path: Type.String(),
            database_size_bytes: Type.Integer(),
            started_at: Type.String(),
            cpus: Type.Integer(),
            total_memory_bytes: Type.Integer(),
          }),
        },
      },
    },
    async () => ({
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      kernel: os.release(),
      os_uptime_seconds: Math.floor(os.uptime()),
      node_version: process.version,
      netpulse_version: ctx.version,
      timezone: ctx.config.timezone,
      database_path: ctx.config.dbPath,
      database_size_bytes: dbSizeBytes(ctx.config.dbPath),
      started_at: new Date(ctx.startedAtMs).toISOString(),
      cpus: os.cpus().length,
      total_memory_bytes: os.totalmem(),
    }),
  );

  app.get(
    '/api/system/health',
    {
      schema: {
        tags,
        summary: 'Detailed health: database, collector freshness, disk space for the database',
        response: {
          200: Type.Object({
            status: Type.String({ enum: ['ok', 'degraded'] }),
            checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.String() })),
          }),
        },
      },
    },
    async () => {
      const h = healthOf(ctx);
      const s = ctx.collector.stats();
      const interval = ctx.settings.interval().intervalSec;
      const staleMs = s.lastPollAtMs === null ? null : ctx.now() - s.lastPollAtMs;
      const fresh = !s.running || (staleMs !== null && staleMs <= interval * 3000 + 5000) || (s.lastPollAtMs === null && ctx.now() - ctx.startedAtMs < interval * 2000 + 5000);
      let diskDetail = 'unknown';
      let diskOk = true;
      try {
        const st = fs.statfsSync(ctx.config.dbPath);
        const free = st.bavail * st.bsize;
        diskOk = free > 100 * 1024 * 1024;
        diskDetail = `${(free / 1e9).toFixed(1)} GB free`;
      } catch (err) {
        diskDetail = err instanceof Error ? err.message : String(err);
      }
      const checks = [
        { name: 'database', ok: h.database === 'ok', detail: h.database === 'ok' ? 'opens and answers' : 'does not answer' },
        { name: 'collector', ok: fresh, detail: !s.running ? 'stopped' : s.lastPollAtMs === null ? 'waiting for the first poll' : `last poll ${Math.round((staleMs ?? 0) / 1000)} s ago` },
        { name: 'collector_errors', ok: s.lastError === null, detail: s.lastError ?? `${s.failedPolls} failed polls in ${s.polls + s.failedPolls}` },
        { name: 'disk', ok: diskOk, detail: diskDetail },
      ];
      return { status: checks.every((c) => c.ok) ? ('ok' as const) : ('degraded' as const), checks };
    },
  );

  app.get(
    '/api/system/metrics',
    {
      schema: {
        tags,
        summary: "This process's own cost: memory, CPU since the last call, poll durations, database size",
        response: {
          200: Type.Object({
            rss_bytes: Type.Integer(),
            heap_used_bytes: Type.Integer(),
            cpu_percent: Type.Number(),
            uptime_seconds: Type.Integer(),
            polls: Type.Integer(),
            failed_polls: Type.Integer(),
            poll_duration_us_median: Type.Unsafe<number | null>({ type: 'number', nullable: true }),
            poll_duration_us_max: Type.Unsafe<number | null>({ type: 'number', nullable: true }),
            database_size_bytes: Type.Integer(),
            live_subscribers: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const mem = process.memoryUsage();
      const s = ctx.collector.stats();
      return {
        rss_bytes: mem.rss,
        heap_used_bytes: mem.heapUsed,
        cpu_percent: cpuPercentSinceLastCall(),
        uptime_seconds: Math.floor((ctx.now() - ctx.startedAtMs) / 1000),
        polls: s.polls,
        failed_polls: s.failedPolls,
        poll_duration_us_median: median(s.recentDurationsUs),
        poll_duration_us_max: s.recentDurationsUs.length ? Math.max(...s.recentDurationsUs) : null,
        database_size_bytes: dbSizeBytes(ctx.config.dbPath),
        live_subscribers: ctx.live.subscribers,
      };
    },
  );
}
