/**
 * The all-devices view (PacketBuddy's "stitched" view): what the replicated rollups in PostgreSQL say
 * about every device. Day totals are summed by each device's own local date (the day column), over each
 * device's own "total" interfaces (netpulse_devices.usage_interfaces) unless one interface is asked for.
 */
import type pg from 'pg';
import type { DayTotal, DaySource } from '../services/usage-service.js';

export interface RemoteDevice {
  deviceId: string;
  name: string;
  timezone: string;
  usageInterfaces: string[];
  firstSeen: Date;
  lastSeen: Date;
}

interface DeviceRow {
  device_id: string;
  name: string;
  timezone: string;
  usage_interfaces: string[];
  first_seen: Date;
  last_seen: Date;
}

const toDevice = (r: DeviceRow): RemoteDevice => ({
  deviceId: r.device_id,
  name: r.name,
  timezone: r.timezone,
  usageInterfaces: r.usage_interfaces,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
});

const DEVICE_COLS = 'device_id::text AS device_id, name, timezone, usage_interfaces, first_seen, last_seen';

export async function listRemoteDevices(pool: pg.Pool): Promise<RemoteDevice[]> {
  const { rows } = await pool.query<DeviceRow>(`SELECT ${DEVICE_COLS} FROM netpulse_devices ORDER BY name, device_id`);
  return rows.map(toDevice);
}

export async function findRemoteDevice(pool: pg.Pool, deviceId: string): Promise<RemoteDevice | null> {
  const { rows } = await pool.query<DeviceRow>(`SELECT ${DEVICE_COLS} FROM netpulse_devices WHERE device_id = $1::uuid`, [deviceId]);
  return rows[0] === undefined ? null : toDevice(rows[0]);
}

export interface RemoteDayFilter {
  /** One device, or null for every device. */
  deviceId: string | null;
  /** A device to leave out (this instance, whose fresher local totals are added instead). */
  excludeDeviceId: string | null;
  /** One interface on every selected device, or null for each device's total. */
  interfaceName: string | null;
}

const DAY_WHERE = `($1::uuid IS NULL OR t.device_id = $1::uuid)
  AND ($2::uuid IS NULL OR t.device_id <> $2::uuid)
  AND (CASE WHEN $3::text IS NULL THEN t.interface_name = ANY(d.usage_interfaces) ELSE t.interface_name = $3::text END)`;

/** Day totals from PostgreSQL, summed over the devices and interfaces the filter selects. */
export function remoteDaySource(pool: pg.Pool, filter: RemoteDayFilter): DaySource {
  const base = [filter.deviceId, filter.excludeDeviceId, filter.interfaceName];
  return {
    async days(fromDay, toDay) {
      const { rows } = await pool.query<{ day: string; rx: string; tx: string }>(
        `SELECT t.day::text AS day, SUM(t.rx_bytes)::text AS rx, SUM(t.tx_bytes)::text AS tx
         FROM netpulse_traffic_1d t JOIN netpulse_devices d ON d.device_id = t.device_id
         WHERE ${DAY_WHERE} AND t.day >= $4::date AND t.day < $5::date
         GROUP BY t.day ORDER BY t.day`,
        [...base, fromDay, toDay],
      );
      return rows.map((r): DayTotal => ({ day: r.day, rxBytes: BigInt(r.rx), txBytes: BigInt(r.tx) }));
    },
    async oldestDay() {
      // ORDER BY … LIMIT 1 rather than MIN(): it walks the day index and stops at the first match.
      const { rows } = await pool.query<{ day: string | null }>(
        `SELECT t.day::text AS day FROM netpulse_traffic_1d t JOIN netpulse_devices d ON d.device_id = t.device_id WHERE ${DAY_WHERE} ORDER BY t.day LIMIT 1`,
        base,
      );
      return rows[0]?.day ?? null;
    },
  };
}

/** Each device's total over days [fromDay, toDay) (its own local dates and total interfaces). */
export async function remoteTotalsByDevice(pool: pg.Pool, fromDay: string, toDay: string): Promise<Map<string, { rxBytes: bigint; txBytes: bigint }>> {
  const { rows } = await pool.query<{ device_id: string; rx: string; tx: string }>(
    `SELECT t.device_id::text AS device_id, SUM(t.rx_bytes)::text AS rx, SUM(t.tx_bytes)::text AS tx
     FROM netpulse_traffic_1d t JOIN netpulse_devices d ON d.device_id = t.device_id
     WHERE t.day >= $1::date AND t.day < $2::date AND t.interface_name = ANY(d.usage_interfaces)
     GROUP BY t.device_id`,
    [fromDay, toDay],
  );
  return new Map(rows.map((r) => [r.device_id, { rxBytes: BigInt(r.rx), txBytes: BigInt(r.tx) }]));
}

/** Sums of the hour tier per bucket over every device's total interfaces, buckets in [fromSec, toSec). */
export async function remoteHourlyTotals(pool: pg.Pool, fromSec: number, toSec: number): Promise<{ bucketStart: number; rxBytes: bigint; txBytes: bigint }[]> {
  const { rows } = await pool.query<{ b: string; rx: string; tx: string }>(
    `SELECT t.bucket_start::text AS b, SUM(t.rx_bytes)::text AS rx, SUM(t.tx_bytes)::text AS tx
     FROM netpulse_traffic_1h t JOIN netpulse_devices d ON d.device_id = t.device_id
     WHERE t.bucket_start >= $1 AND t.bucket_start < $2 AND t.interface_name = ANY(d.usage_interfaces)
     GROUP BY t.bucket_start ORDER BY t.bucket_start`,
    [fromSec, toSec],
  );
  return rows.map((r) => ({ bucketStart: Number(r.b), rxBytes: BigInt(r.rx), txBytes: BigInt(r.tx) }));
}
