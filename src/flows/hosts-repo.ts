/**
 * Storage of the per-host totals (migration 005): the host rollups (minute/hour/day, spread over buckets like
 * the interfaces'), who the hosts are, and the element counter state. Storage trusts its callers; every write
 * of a poll runs in the caller's one transaction.
 */
import type { InterfaceState } from '../collector/deltas.js';
import type { Db, Stmt } from '../storage/db.js';
import { exactSeriesStatement } from '../storage/series-cache.js';
import { fixedGrid, spreadOverBuckets, zonedDayGrid, type BucketGrid } from '../storage/spans.js';
import type { RetentionSec, SeriesRow, SeriesScope, Tier } from '../storage/traffic-repo.js';
import type { FlowsMode } from './nft-plan.js';

const TIERS: readonly Tier[] = ['traffic_1m', 'traffic_1h', 'traffic_1d'];
const TABLE_OF: Record<Tier, string> = { traffic_1m: 'host_traffic_1m', traffic_1h: 'host_traffic_1h', traffic_1d: 'host_traffic_1d' };

export interface HostSample {
  hostId: string;
  startSec: number;
  endSec: number;
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
}

export interface HostRecord {
  id: string;
  mode: FlowsMode;
  mac: string | null;
  userName: string | null;
  autoName: string | null;
  nameSource: string | null;
  addresses: string[];
}

export interface HostTotals extends HostRecord {
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
}

export interface StoredHostState {
  timeMs: number;
  bootId: string | null;
  mode: FlowsMode;
  tableHandle: number | null;
  fingerprint: string | null;
  elements: Map<string, InterfaceState>;
}

export interface HostsRepo {
  write(samples: readonly HostSample[]): void;
  loadState(): StoredHostState | null;
  /** Writes the meta row and the elements that differ from `saved` (what the database holds), deletes the gone. */
  saveState(state: StoredHostState, saved: ReadonlyMap<string, InterfaceState> | null): void;
  /** Creates the host or refreshes its last_seen (and MAC). */
  touchHost(id: string, mode: FlowsMode, mac: string | null, nowSec: number): void;
  /** Points an address at a host; returns the host it belonged to before (null: new). */
  setAddress(address: string, hostId: string, nowSec: number): string | null;
  /** Moves every bucket and address of host `from` into host `to`, then deletes `from` (keeps a user name). */
  mergeHost(from: string, to: string): void;
  setAutoName(id: string, name: string, source: string): void;
  /** null clears the user's name. Returns false when there is no such host. */
  setUserName(id: string, name: string | null): boolean;
  get(id: string): HostRecord | null;
  /** Hosts of a mode with their sums over [fromSec, toSec) (minute tier at the edges, hours between), busiest first. */
  totals(mode: FlowsMode, fromSec: number, toSec: number, limit: number): HostTotals[];
  /** Hosts of a mode that have no name from the leases, /etc/hosts or reverse DNS yet. */
  unnamed(mode: FlowsMode, limit: number): { id: string; addresses: string[] }[];
  series(tier: Tier, scope: SeriesScope, fromSec: number, toSec: number): SeriesRow[];
  totalsInterfaces(): readonly string[];
  prune(nowSec: number, retention: RetentionSec): number;
}

interface HostRow {
  id: string;
  mode: FlowsMode;
  mac: string | null;
  user_name: string | null;
  auto_name: string | null;
  name_source: string | null;
  addresses: string | null;
}

function recordOf(r: HostRow): HostRecord {
  return {
    id: r.id,
    mode: r.mode,
    mac: r.mac,
    userName: r.user_name,
    autoName: r.auto_name,
    nameSource: r.name_source,
    addresses: r.addresses ? (JSON.parse(r.addresses) as string[]).sort() : [],
  };
}

export function createHostsRepo(db: Db, options: { timezone: string }): HostsRepo {
  const grids: Record<Tier, BucketGrid> = { traffic_1m: fixedGrid(60), traffic_1h: fixedGrid(3600), traffic_1d: zonedDayGrid(options.timezone) };
  const upsert = Object.fromEntries(
    TIERS.map((t) => [
      t,
      db.prepare(
        `INSERT INTO ${TABLE_OF[t]} (host_id, bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(host_id, bucket_start) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes,
           rx_packets = rx_packets + excluded.rx_packets, tx_packets = tx_packets + excluded.tx_packets`,
      ),
    ]),
  ) as Record<Tier, Stmt>;
  const mergeTier = Object.fromEntries(
    TIERS.map((t) => [
      t,
      {
        copy: db.prepare(
          `INSERT INTO ${TABLE_OF[t]} (host_id, bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets)
           SELECT ?, bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets FROM ${TABLE_OF[t]} WHERE host_id = ? AND true
           ON CONFLICT(host_id, bucket_start) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes,
             rx_packets = rx_packets + excluded.rx_packets, tx_packets = tx_packets + excluded.tx_packets`,
        ),
        drop: db.prepare(`DELETE FROM ${TABLE_OF[t]} WHERE host_id = ?`),
      },
    ]),
  ) as Record<Tier, { copy: Stmt; drop: Stmt }>;
  const series = Object.fromEntries(
    TIERS.map((t) => {
      const sql = `SELECT bucket_start, SUM(rx_bytes), SUM(tx_bytes), SUM(rx_packets), SUM(tx_packets) FROM ${TABLE_OF[t]}
        WHERE host_id IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ? GROUP BY bucket_start ORDER BY bucket_start`;
      return [t, exactSeriesStatement(db, sql)];
    }),
  ) as Record<Tier, (...args: unknown[]) => SeriesRow[]>;
  const sumsStmt = (t: Tier) =>
    db
      .prepare(
        `SELECT host_id, SUM(rx_bytes) AS rx, SUM(tx_bytes) AS tx, SUM(rx_packets) AS rxp, SUM(tx_packets) AS txp FROM ${TABLE_OF[t]}
         WHERE bucket_start >= ? AND bucket_start < ? GROUP BY host_id`,
      )
      .safeIntegers(true);
  const sumsMinute = sumsStmt('traffic_1m');
  const sumsHour = sumsStmt('traffic_1h');
  const hostsOfMode = db.prepare<[string], HostRow>(
    `SELECT h.id, h.mode, h.mac, h.user_name, h.auto_name, h.name_source,
       (SELECT json_group_array(address) FROM host_addresses a WHERE a.host_id = h.id) AS addresses
     FROM hosts h WHERE h.mode = ?`,
  );
  const hostById = db.prepare<[string], HostRow>(
    `SELECT h.id, h.mode, h.mac, h.user_name, h.auto_name, h.name_source,
       (SELECT json_group_array(address) FROM host_addresses a WHERE a.host_id = h.id) AS addresses
     FROM hosts h WHERE h.id = ?`,
  );
  const unnamedStmt = db.prepare<[string, number], HostRow>(
    `SELECT h.id, h.mode, h.mac, h.user_name, h.auto_name, h.name_source,
       (SELECT json_group_array(address) FROM host_addresses a WHERE a.host_id = h.id) AS addresses
     FROM hosts h WHERE h.mode = ? AND h.auto_name IS NULL ORDER BY h.last_seen DESC LIMIT ?`,
  );
  const touch = db.prepare(
    `INSERT INTO hosts (id, mode, mac, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen), mac = COALESCE(excluded.mac, mac), mode = excluded.mode`,
  );
  const addressOf = db.prepare<[string], { host_id: string }>('SELECT host_id FROM host_addresses WHERE address = ?');
  const putAddress = db.prepare(
    `INSERT INTO host_addresses (address, host_id, last_seen) VALUES (?, ?, ?)
     ON CONFLICT(address) DO UPDATE SET host_id = excluded.host_id, last_seen = MAX(last_seen, excluded.last_seen)`,
  );
  const moveAddresses = db.prepare('UPDATE host_addresses SET host_id = ? WHERE host_id = ?');
  const userNameOf = db.prepare<[string], { user_name: string | null }>('SELECT user_name FROM hosts WHERE id = ?');
  const setUser = db.prepare('UPDATE hosts SET user_name = ? WHERE id = ?');
  const setUserIfNone = db.prepare('UPDATE hosts SET user_name = ? WHERE id = ? AND user_name IS NULL');
  const setAuto = db.prepare('UPDATE hosts SET auto_name = ?, name_source = ? WHERE id = ?');
  const deleteHost = db.prepare('DELETE FROM hosts WHERE id = ?');
  const metaSelect = db.prepare<[], { time_ms: number; boot_id: string | null; mode: FlowsMode; table_handle: number | null; fingerprint: string | null }>(
    'SELECT time_ms, boot_id, mode, table_handle, fingerprint FROM host_collector_state WHERE id = 1',
  );
  const metaUpsert = db.prepare(
    `INSERT INTO host_collector_state (id, time_ms, boot_id, mode, table_handle, fingerprint) VALUES (1, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms, boot_id = excluded.boot_id, mode = excluded.mode,
       table_handle = excluded.table_handle, fingerprint = excluded.fingerprint`,
  );
  const elementRows = db.prepare<[], { element: string; generation: number; bytes: string; packets: string }>('SELECT element, generation, bytes, packets FROM host_counter_state');
  const elementNames = db.prepare<[], { element: string }>('SELECT element FROM host_counter_state');
  const elementUpsert = db.prepare(
    `INSERT INTO host_counter_state (element, generation, bytes, packets) VALUES (?, ?, ?, ?)
     ON CONFLICT(element) DO UPDATE SET generation = excluded.generation, bytes = excluded.bytes, packets = excluded.packets`,
  );
  const elementDelete = db.prepare('DELETE FROM host_counter_state WHERE element = ?');
  const pruneTier = Object.fromEntries(TIERS.map((t) => [t, db.prepare(`DELETE FROM ${TABLE_OF[t]} WHERE bucket_start < ?`)])) as Record<Tier, Stmt>;

  const isRx = (element: string) => element.startsWith('rx');

  return {
    write(samples) {
      for (const s of samples) {
        const counters = { rxBytes: s.rxBytes, txBytes: s.txBytes, rxPackets: s.rxPackets, txPackets: s.txPackets, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };
        for (const t of TIERS) {
          for (const share of spreadOverBuckets(s.startSec, s.endSec, counters, grids[t])) {
            const c = share.counters;
            upsert[t].run(s.hostId, share.bucketStart, c.rxBytes, c.txBytes, c.rxPackets, c.txPackets);
          }
        }
      }
    },
    loadState() {
      const meta = metaSelect.get();
      if (meta === undefined) return null;
      const elements = new Map<string, InterfaceState>();
      for (const r of elementRows.all()) {
        const bytes = BigInt(r.bytes);
        const packets = BigInt(r.packets);
        const rx = isRx(r.element);
        elements.set(r.element, {
          ifindex: r.generation,
          counters: { rxBytes: rx ? bytes : 0n, txBytes: rx ? 0n : bytes, rxPackets: rx ? packets : 0n, txPackets: rx ? 0n : packets, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n },
        });
      }
      return { timeMs: meta.time_ms, bootId: meta.boot_id, mode: meta.mode, tableHandle: meta.table_handle, fingerprint: meta.fingerprint, elements };
    },
    saveState(state, saved) {
      metaUpsert.run(state.timeMs, state.bootId, state.mode, state.tableHandle, state.fingerprint);
      const known = saved ?? new Map(elementNames.all().map((r) => [r.element, null] as const));
      for (const name of known.keys()) if (!state.elements.has(name)) elementDelete.run(name);
      for (const [name, s] of state.elements) {
        if (saved !== null && saved.get(name) === s) continue;
        const rx = isRx(name);
        const c = s.counters;
        elementUpsert.run(name, s.ifindex ?? 0, String(rx ? c.rxBytes : c.txBytes), String(rx ? c.rxPackets : c.txPackets));
      }
    },
    touchHost(id, mode, mac, nowSec) {
      touch.run(id, mode, mac, nowSec, nowSec);
    },
    setAddress(address, hostId, nowSec) {
      const before = addressOf.get(address)?.host_id ?? null;
      putAddress.run(address, hostId, nowSec);
      return before;
    },
    mergeHost(from, to) {
      if (from === to) return;
      for (const t of TIERS) {
        mergeTier[t].copy.run(to, from);
        mergeTier[t].drop.run(from);
      }
      moveAddresses.run(to, from);
      const name = userNameOf.get(from)?.user_name ?? null;
      if (name !== null) setUserIfNone.run(name, to);
      deleteHost.run(from);
    },
    setAutoName(id, name, source) {
      setAuto.run(name, source, id);
    },
    setUserName(id, name) {
      return setUser.run(name, id).changes > 0;
    },
    get(id) {
      const r = hostById.get(id);
      return r === undefined ? null : recordOf(r);
    },
    totals(mode, fromSec, toSec, limit) {
      // Whole hours from the hour tier, the partial hours at either end from the minute tier.
      const firstMinute = Math.floor(fromSec / 60) * 60;
      const firstHour = Math.ceil(fromSec / 3600) * 3600;
      const lastHour = Math.floor(toSec / 3600) * 3600;
      const parts =
        firstHour < lastHour
          ? [sumsMinute.all(firstMinute, firstHour), sumsHour.all(firstHour, lastHour), sumsMinute.all(lastHour, toSec + 60)]
          : [sumsMinute.all(firstMinute, toSec + 60)];
      const sums = new Map<string, { rx: bigint; tx: bigint; rxp: bigint; txp: bigint }>();
      for (const rows of parts) {
        for (const r of rows as { host_id: string; rx: bigint; tx: bigint; rxp: bigint; txp: bigint }[]) {
          const s = sums.get(r.host_id);
          if (s === undefined) sums.set(r.host_id, { rx: r.rx, tx: r.tx, rxp: r.rxp, txp: r.txp });
          else {
            s.rx += r.rx;
            s.tx += r.tx;
            s.rxp += r.rxp;
            s.txp += r.txp;
          }
        }
      }
      const out: HostTotals[] = [];
      for (const row of hostsOfMode.all(mode)) {
        const s = sums.get(row.id);
        if (s === undefined) continue;
        out.push({ ...recordOf(row), rxBytes: s.rx, txBytes: s.tx, rxPackets: s.rxp, txPackets: s.txp });
      }
      out.sort((a, b) => {
        const d = b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes);
        return d > 0n ? 1 : d < 0n ? -1 : a.id.localeCompare(b.id);
      });
      return out.slice(0, limit);
    },
    unnamed(mode, limit) {
      return unnamedStmt.all(mode, limit).map((r) => ({ id: r.id, addresses: recordOf(r).addresses }));
    },
    series(tier, scope, fromSec, toSec) {
      const ids = scope === 'monitored-total' ? [] : scope.interfaces;
      return series[tier](JSON.stringify(ids), fromSec, toSec);
    },
    totalsInterfaces() {
      return [];
    },
    prune(nowSec, retention) {
      let deleted = pruneTier.traffic_1m.run(nowSec - retention.minute).changes;
      deleted += pruneTier.traffic_1h.run(nowSec - retention.hour).changes;
      if (retention.day > 0) deleted += pruneTier.traffic_1d.run(nowSec - retention.day).changes;
      return deleted;
    },
  };
}
