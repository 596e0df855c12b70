import { Type } from '../type.js';
import type { RawCounters } from '../../collector/counter-source.js';
import { isValidInterfaceName } from '../../collector/interface-name.js';
import type { InterfaceView } from '../../services/interfaces-service.js';
import { startOfZonedDay } from '../../shared/zoned-time.js';
import type { CounterRow } from '../../storage/counter-columns.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { ApiInterfaceSchema, Counters, InterfaceNameParam, withErrors } from '../schemas.js';

export function apiCounters(c: RawCounters) {
  return {
    rx_bytes: c.rxBytes,
    tx_bytes: c.txBytes,
    rx_packets: c.rxPackets,
    tx_packets: c.txPackets,
    rx_errors: c.rxErrors,
    tx_errors: c.txErrors,
    rx_drops: c.rxDrops,
    tx_drops: c.txDrops,
  };
}

export function apiInterface(v: InterfaceView) {
  return {
    name: v.meta.name,
    kind: v.meta.kind,
    is_up: v.meta.isUp,
    oper_state: v.meta.operState,
    addresses: v.meta.addresses,
    mac: v.meta.mac,
    mtu: v.meta.mtu,
    speed: v.meta.speedMbps,
    is_virtual: v.meta.isVirtual,
    is_primary: v.isPrimary,
    monitored: v.monitored,
    counters: v.counters === null ? null : apiCounters(v.counters),
  };
}

/** An interface the API accepts: present now, monitored, or with stored traffic. 404 otherwise. */
export async function requireKnownInterface(ctx: AppContext, name: string): Promise<void> {
  if (!isValidInterfaceName(name)) throw badRequest('INVALID_INTERFACE_NAME', `"${name}" is not a valid interface name`);
  if (ctx.settings.monitored().has(name)) return;
  const reading = await ctx.source.readCounters();
  if (reading.interfaces.some((i) => i.name === name)) return;
  if (ctx.traffic.hasTraffic(name)) return;
  throw notFound('UNKNOWN_INTERFACE', `no interface named "${name}" exists or has stored traffic`);
}

const Totals = Type.Object({ rx_bytes: Type.Unsafe<bigint | number>({ type: 'integer' }), tx_bytes: Type.Unsafe<bigint | number>({ type: 'integer' }), rx_packets: Type.Unsafe<bigint | number>({ type: 'integer' }), tx_packets: Type.Unsafe<bigint | number>({ type: 'integer' }) });

function totalsOf(rows: CounterRow[]) {
  const t = { rx_bytes: 0n, tx_bytes: 0n, rx_packets: 0n, tx_packets: 0n };
  for (const r of rows) {
    t.rx_bytes += BigInt(r.rx_bytes);
    t.tx_bytes += BigInt(r.tx_bytes);
    t.rx_packets += BigInt(r.rx_packets);
    t.tx_packets += BigInt(r.tx_packets);
  }
  return t;
}

export function registerInterfaceRoutes(app: App, ctx: AppContext): void {
  const tags = ['interfaces'];
  const Params = Type.Object({ name: InterfaceNameParam });

  app.get('/api/interfaces', { schema: { tags, summary: 'Every network interface, with kind, addresses, counters, primary and monitored flags', response: { 200: Type.Array(ApiInterfaceSchema) } } }, async () =>
    (await ctx.interfaces.list()).map(apiInterface),
  );

  app.get('/api/interfaces/:name', { schema: { tags, summary: 'One interface', params: Params, response: withErrors({ 200: ApiInterfaceSchema }) } }, async (req) => {
    const { name } = req.params;
    if (!isValidInterfaceName(name)) throw badRequest('INVALID_INTERFACE_NAME', `"${name}" is not a valid interface name`);
    const view = await ctx.interfaces.get(name);
    if (view === null) throw notFound('UNKNOWN_INTERFACE', `no interface named "${name}" exists now`);
    return apiInterface(view);
  });

  app.get(
    '/api/interfaces/:name/stats',
    {
      schema: {
        tags,
        summary: "An interface's stored totals (last hour, last 24 hours, today, all time) and its kernel counters now",
        params: Params,
        response: withErrors({
          200: Type.Object({
            interface: Type.String(),
            monitored: Type.Boolean(),
            counters: Type.Unsafe({ ...Counters, nullable: true }),
            last_hour: Totals,
            last_24_hours: Totals,
            today: Totals,
            all_time: Totals,
            timezone: Type.String(),
          }),
        }),
      },
    },
    async (req) => {
      const { name } = req.params;
      await requireKnownInterface(ctx, name);
      const nowSec = Math.floor(ctx.now() / 1000);
      const reading = await ctx.source.readCounters();
      const current = reading.interfaces.find((i) => i.name === name);
      const sum = (tier: 'traffic_1m' | 'traffic_1h' | 'traffic_1d', from: number) => totalsOf(ctx.traffic.sumByInterface(tier, [name], from, Number.MAX_SAFE_INTEGER));
      return {
        interface: name,
        monitored: ctx.settings.monitored().has(name),
        counters: current ? apiCounters(current.counters) : null,
        last_hour: sum('traffic_1m', Math.floor(nowSec / 60) * 60 - 3600 + 60),
        last_24_hours: sum('traffic_1h', Math.floor(nowSec / 3600) * 3600 - 86400 + 3600),
        today: sum('traffic_1d', startOfZonedDay(nowSec, ctx.config.timezone)),
        all_time: sum('traffic_1d', 0),
        timezone: ctx.config.timezone,
      };
    },
  );
}
