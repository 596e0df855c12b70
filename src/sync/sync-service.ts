/**
 * Replication of the hour and day rollups to PostgreSQL (issue #5, PacketBuddy's sync).
 *
 * The local database is the outbox. Per target and tier, sync_state keeps `resend_from`: every bucket
 * before it is in PostgreSQL with its final value. A cycle sends every local bucket from there on, with its
 * absolute value, as batched upserts keyed by (device_id, interface_name, bucket_start):
 *
 *   INSERT … SELECT … FROM unnest($2::text[], $3::bigint[], …) ON CONFLICT (…) DO UPDATE SET rx_bytes = EXCLUDED.rx_bytes, …
 *
 * Absolute values make a cycle idempotent: a bucket sent twice (a retry, a cycle interrupted half-way, the
 * still-growing current hour) is overwritten, never added, so nothing is counted twice. Only after the whole
 * cycle succeeded does resend_from move up — to one bucket before the one that contains the cycle's start,
 * since the collector may still add to that bucket and (a poll's span starts at the previous poll, at most
 * an hour back) to the one before. While PostgreSQL is unreachable nothing moves: the buckets wait in SQLite
 * and are all sent when it is back, so nothing is lost either.
 *
 * Failures are retried with exponential backoff (1 s doubling to 60 s), logged once per outage, and the
 * recovery once. A changed NETPULSE_TZ rebuilds the local day tier with new bucket keys, so the device's day
 * rows in PostgreSQL are replaced in full.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { settleWithin, startBudget } from '../shared/deadline.js';
import type { Logger } from '../shared/logger.js';
import { startOfZonedDay, zonedDate } from '../shared/zoned-time.js';
import { COUNTER_COLUMNS } from '../storage/counter-columns.js';
import type { Db, Stmt } from '../storage/db.js';
import type { DeviceIdentity } from './device-identity.js';
import { ensurePgSchema } from './pg-schema.js';

export type SyncTier = 'traffic_1h' | 'traffic_1d';
export const SYNC_TIERS: readonly SyncTier[] = ['traffic_1h', 'traffic_1d'];

export type SyncState = 'starting' | 'ok' | 'unreachable' | 'error' | 'stopped';

export interface SyncStatus {
  state: SyncState;
  /** host:port/database — never the credentials. */
  target: string;
  lastSuccessAtMs: number | null;
  lastAttemptAtMs: number | null;
  lastError: string | null;
  /** When the current outage began; null while reachable. */
  outageSinceMs: number | null;
  /** Failed attempts in a row (0 while reachable). */
  failures: number;
  /** Buckets upserted since start. */
  bucketsSent: number;
  cycles: number;
}

export interface SyncCycleResult {
  buckets: number;
  durationMs: number;
}

export interface SyncServiceDeps {
  db: Db;
  url: string;
  device: DeviceIdentity;
  /** The interfaces this device sums into its total (replicated so the all-devices view sums the same). */
  usageInterfaces: () => Promise<string[]>;
  intervalMs: number;
  logger: Logger;
  now: () => number;
  /** Rows per upsert statement. */
  batchSize?: number;
  retry?: { baseMs: number; maxMs: number };
  /** Extra pg.Pool settings (tests shorten timeouts). */
  poolConfig?: pg.PoolConfig;
}

export interface SyncService {
  readonly target: string;
  /** The pool the all-devices queries use too. */
  readonly pool: pg.Pool;
  /** Runs a cycle now and then every intervalMs (with backoff after failures). */
  start(): void;
  /** One cycle, serialized with the timer's; throws when it fails. */
  syncNow(): Promise<SyncCycleResult>;
  status(): SyncStatus;
  /**
   * Stops the timer; with finalSyncTimeoutMs, first tries one last cycle (skipped during an outage). Returns
   * within timeoutMs (default 5 s) whatever PostgreSQL does: a cycle still running then is abandoned (the
   * cursors only move after a whole cycle, so it is re-sent next time) and the pool's sockets are destroyed.
   */
  stop(options?: { finalSyncTimeoutMs?: number; timeoutMs?: number }): Promise<void>;
}

/** host:port/database of a postgres:// URL: what sync_state is keyed by and what the API shows. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    return `${host}:${u.port || '5432'}/${decodeURIComponent(u.pathname.replace(/^\//, '')) || u.username || 'postgres'}`;
  } catch {
    return 'postgres';
  }
}

/**
 * pg, loaded on first use: the server imports this module whether or not sync is configured, and pg with its
 * dependencies adds ~1.4 MiB of heap to a server that, without NETPULSE_SYNC_URL, never uses it. Loaded with
 * require (pg is CommonJS; `import pg from 'pg'` yields the same module object) so that createSyncService
 * stays synchronous.
 */
let pgModule: typeof pg | undefined;
function loadPg(): typeof pg {
  pgModule ??= createRequire(import.meta.url)('pg') as typeof pg;
  return pgModule;
}

const COUNTERS = COUNTER_COLUMNS;
const counterSet = COUNTERS.map((c) => `${c} = EXCLUDED.${c}`).join(', ');
const counterDistinct = `(${COUNTERS.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${COUNTERS.map((c) => `EXCLUDED.${c}`).join(', ')})`;

export const UPSERT_SQL: Record<SyncTier, string> = {
  traffic_1h: `INSERT INTO netpulse_traffic_1h AS t (device_id, interface_name, bucket_start, ${COUNTERS.join(', ')})
    SELECT $1::uuid, u.* FROM unnest($2::text[], $3::bigint[], ${COUNTERS.map((_, i) => `$${i + 4}::bigint[]`).join(', ')}) AS u
    ON CONFLICT (device_id, interface_name, bucket_start) DO UPDATE SET ${counterSet} WHERE ${counterDistinct}`,
  traffic_1d: `INSERT INTO netpulse_traffic_1d AS t (device_id, interface_name, bucket_start, day, ${COUNTERS.join(', ')})
    SELECT $1::uuid, u.* FROM unnest($2::text[], $3::bigint[], $4::date[], ${COUNTERS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')}) AS u
    ON CONFLICT (device_id, interface_name, bucket_start) DO UPDATE SET day = EXCLUDED.day, ${counterSet} WHERE t.day IS DISTINCT FROM EXCLUDED.day OR ${counterDistinct}`,
};

const UPSERT_DEVICE = `INSERT INTO netpulse_devices (device_id, name, timezone, usage_interfaces) VALUES ($1, $2, $3, $4)
  ON CONFLICT (device_id) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone, usage_interfaces = EXCLUDED.usage_interfaces, last_seen = now()`;

interface TierRow {
  interface_name: string;
  bucket_start: bigint;
  rx_bytes: bigint;
  tx_bytes: bigint;
  rx_packets: bigint;
  tx_packets: bigint;
  rx_errors: bigint;
  tx_errors: bigint;
  rx_drops: bigint;
  tx_drops: bigint;
}

/** How long stop() waits for a cycle in flight while PostgreSQL is not known to be reachable. */
const OUTAGE_GRACE_MS = 250;

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

export function createSyncService(deps: SyncServiceDeps): SyncService {
  const target = describeTarget(deps.url);
  const batchSize = deps.batchSize ?? 5000;
  const retry = deps.retry ?? { baseMs: 1000, maxMs: 60_000 };
  const tz = deps.device.timezone;
  const { Pool, DatabaseError } = loadPg();
  const pool = new Pool({
    connectionString: deps.url,
    max: 3,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: 60_000,
    keepAlive: true,
    application_name: 'netpulse',
    ...deps.poolConfig,
  });
  // An idle connection that breaks (the server restarted) must not crash the process; the pool drops it.
  pool.on('error', (err) => deps.logger.debug({ err: errorText(err) }, 'sync: an idle PostgreSQL connection failed'));
  // The pool's connected clients, so a stop that runs out of time can cut their sockets.
  const clients = new Set<pg.PoolClient>();
  pool.on('connect', (client) => clients.add(client));
  pool.on('remove', (client) => clients.delete(client as pg.PoolClient));

  const selectState = deps.db.prepare<[string, string], { resend_from: number; timezone: string | null }>('SELECT resend_from, timezone FROM sync_state WHERE target = ? AND tier = ?');
  const upsertState = deps.db.prepare(
    `INSERT INTO sync_state (target, tier, resend_from, timezone, last_success_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(target, tier) DO UPDATE SET resend_from = excluded.resend_from, timezone = excluded.timezone, last_success_at = excluded.last_success_at`,
  );
  const cols = COUNTERS.join(', ');
  const selectBatch = Object.fromEntries(
    SYNC_TIERS.map((t) => [
      t,
      deps.db
        .prepare(
          `SELECT interface_name, bucket_start, ${cols} FROM ${t}
           WHERE bucket_start >= ? AND (bucket_start > ? OR (bucket_start = ? AND interface_name > ?))
           ORDER BY bucket_start, interface_name LIMIT ?`,
        )
        .safeIntegers(true),
    ]),
  ) as Record<SyncTier, Stmt>;

  let state: SyncState = 'starting';
  let lastSuccessAtMs: number | null = null;
  let lastAttemptAtMs: number | null = null;
  let lastError: string | null = null;
  let outageSinceMs: number | null = null;
  let failures = 0;
  let bucketsSent = 0;
  let cycles = 0;
  let schemaReady = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let chain: Promise<unknown> = Promise.resolve();

  /** Where the next cycle must start re-sending a tier, given the time the current cycle began. */
  function nextResendFrom(tier: SyncTier, startSec: number): number {
    if (tier === 'traffic_1h') return Math.floor(startSec / 3600) * 3600 - 3600;
    return startOfZonedDay(startOfZonedDay(startSec, tz) - 1, tz);
  }

  async function sendTier(client: pg.PoolClient, tier: SyncTier, fromSec: number): Promise<number> {
    let sent = 0;
    let afterBucket = -1n;
    let afterName = '';
    for (;;) {
      const rows = selectBatch[tier].all(fromSec, afterBucket, afterBucket, afterName, batchSize) as TierRow[];
      if (rows.length === 0) break;
      const names: string[] = [];
      const starts: string[] = [];
      const days: string[] = [];
      const values: string[][] = COUNTERS.map(() => []);
      for (const r of rows) {
        names.push(r.interface_name);
        starts.push(String(r.bucket_start));
        if (tier === 'traffic_1d') days.push(zonedDate(Number(r.bucket_start), tz));
        COUNTERS.forEach((c, i) => values[i]!.push(String(r[c])));
      }
      const params: unknown[] = tier === 'traffic_1d' ? [deps.device.deviceId, names, starts, days, ...values] : [deps.device.deviceId, names, starts, ...values];
      await client.query(UPSERT_SQL[tier], params);
      sent += rows.length;
      const last = rows.at(-1)!;
      afterBucket = BigInt(last.bucket_start);
      afterName = last.interface_name;
      if (rows.length < batchSize) break;
    }
    return sent;
  }

  async function cycle(): Promise<SyncCycleResult> {
    const t0 = performance.now();
    const startSec = Math.floor(deps.now() / 1000);
    lastAttemptAtMs = deps.now();
    const usageInterfaces = await deps.usageInterfaces();
    const client = await pool.connect();
    // A connection that dies under a checked-out client is also emitted as 'error': without a listener
    // that would crash the process. The query in flight rejects with it, which is what we act on.
    const onClientError = (err: Error) => deps.logger.debug({ err: errorText(err) }, 'sync: the PostgreSQL connection failed');
    client.on('error', onClientError);
    let broken: Error | undefined;
    try {
      if (!schemaReady) {
        await ensurePgSchema(client);
        schemaReady = true;
      }
      const dayState = selectState.get(target, 'traffic_1d');
      const zoneChanged = dayState !== undefined && dayState.timezone !== tz;
      await client.query('BEGIN');
      await client.query(UPSERT_DEVICE, [deps.device.deviceId, deps.device.name, tz, usageInterfaces]);
      if (zoneChanged) await client.query('DELETE FROM netpulse_traffic_1d WHERE device_id = $1', [deps.device.deviceId]);
      await client.query('COMMIT');
      if (zoneChanged) {
        deps.logger.info({ from: dayState.timezone, to: tz }, 'sync: time zone changed; re-sending every calendar day');
        upsertState.run(target, 'traffic_1d', 0, tz, null);
      }
      let buckets = 0;
      for (const tier of SYNC_TIERS) {
        const fromSec = selectState.get(target, tier)?.resend_from ?? 0;
        buckets += await sendTier(client, tier, fromSec);
      }
      // Only now, with everything in PostgreSQL, may the cursors move.
      deps.db.transaction(() => {
        for (const tier of SYNC_TIERS) upsertState.run(target, tier, nextResendFrom(tier, startSec), tz, startSec);
      })();
      bucketsSent += buckets;
      cycles++;
      return { buckets, durationMs: performance.now() - t0 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      // A client that failed is destroyed rather than returned: its connection may be half dead.
      client.release(broken);
      client.off('error', onClientError);
    }
  }

  function syncNow(): Promise<SyncCycleResult> {
    const run = chain.then(cycle);
    chain = run.catch(() => undefined);
    return run;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void tick();
    }, delayMs);
    timer.unref();
  }

  async function tick(): Promise<void> {
    try {
      const r = await syncNow();
      if (state === 'unreachable' || state === 'error') {
        deps.logger.info({ target, buckets: r.buckets, outageMs: outageSinceMs === null ? null : deps.now() - outageSinceMs }, 'sync: PostgreSQL is reachable again; caught up');
      } else if (state === 'starting') {
        deps.logger.info({ target, buckets: r.buckets, device: deps.device.deviceId }, 'sync: replicating to PostgreSQL');
      }
      state = 'ok';
      failures = 0;
      lastError = null;
      outageSinceMs = null;
      lastSuccessAtMs = deps.now();
      schedule(deps.intervalMs);
    } catch (err) {
      if (stopped) return;
      failures++;
      lastError = errorText(err);
      const wasDown = state === 'unreachable' || state === 'error';
      // A server that answers with an error (permissions, a schema too new) is an error; anything about
      // reaching it (refused, reset, shutting down, too many connections) is an outage.
      state = err instanceof DatabaseError && !/^(08|53|57P)/.test(err.code ?? '') ? 'error' : err instanceof Error && err.name === 'PgSchemaTooNewError' ? 'error' : 'unreachable';
      if (!wasDown) {
        outageSinceMs = deps.now();
        // Once per outage, not per attempt.
        deps.logger.warn({ target, err: lastError }, 'sync: PostgreSQL unavailable; buckets are kept locally and retried with backoff');
      }
      schedule(Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(failures - 1, 20)));
    }
  }

  return {
    target,
    pool,
    start() {
      if (stopped || timer !== null) return;
      schedule(0);
    },
    syncNow,
    status() {
      return { state, target, lastSuccessAtMs, lastAttemptAtMs, lastError, outageSinceMs, failures, bucketsSent, cycles };
    },
    async stop(options = {}) {
      if (stopped) return;
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const left = startBudget(options.timeoutMs ?? 5000);
      const finalMs = options.finalSyncTimeoutMs ?? 0;
      const reachable = state === 'ok';
      if (finalMs > 0 && reachable) await settleWithin(syncNow(), Math.min(finalMs, left()));
      // A cycle in flight during an outage (or the first one, still connecting) has nothing to finish: what
      // it would have sent is re-sent next time. It gets a moment, not the whole budget.
      const idle = await settleWithin(chain, reachable ? left() : Math.min(OUTAGE_GRACE_MS, left()));
      state = 'stopped';
      if (idle && (await settleWithin(pool.end(), left()))) return;
      // Out of time (a cycle hangs on a server that stopped answering): cut the connections.
      deps.logger.debug({ target }, 'sync: PostgreSQL did not finish in time at shutdown; its connections are cut');
      for (const client of clients) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      void pool.end().catch(() => undefined);
    },
  };
}
