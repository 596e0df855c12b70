import { Type } from '../type.js';
import { isoDateOf, localDayNumber, periodContaining } from '../../services/usage-service.js';
import { isDeviceId } from '../../sync/device-identity.js';
import { findRemoteDevice, listRemoteDevices, remoteTotalsByDevice, type RemoteDevice } from '../../sync/remote-usage.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { Count, ErrorBody, NullableString, withErrors } from '../schemas.js';

/** Which device(s) a request is about: this one (from SQLite), another one, or all (from PostgreSQL). */
export type DeviceSelection = { kind: 'local' } | { kind: 'remote'; device: RemoteDevice } | { kind: 'all' };

/** Runs a PostgreSQL query for the API: an unreachable server is a 503 SYNC_UNAVAILABLE, never a 500. */
export async function fromPostgres<T>(ctx: AppContext, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(503, 'SYNC_UNAVAILABLE', `PostgreSQL (${ctx.sync?.target ?? 'sync'}) cannot answer now; this device's own data is still available (device=local)`);
  }
}

/** `device` as the API takes it: absent, "local" or this device's id; "all"; or another device's id. */
export async function resolveDevice(ctx: AppContext, deviceParam: string | undefined): Promise<DeviceSelection> {
  const device = deviceParam?.toLowerCase();
  if (device === undefined || device === 'local' || device === ctx.device.deviceId) return { kind: 'local' };
  if (device !== 'all' && !isDeviceId(device)) throw badRequest('INVALID_DEVICE', `device must be "local", "all" or a device id (a UUID from GET /api/devices), not "${device}"`);
  const sync = ctx.sync;
  if (sync === null) throw badRequest('SYNC_NOT_CONFIGURED', 'other devices are seen only through PostgreSQL: set NETPULSE_SYNC_URL');
  if (device === 'all') return { kind: 'all' };
  const found = await fromPostgres(ctx, () => findRemoteDevice(sync.pool, device));
  if (found === null) throw notFound('UNKNOWN_DEVICE', `no device with id ${device} has synced to PostgreSQL`);
  return { kind: 'remote', device: found };
}

const MonthTotals = Type.Object({ rx_bytes: Count, tx_bytes: Count, total_bytes: Count });

const DeviceSchema = Type.Object({
  id: Type.String({ description: 'Device id (a UUID generated once per instance)' }),
  name: Type.String(),
  timezone: Type.String({ description: 'The zone its calendar days are counted in' }),
  is_local: Type.Boolean({ description: 'This instance' }),
  last_seen: Type.Unsafe<string | null>({ type: 'string', nullable: true, description: 'Its last successful sync (ISO 8601); for this instance, now' }),
  interfaces: Type.Array(Type.String(), { description: 'The interfaces summed into its total' }),
  month: MonthTotals,
});

const SyncStatusSchema = Type.Object({
  configured: Type.Boolean(),
  state: Type.String({ enum: ['disabled', 'starting', 'ok', 'unreachable', 'error', 'stopped'] }),
  target: NullableString,
  last_success: NullableString,
  last_error: NullableString,
  outage_since: NullableString,
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function syncStatusView(ctx: AppContext) {
  if (ctx.sync === null) return { configured: false, state: 'disabled', target: null, last_success: null, last_error: null, outage_since: null };
  const s = ctx.sync.status();
  return { configured: true, state: s.state, target: s.target, last_success: iso(s.lastSuccessAtMs), last_error: s.lastError, outage_since: iso(s.outageSinceMs) };
}

const totals = (rx: bigint, tx: bigint) => ({ rx_bytes: rx, tx_bytes: tx, total_bytes: rx + tx });

export function registerDeviceRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/api/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'This device and, with NETPULSE_SYNC_URL, every device that syncs to the same PostgreSQL — each with its totals this billing month, and their sum',
        description:
          'Month totals are over each device\'s own "total" interfaces and its own local calendar days, for the billing month (this instance\'s month start day) that contains today. ' +
          'This device\'s figures come from its local database (always current); the others\' from PostgreSQL. When PostgreSQL cannot be reached, only this device is listed and sync.state says why.',
        response: withErrors({
          200: Type.Object({
            sync: SyncStatusSchema,
            month: Type.Object({ label: Type.String(), start_date: Type.String(), end_date: Type.String({ description: 'The day after the last day' }) }),
            devices: Type.Array(DeviceSchema),
            all: MonthTotals,
          }),
        }),
      },
    },
    async () => {
      const nowSec = Math.floor(ctx.now() / 1000);
      const period = periodContaining(localDayNumber(nowSec, ctx.config.timezone), 'month', ctx.usage.monthStartDay());
      const fromDay = isoDateOf(period.start);
      const toDay = isoDateOf(period.end);
      const localInterfaces = await ctx.usage.totalInterfaces();
      let rx = 0n;
      let tx = 0n;
      for (const d of await ctx.usage.daySource(localInterfaces).days(fromDay, toDay)) {
        rx += d.rxBytes;
        tx += d.txBytes;
      }
      const devices = [
        {
          id: ctx.device.deviceId,
          name: ctx.device.name,
          timezone: ctx.device.timezone,
          is_local: true,
          last_seen: new Date(ctx.now()).toISOString(),
          interfaces: localInterfaces,
          month: totals(rx, tx),
        },
      ];
      const sum = { rx, tx };
      // During a known outage the dashboard's frequent polls answer at once with this device alone.
      if (ctx.sync !== null && ctx.sync.status().state !== 'unreachable') {
        const pool = ctx.sync.pool;
        try {
          const [remote, monthTotals] = await Promise.all([listRemoteDevices(pool), remoteTotalsByDevice(pool, fromDay, toDay)]);
          for (const d of remote) {
            if (d.deviceId === ctx.device.deviceId) continue;
            const t = monthTotals.get(d.deviceId) ?? { rxBytes: 0n, txBytes: 0n };
            devices.push({ id: d.deviceId, name: d.name, timezone: d.timezone, is_local: false, last_seen: d.lastSeen.toISOString(), interfaces: d.usageInterfaces, month: totals(t.rxBytes, t.txBytes) });
            sum.rx += t.rxBytes;
            sum.tx += t.txBytes;
          }
        } catch {
          // Unreachable: this device alone; sync.state tells the dashboard.
        }
      }
      return { sync: syncStatusView(ctx), month: { label: period.label, start_date: fromDay, end_date: toDay }, devices, all: totals(sum.rx, sum.tx) };
    },
  );
}

export const ServiceUnavailable = { 503: ErrorBody };
