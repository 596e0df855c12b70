/**
 * /api/qos (issue #10): capabilities, stored config, applied state and per-class counters; store, apply
 * (safe: rollback unless confirmed; dry run), confirm, remove. The QoS room itself (src/qos/) is imported by
 * the server only with NETPULSE_QOS=on; this file imports its types only, so with QoS off nothing is loaded.
 */
import type { Static } from '@fastify/type-provider-typebox';
import { Type } from '../type.js';
import type { LiveCounters, QosAppliedState, QosService } from '../../qos/qos-service.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { Count, ErrorBody, NullableString, withErrors } from '../schemas.js';

const Target = Type.Union([Type.Object({ class: Type.String({ maxLength: 32 }) }, { additionalProperties: false }), Type.Object({ host: Type.String({ maxLength: 64 }) }, { additionalProperties: false })]);

const ClassSchema = Type.Object(
  {
    id: Type.String({ enum: ['voice', 'video', 'web', 'file', 'background'] }),
    name: Type.String({ minLength: 1, maxLength: 32 }),
    share_percent: Type.Integer({ description: 'Guaranteed share of the link, 1–100; all shares add up to ≤ 100' }),
    ceil_percent: Type.Integer({ description: 'May borrow up to this share, ≥ share, ≤ 100' }),
    mark_dscp: Type.Unsafe<string | null>({ type: 'string', nullable: true, maxLength: 8, description: 'DSCP set on the way out (ef, af41, cs1 … or 0–63); null: leave it' }),
  },
  { additionalProperties: false },
);

const RuleSchema = Type.Object(
  {
    class: Type.String({ maxLength: 32, description: 'A class id or name' }),
    dscp: Type.Optional(Type.String({ maxLength: 8 })),
    protocol: Type.Optional(Type.String({ enum: ['tcp', 'udp', 'icmp'] })),
    ports: Type.Optional(Type.Array(Type.Integer(), { maxItems: 64, description: 'Service ports: destination on upload, source on download' })),
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64, description: 'Addresses or CIDRs, as source or destination' })),
    category: Type.Optional(Type.String({ enum: ['voice', 'video', 'web', 'file', 'background', 'other', 'unknown'], description: 'Flow classification’s category, read from the conntrack mark' })),
  },
  { additionalProperties: false },
);

export const QosConfigSchema = Type.Object(
  {
    interface: Type.String({ minLength: 1, maxLength: 15 }),
    upload_kbit: Type.Integer({ description: 'The uplink’s real upload rate, kbit/s' }),
    download_kbit: Type.Unsafe<number | null>({ type: 'integer', nullable: true, description: 'The real download rate, kbit/s; null: download is not shaped (no ifb)' }),
    classes: Type.Array(ClassSchema, { minItems: 5, maxItems: 5, description: 'voice, video, web, file, background — priority in that order' }),
    default_class: Type.String({ maxLength: 32 }),
    rules: Type.Array(RuleSchema, { maxItems: 64 }),
    policers: Type.Array(Type.Object({ target: Target, rate_kbit: Type.Integer(), burst_kbyte: Type.Integer() }, { additionalProperties: false }), { maxItems: 32 }),
    fallback_throttle: Type.Object({ enabled: Type.Boolean(), target: Target, rate_kbit: Type.Integer() }, { additionalProperties: false }),
    keep_on_stop: Type.Boolean(),
  },
  { additionalProperties: false },
);

const Cap = Type.Object({ available: Type.Boolean(), reason: NullableString });
const Live = Type.Unsafe<LiveCounters | null>({
  ...Type.Object({ bytes: Count, packets: Count, drops: Count, overlimits: Count, backlog_bytes: Count, qlen: Count, rate_bits_per_sec: Type.Unsafe<number | null>({ type: 'integer', nullable: true }) }),
  nullable: true,
});
const ClassLiveSchema = Type.Object({ id: Type.String(), name: Type.String(), classid: Type.String(), upload: Live, download: Live });
const PlannedClassSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  classid: Type.String(),
  prio: Type.Integer(),
  upload: Type.Object({ rate_kbit: Type.Integer(), ceil_kbit: Type.Integer() }),
  download: Type.Unsafe<Record<string, number> | null>({ ...Type.Object({ rate_kbit: Type.Integer(), ceil_kbit: Type.Integer() }), nullable: true }),
});
const AppliedSchema = Type.Unsafe<Record<string, unknown> | null>({
  ...Type.Object({
    phase: Type.String({ enum: ['applying', 'applied'] }),
    interface: Type.String(),
    ifb: NullableString,
    leaf: Type.String(),
    applied_at: Type.String(),
    rollback_deadline: NullableString,
    confirmed: Type.Boolean(),
    throttle_active: Type.Boolean(),
    qdisc_before: NullableString,
    notes: Type.Array(Type.String()),
    classes: Type.Array(PlannedClassSchema),
  }),
  nullable: true,
});

const QosView = Type.Object({
  allowed: Type.Boolean({ description: 'NETPULSE_QOS=on' }),
  reason: NullableString,
  capabilities: Type.Unsafe<Record<string, unknown> | null>({ type: 'object', nullable: true, additionalProperties: Cap, description: 'htb, ifb, cake, fq_codel, dscp, police, connmark: available, and why not' }),
  config: Type.Unsafe<Static<typeof QosConfigSchema> | null>({ ...QosConfigSchema, nullable: true }),
  applied: AppliedSchema,
  classes: Type.Array(ClassLiveSchema),
});

function appliedView(s: QosAppliedState | null) {
  if (s === null) return null;
  return {
    phase: s.phase,
    interface: s.interface,
    ifb: s.ifb,
    leaf: s.leaf,
    applied_at: new Date(s.applied_at_ms).toISOString(),
    rollback_deadline: s.deadline_ms === null ? null : new Date(s.deadline_ms).toISOString(),
    confirmed: s.deadline_ms === null,
    throttle_active: s.throttle_active,
    qdisc_before: s.root_before === null ? null : `${s.root_before.kind} ${s.root_before.handle}`,
    notes: s.notes,
    classes: s.classes,
  };
}

const DISABLED_REASON = 'QoS changes the machine and is off: start Net-Pulse with NETPULSE_QOS=on (needs CAP_NET_ADMIN)';

function requireQos(ctx: AppContext): QosService {
  if (ctx.qos === undefined || ctx.qos === null) throw new HttpError(409, 'QOS_DISABLED', ctx.qosUnavailableReason ?? DISABLED_REASON);
  return ctx.qos;
}

/** The service's errors carry their own status and code. */
async function guarded<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error && err.name === 'QosError') {
      const e = err as Error & { statusCode: number; code: string };
      throw new HttpError(e.statusCode, e.code, e.message);
    }
    throw err;
  }
}

async function view(ctx: AppContext) {
  const qos = ctx.qos ?? null;
  if (qos === null) return { allowed: false, reason: ctx.qosUnavailableReason ?? DISABLED_REASON, capabilities: null, config: null, applied: null, classes: [] };
  return { allowed: true, reason: null, capabilities: qos.capabilities(), config: qos.config(), applied: appliedView(qos.applied()), classes: await qos.liveClasses() };
}

export function registerQosRoutes(app: App, ctx: AppContext): void {
  const tags = ['qos'];
  const security = [{ bearer: [] }];
  const errors = { ...withErrors({}), 409: ErrorBody };

  app.get('/api/qos', { schema: { tags, summary: 'QoS: kernel capabilities (and why any is missing), stored config, what is applied (rollback deadline), per-class counters', response: { ...withErrors({ 200: QosView }) } } }, async () => view(ctx));

  app.get(
    '/api/qos/classes',
    { schema: { tags, summary: 'Per-class live counters and rates (one rtnetlink dump per call; the dashboard polls it each second)', response: { ...withErrors({ 200: Type.Array(ClassLiveSchema) }) } } },
    async () => (ctx.qos ? ctx.qos.liveClasses() : []),
  );

  app.put(
    '/api/qos',
    {
      schema: {
        tags,
        summary: 'Store the QoS config (does not apply it)',
        description: 'Errors: QOS_DISABLED (409), QOS_RATE_OUT_OF_RANGE, QOS_RATE_ABOVE_LINK, QOS_SHARES_OVER_100, QOS_INVALID_SHARE, QOS_INVALID_CLASSES, QOS_UNKNOWN_CLASS, QOS_INVALID_RULE, QOS_INVALID_DSCP, QOS_INVALID_HOST, QOS_TOO_MANY_RULES, INVALID_INTERFACE_NAME, UNKNOWN_INTERFACE (404).',
        security,
        body: QosConfigSchema,
        response: { ...errors, 200: QosView },
      },
    },
    async (req) => {
      const qos = requireQos(ctx);
      if (!(await ctx.source.listInterfaces().catch(() => [])).some((m) => m.name === req.body.interface)) {
        throw new HttpError(404, 'UNKNOWN_INTERFACE', `no interface "${req.body.interface}" on this machine`);
      }
      await guarded(() => qos.setConfig(req.body as never));
      return view(ctx);
    },
  );

  app.post(
    '/api/qos/apply',
    {
      schema: {
        tags,
        summary: 'Apply the stored config atomically; it rolls back after confirm_within_seconds unless POST /api/qos/confirm. dry_run: only return the exact commands',
        description: 'Errors: QOS_DISABLED, QOS_NOT_CONFIGURED, QOS_INTERFACE_BUSY (a root/ingress qdisc Net-Pulse did not add), QOS_UNSUPPORTED, QOS_APPLY_FAILED (409; what was applied is removed again).',
        security,
        body: Type.Object(
          { confirm_within_seconds: Type.Integer({ minimum: 5, maximum: 3600, default: 60 }), dry_run: Type.Boolean({ default: false }) },
          { additionalProperties: false },
        ),
        response: {
          ...errors,
          200: Type.Object({
            dry_run: Type.Boolean(),
            commands: Type.Array(Type.Object({ command: Type.String(), stdin: Type.String() })),
            notes: Type.Array(Type.String()),
            applied: AppliedSchema,
          }),
        },
      },
    },
    async (req) => {
      const qos = requireQos(ctx);
      const result = await guarded(() => qos.apply({ confirmWithinSec: req.body.confirm_within_seconds, dryRun: req.body.dry_run }));
      if ('commands' in result) return { dry_run: true, commands: result.commands, notes: result.notes, applied: null };
      return { dry_run: false, commands: [], notes: result.notes, applied: appliedView(result) };
    },
  );

  app.post(
    '/api/qos/confirm',
    { schema: { tags, summary: 'Keep what was applied (cancels the rollback)', description: 'Errors: QOS_DISABLED, QOS_NOT_APPLIED (409).', security, response: { ...errors, 200: Type.Object({ applied: AppliedSchema }) } } },
    async () => ({ applied: appliedView(await guarded(() => requireQos(ctx).confirm())) }),
  );

  app.delete(
    '/api/qos',
    { schema: { tags, summary: 'Remove everything Net-Pulse applied (the stored config stays); the interface gets its previous qdisc back', security, response: { ...errors, 200: QosView } } },
    async () => {
      await guarded(() => requireQos(ctx).remove());
      return view(ctx);
    },
  );
}
