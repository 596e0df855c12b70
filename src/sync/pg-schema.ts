/**
 * The PostgreSQL schema the instances replicate into, created on first use and versioned like the SQLite
 * one: netpulse_schema_version lists what was applied; migrations are append only. Every instance may be the
 * first to connect, so creation runs under a transaction-scoped advisory lock: two devices starting at once
 * never race on CREATE TABLE.
 *
 * Counters are BIGINT (they are deltas summed per bucket: far below 2^63). Keys are (device_id,
 * interface_name, bucket_start), bucket_start in unix seconds as on each device; the day tier also carries
 * the device's local date (day), which is what the all-devices view sums by.
 */
import type { PoolClient } from 'pg';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

const counters = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors', 'rx_drops', 'tx_drops'].map((c) => `${c} BIGINT NOT NULL DEFAULT 0`).join(',\n  ');

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'devices and hour and day rollups',
    sql: `
CREATE TABLE netpulse_devices (
  device_id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  -- The interfaces this device sums into its "total" (its own usage rule).
  usage_interfaces TEXT[] NOT NULL DEFAULT '{}',
  first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE netpulse_traffic_1h (
  device_id UUID NOT NULL REFERENCES netpulse_devices (device_id) ON DELETE CASCADE,
  interface_name TEXT NOT NULL,
  bucket_start BIGINT NOT NULL,
  ${counters},
  PRIMARY KEY (device_id, interface_name, bucket_start)
);
CREATE INDEX netpulse_traffic_1h_bucket_start ON netpulse_traffic_1h (bucket_start);
CREATE TABLE netpulse_traffic_1d (
  device_id UUID NOT NULL REFERENCES netpulse_devices (device_id) ON DELETE CASCADE,
  interface_name TEXT NOT NULL,
  bucket_start BIGINT NOT NULL,
  day DATE NOT NULL,
  ${counters},
  PRIMARY KEY (device_id, interface_name, bucket_start)
);
CREATE INDEX netpulse_traffic_1d_day ON netpulse_traffic_1d (day);
`,
  },
];

/** Any constant: the advisory lock all Net-Pulse instances take while creating or upgrading the schema. */
const SCHEMA_LOCK_KEY = 0x4e50_5343; // "NPSC"

export class PgSchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(`the PostgreSQL schema is version ${found}, newer than this Net-Pulse knows (${known}); upgrade Net-Pulse on this device`);
    this.name = 'PgSchemaTooNewError';
  }
}

/** Creates or upgrades the schema; returns the version now in place. */
export async function ensurePgSchema(client: PoolClient, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  const known = migrations.at(-1)?.version ?? 0;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS netpulse_schema_version (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const current = Number((await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM netpulse_schema_version')).rows[0]!.v);
    if (current > known) throw new PgSchemaTooNewError(current, known);
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO netpulse_schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return known;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
