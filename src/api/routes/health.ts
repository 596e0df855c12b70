import { Type } from '../type.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { NullableString } from '../schemas.js';

const Health = Type.Object({
  status: Type.String({ enum: ['ok', 'degraded'] }),
  version: Type.String(),
  uptime_seconds: Type.Integer(),
  collector_running: Type.Boolean(),
  last_poll_at: NullableString,
  database: Type.String({ enum: ['ok', 'error'] }),
});

export function healthOf(ctx: AppContext) {
  let database: 'ok' | 'error' = 'ok';
  try {
    ctx.db.prepare('SELECT 1').get();
  } catch {
    database = 'error';
  }
  const stats = ctx.collector.stats();
  return {
    status: database === 'ok' ? ('ok' as const) : ('degraded' as const),
    version: ctx.version,
    uptime_seconds: Math.floor((ctx.now() - ctx.startedAtMs) / 1000),
    collector_running: stats.running,
    last_poll_at: stats.lastPollAtMs === null ? null : new Date(stats.lastPollAtMs).toISOString(),
    database,
  };
}

export function registerHealthRoutes(app: App, ctx: AppContext): void {
  for (const url of ['/health', '/api/health']) {
    app.get(url, { schema: { tags: ['health'], summary: 'Liveness: the server answers and the database opens', response: { 200: Health, 503: Health } } }, async (_req, reply) => {
      const h = healthOf(ctx);
      return reply.status(h.database === 'ok' ? 200 : 503).send(h);
    });
  }
}
