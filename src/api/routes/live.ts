import { Type } from '../type.js';
import type { LiveSnapshot } from '../../collector/live.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { InterfaceNameParam } from '../schemas.js';
import { requireKnownInterface } from './interfaces.js';

function liveEvent(snapshot: LiveSnapshot, only: ReadonlySet<string> | null) {
  return {
    timestamp: new Date(snapshot.timeMs).toISOString(),
    interval_ms: snapshot.intervalMs,
    interfaces: snapshot.rates
      .filter((r) => only === null || only.has(r.name))
      .map((r) => ({
        name: r.name,
        rx_bytes_per_sec: r.rxBytesPerSec,
        tx_bytes_per_sec: r.txBytesPerSec,
        rx_packets_per_sec: r.rxPacketsPerSec,
        tx_packets_per_sec: r.txPacketsPerSec,
      })),
  };
}

export function registerLiveRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/live',
    {
      schema: {
        tags: ['live'],
        summary: 'Server-sent events: current rates from fresh counter reads, one `data:` line a second',
        description: 'Without `interface`: the monitored interfaces; with `all=true`: every interface. Nothing here is stored.',
        querystring: Type.Object({ interface: Type.Optional(InterfaceNameParam), all: Type.Boolean({ default: false }) }),
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      const { interface: name, all } = req.query;
      if (name !== undefined) await requireKnownInterface(ctx, name);
      const only = name !== undefined ? new Set([name]) : all ? null : ctx.settings.monitored();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const unsubscribe = ctx.live.subscribe((snapshot) => {
        res.write(`data: ${JSON.stringify(liveEvent(snapshot, only))}\n\n`);
      });
      req.raw.on('close', unsubscribe);
    },
  );
}
