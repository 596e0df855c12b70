/**
 * Per-host totals (issue #9): GET /api/flows/status, GET /api/hosts, GET /api/hosts/{id}/traffic,
 * PUT /api/hosts/{id}. Only types come from src/flows here: the feature itself is loaded by the server, and
 * only when NETPULSE_FLOWS=on.
 */
import { Type } from '../type.js';
import type { HostsApi } from '../../flows/index.js';
import { flowsOffStatus } from '../../shared/flows-status.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, notFound } from '../errors.js';
import { Count, ErrorBody, NullableString, withErrors } from '../schemas.js';
import { trafficJson } from './traffic.js';

const MAX_WINDOW_HOURS = 87_600;

const Part = Type.Object({ on: Type.Boolean(), reason: Type.String() });
const FlowsStatusSchema = Type.Object({
  enabled: Type.Boolean({ description: 'NETPULSE_FLOWS=on' }),
  mode: Type.Unsafe<'router' | 'host' | null>({ type: 'string', enum: ['router', 'host'], nullable: true, description: 'router: forwarding on, LAN clients counted; host: remote peers' }),
  parts: Type.Object({ hosts: Part, flows: Part, classify: Part }),
  capabilities: Type.Optional(
    Type.Object({
      net_admin: Type.Boolean(),
      nft: Type.Unsafe<string | null>({ type: 'string', enum: ['libnftables', 'nft'], nullable: true }),
      forwarding: Type.Boolean(),
    }),
  ),
});

const HostIdParam = Type.Object({
  id: Type.String({ minLength: 4, maxLength: 64, pattern: '^(mac|ip)-[0-9A-Za-z.-]+$', description: 'A host id from GET /api/hosts (mac-… or ip-…)' }),
});

const Host = Type.Object({
  id: Type.String(),
  addresses: Type.Array(Type.String()),
  mac: NullableString,
  name: NullableString,
  name_source: Type.Unsafe<string | null>({ type: 'string', enum: ['user', 'leases', 'hosts', 'dns'], nullable: true }),
  rx_bytes: Count,
  tx_bytes: Count,
  rx_packets: Count,
  tx_packets: Count,
});

const errors409 = { 409: ErrorBody };

/** The hosts part, or a 409 that says why it is off. */
function requireHosts(ctx: AppContext): HostsApi {
  if (ctx.flows === null) throw new HttpError(409, 'FLOWS_OFF', flowsOffStatus().parts.hosts.reason);
  if (ctx.flows.hosts === null) throw new HttpError(409, 'HOSTS_OFF', `per-host totals are off: ${ctx.flows.status().parts.hosts.reason}`);
  return ctx.flows.hosts;
}

export function registerHostRoutes(app: App, ctx: AppContext): void {
  const tags = ['hosts'];

  app.get(
    '/api/flows/status',
    { schema: { tags, summary: 'Which part of per-host totals, flows and classification is on, and why a part is off', response: { 200: FlowsStatusSchema } } },
    async () => {
      const status = ctx.flows?.status() ?? flowsOffStatus();
      // The flows and classification half (src/flows/flow-service.ts) reports its own parts.
      const tracking = ctx.flowTracking?.status();
      if (tracking === undefined) return status;
      return { ...status, parts: { ...status.parts, flows: { on: tracking.flows.on, reason: tracking.flows.reason ?? '' }, classify: { on: tracking.classify.on, reason: tracking.classify.reason ?? '' } } };
    },
  );

  app.get(
    '/api/hosts',
    {
      schema: {
        tags,
        summary: 'Bytes per host over the last time_window_hours, busiest first (rx = what the host received)',
        description: 'Router mode: LAN clients (forwarded traffic); host mode: remote peers of this machine. Exact at L3 (IP bytes).',
        querystring: Type.Object({
          time_window_hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS, default: 24 }),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        }),
        response: { ...withErrors({ 200: Type.Object({ mode: Type.String({ enum: ['router', 'host'] }), data: Type.Array(Host) }) }), ...errors409 },
      },
    },
    async (req) => {
      const hosts = requireHosts(ctx);
      const rows = hosts.list(req.query.time_window_hours, req.query.limit);
      return {
        mode: hosts.mode,
        data: rows.map((h) => ({
          id: h.id,
          addresses: h.addresses,
          mac: h.mac,
          name: h.name,
          name_source: h.userName !== null ? 'user' : h.nameSource,
          rx_bytes: h.rxBytes,
          tx_bytes: h.txBytes,
          rx_packets: h.rxPackets,
          tx_packets: h.txPackets,
        })),
      };
    },
  );

  app.get(
    '/api/hosts/:id/traffic',
    {
      schema: {
        tags,
        summary: "One host's traffic in buckets, the same buckets (and nulls where hosts were not counted) as /api/traffic",
        params: HostIdParam,
        querystring: Type.Object({
          time_window_hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WINDOW_HOURS }),
          group_minutes: Type.Integer({ minimum: 1, maximum: 366 * 1440 }),
        }),
        response: { ...withErrors({}), ...errors409 },
      },
    },
    async (req, reply) => {
      const hosts = requireHosts(ctx);
      const host = hosts.get(req.params.id);
      if (host === null) throw notFound('UNKNOWN_HOST', `no host ${req.params.id} (GET /api/hosts lists them)`);
      const { time_window_hours: windowHours, group_minutes: groupMinutes } = req.query;
      const answer = hosts.traffic(host.id, windowHours, groupMinutes);
      const body = trafficJson(answer, { interface: null, interfaces: [], timeWindowHours: windowHours, groupMinutes, timezone: ctx.config.timezone });
      // /api/traffic's body plus the host it is for.
      const withHost = `${body.slice(0, -1)},"host":${JSON.stringify({ id: host.id, name: host.name, addresses: host.addresses, mac: host.mac })}}`;
      return reply.type('application/json; charset=utf-8').serializer((text: string) => text).send(withHost as unknown as Parameters<typeof reply.send>[0]);
    },
  );

  app.put(
    '/api/hosts/:id',
    {
      schema: {
        tags,
        summary: "Name a host (the user's name wins over DHCP leases, /etc/hosts and reverse DNS); null or \"\" clears it",
        security: [{ bearer: [] }],
        params: HostIdParam,
        body: Type.Object({ name: Type.Unsafe<string | null>({ type: 'string', maxLength: 64, nullable: true, pattern: '^[^\\u0000-\\u001f]*$' }) }, { additionalProperties: false }),
        response: { ...withErrors({ 200: Type.Object({ id: Type.String(), name: NullableString }) }), ...errors409 },
      },
      preValidation: async (req: { body: unknown }) => {
        const b = req.body as Record<string, unknown> | null;
        if (typeof b !== 'object' || b === null || Array.isArray(b) || !(typeof b.name === 'string' || b.name === null)) {
          throw new HttpError(400, 'VALIDATION_ERROR', 'body must be {"name": "…"} (a string, or null to clear), sent as Content-Type: application/json');
        }
      },
    },
    async (req) => {
      const hosts = requireHosts(ctx);
      if (!hosts.rename(req.params.id, req.body.name)) throw notFound('UNKNOWN_HOST', `no host ${req.params.id} (GET /api/hosts lists them)`);
      return { id: req.params.id, name: hosts.get(req.params.id)?.name ?? null };
    },
  );
}
