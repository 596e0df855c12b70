/**
 * GET /api/traffic/gaps (issue #8): the intervals in which an interface's traffic could not be counted
 * (counter_gaps, migration 004) — counters that jumped beyond what the link can carry (a reset to huge values,
 * a replaced device, a driver glitch) and deltas that could not be stored. A chart marks them; /api/traffic
 * itself is unchanged.
 */
import { Type } from '../type.js';
import { createGapsRepo } from '../../storage/gaps-repo.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { InterfaceNameParam, withErrors } from '../schemas.js';

const MAX_WINDOW_HOURS = 87_600;

const Gap = Type.Object({
  interface: Type.String(),
  start: Type.String({ description: 'Start of the interval not counted, ISO 8601 UTC' }),
  end: Type.String({ description: 'End of the interval not counted, ISO 8601 UTC' }),
  reason: Type.Union([Type.Literal('implausible'), Type.Literal('unstorable')], {
    description: 'implausible: the counters moved more than the link can carry (nothing counted, the new reading is the baseline); unstorable: a delta that could not be stored',
  }),
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'What was seen: the counter, its delta and limit, the readings compared (counters as decimal strings)' }),
});

export function registerGapRoutes(app: App, ctx: AppContext): void {
  const gaps = createGapsRepo(ctx.db);
  app.get(
    '/api/traffic/gaps',
    {
      schema: {
        tags: ['traffic'],
        summary: 'Intervals whose traffic could not be counted (counter resets to implausible values, unstorable deltas), oldest first',
        querystring: Type.Object({
          time_window_hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, default: 24, description: 'Window length in hours, ending now' }),
          interface: Type.Optional(InterfaceNameParam),
        }),
        response: withErrors({
          200: Type.Object({ data: Type.Array(Gap), interface: Type.Unsafe<string | null>({ type: 'string', nullable: true }), time_window_hours: Type.Number(), start: Type.String(), end: Type.String() }),
        }),
      },
    },
    async (req) => {
      const { time_window_hours: windowHours, interface: name } = req.query;
      // The collector's pending polls first, as every read does (their gaps commit with them).
      try {
        ctx.collector.flush();
      } catch (err) {
        req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'committing pending polls before a read failed; answering from the database');
      }
      const toSec = Math.ceil(ctx.now() / 1000) + 1;
      const fromSec = toSec - 1 - Math.round(windowHours * 3600);
      const iso = (sec: number) => new Date(sec * 1000).toISOString();
      const data = gaps.overlapping(fromSec, toSec, name ?? null).map((g) => ({ interface: g.interfaceName, start: iso(g.startSec), end: iso(g.endSec), reason: g.reason, detail: g.detail }));
      return { data, interface: name ?? null, time_window_hours: windowHours, start: iso(fromSec), end: iso(toSec - 1) };
    },
  );
}
