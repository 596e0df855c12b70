/**
 * Flows and classification (issue #9): the flows table, its live stream, traffic by category and the
 * editable category table. They answer 503 FLOWS_OFF unless NETPULSE_FLOWS=on started flow tracking.
 * Only types come from src/flows here: the flow code itself is loaded by the server when it is turned on.
 */
import net from 'node:net';
import { Type } from '../type.js';
import type { FlowTracking } from '../../flows/flow-service.js';
import { TRAFFIC_CATEGORIES } from '../../shared/traffic-categories.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, badRequest } from '../errors.js';
import { Count, NullableString, withErrors } from '../schemas.js';

const MAX_WINDOW_HOURS = 24 * 366 * 5;

function tracking(ctx: AppContext): FlowTracking {
  if (ctx.flowTracking == null) throw new HttpError(503, 'FLOWS_OFF', 'flow tracking is off: start Net-Pulse with NETPULSE_FLOWS=on (it needs CAP_NET_ADMIN)');
  const { flows } = ctx.flowTracking.status();
  if (!flows.on) throw new HttpError(503, 'FLOWS_OFF', `flow tracking is off: ${flows.reason ?? 'not started'}`);
  return ctx.flowTracking;
}

function checkHost(host: string | undefined): void {
  if (host !== undefined && net.isIP(host) === 0) throw badRequest('INVALID_HOST', `host must be an IPv4 or IPv6 address, not ${JSON.stringify(host)}`);
}

const Category = Type.String({ enum: [...TRAFFIC_CATEGORIES] });
const HostParam = Type.String({ minLength: 1, maxLength: 64, description: 'A host address: flows from or to it' });

const FlowSchema = Type.Object({
  protocol: Type.String(),
  src_address: Type.String(),
  src_port: Type.Integer(),
  dst_address: Type.String(),
  dst_port: Type.Integer(),
  orig_bytes: Count,
  reply_bytes: Count,
  orig_packets: Count,
  reply_packets: Count,
  category: Category,
  domain: NullableString,
  started_at: Type.String(),
  ended_at: NullableString,
  host: Type.String({ description: 'The LAN side of the flow (NETPULSE_LAN_CIDRS), else its source' }),
});

const DomainRuleSchema = Type.Object({ suffix: Type.String({ minLength: 1, maxLength: 253 }), category: Category }, { additionalProperties: false });
const PortRuleSchema = Type.Object(
  {
    protocol: Type.String({ enum: ['tcp', 'udp', 'any'] }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    port_end: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    category: Category,
  },
  { additionalProperties: false },
);
const CategoryTableBody = Type.Object(
  {
    domains: Type.Array(DomainRuleSchema, { maxItems: 5000 }),
    ports: Type.Array(PortRuleSchema, { maxItems: 500 }),
  },
  { additionalProperties: false },
);
const CategoryTableAnswer = Type.Object({
  custom: Type.Boolean({ description: 'false: the table shipped with Net-Pulse' }),
  categories: Type.Array(Type.String()),
  domains: Type.Array(DomainRuleSchema),
  ports: Type.Array(PortRuleSchema),
});

function tableView(ft: FlowTracking) {
  const { table, custom } = ft.categoryTable();
  return {
    custom,
    categories: [...TRAFFIC_CATEGORIES],
    domains: table.domains.map((d) => ({ suffix: d.suffix, category: d.category })),
    ports: table.ports.map((p) => ({ protocol: p.protocol, port: p.port, ...(p.portEnd !== undefined ? { port_end: p.portEnd } : {}), category: p.category })),
  };
}

export function registerFlowRoutes(app: App, ctx: AppContext): void {
  const tags = ['flows'];

  app.get(
    '/api/flows',
    {
      schema: {
        tags,
        summary: 'Active flows (busiest first) or recently ended ones (newest first), from conntrack',
        querystring: Type.Object({
          state: Type.String({ enum: ['active', 'recent'], default: 'active' }),
          host: Type.Optional(HostParam),
          limit: Type.Integer({ minimum: 1, maximum: 5000, default: 100 }),
        }),
        response: withErrors({ 200: Type.Object({ data: Type.Array(FlowSchema) }) }),
      },
    },
    async (req) => {
      const ft = tracking(ctx);
      checkHost(req.query.host);
      return { data: ft.flows({ state: req.query.state as 'active' | 'recent', host: req.query.host, limit: req.query.limit }) };
    },
  );

  app.get(
    '/api/flows/live',
    { schema: { tags, summary: 'Server-sent events: the busiest active flows after every conntrack dump, and the flows that ended', produces: ['text/event-stream'] } },
    async (req, reply) => {
      const ft = tracking(ctx);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 3000\n\n');
      const unsubscribe = ft.subscribe((event) => {
        res.write(`data: ${JSON.stringify(event, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n\n`);
      });
      req.raw.on('close', unsubscribe);
    },
  );

  app.get(
    '/api/traffic/categories',
    {
      schema: {
        tags,
        summary: 'Bytes and flows per traffic category over the last time_window_hours, for every host or one',
        description: 'bytes = orig_bytes + reply_bytes (L3, as conntrack counts); flows = flows that ended in the window.',
        querystring: Type.Object({
          time_window_hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, default: 24 }),
          host: Type.Optional(HostParam),
        }),
        response: withErrors({
          200: Type.Object({
            time_window_hours: Type.Number(),
            start: Type.String(),
            end: Type.String(),
            host: NullableString,
            data: Type.Array(Type.Object({ category: Category, bytes: Count, orig_bytes: Count, reply_bytes: Count, packets: Count, flows: Count })),
          }),
        }),
      },
    },
    async (req) => {
      const ft = tracking(ctx);
      checkHost(req.query.host);
      const endSec = Math.floor(ctx.now() / 1000);
      const startSec = endSec - Math.round(req.query.time_window_hours * 3600);
      // Hour rows: the window starts at the hour that holds its first second.
      const totals = ft.categoryTotals(startSec - (startSec % 3600), endSec + 1, req.query.host ?? null);
      return {
        time_window_hours: req.query.time_window_hours,
        start: new Date(startSec * 1000).toISOString(),
        end: new Date(endSec * 1000).toISOString(),
        host: req.query.host ?? null,
        data: totals.map((t) => ({ category: t.category, bytes: t.origBytes + t.replyBytes, orig_bytes: t.origBytes, reply_bytes: t.replyBytes, packets: t.origPackets + t.replyPackets, flows: t.flows })),
      };
    },
  );

  app.get('/api/config/categories', { schema: { tags, summary: 'The category table: domain suffixes and port fallbacks', response: withErrors({ 200: CategoryTableAnswer }) } }, async () => tableView(tracking(ctx)));

  app.put(
    '/api/config/categories',
    {
      schema: {
        tags,
        summary: 'Replace the category table (a suffix matches the name and every name below it; longest wins)',
        description: 'An empty body object `{}` is refused; send `{"domains": [], "ports": []}` for an empty table. DELETE restores the shipped table.',
        security: [{ bearer: [] }],
        body: CategoryTableBody,
        response: withErrors({ 200: CategoryTableAnswer }),
      },
    },
    async (req) => {
      const ft = tracking(ctx);
      const { validateCategoryTable } = await import('../../flows/categories.js');
      const table = {
        domains: req.body.domains.map((d) => ({ suffix: d.suffix, category: d.category as (typeof TRAFFIC_CATEGORIES)[number] })),
        ports: req.body.ports.map((p) => ({ protocol: p.protocol as 'tcp' | 'udp' | 'any', port: p.port, ...(p.port_end !== undefined ? { portEnd: p.port_end } : {}), category: p.category as (typeof TRAFFIC_CATEGORIES)[number] })),
      };
      const problems = validateCategoryTable(table);
      if (problems.length > 0) throw badRequest('INVALID_CATEGORY_TABLE', problems.slice(0, 5).join('; '));
      ft.setCategoryTable(table);
      return tableView(ft);
    },
  );

  app.delete('/api/config/categories', { schema: { tags, summary: 'Go back to the category table shipped with Net-Pulse', security: [{ bearer: [] }], response: withErrors({ 200: CategoryTableAnswer }) } }, async () => {
    const ft = tracking(ctx);
    ft.setCategoryTable(null);
    return tableView(ft);
  });
}
