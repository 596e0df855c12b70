/**
 * GET /api/traffic latency on the generated year (bench/year-db.ts): the real server (startServer) on
 * that database, requests through app.inject (routing, validation, the query, JSON serialisation; no TCP).
 * Each case is also timed at the SQL alone (TrafficRepo.sumByBucket with the same range), and the SQL's
 * EXPLAIN QUERY PLAN is captured from the statements TrafficRepo actually prepares.
 */
import Database from 'better-sqlite3';
import { startServer, type RunningServer } from '../src/server.js';
import { createTrafficRepo, type Tier } from '../src/storage/traffic-repo.js';
import { makeAdvancingTree } from './lib/fixture24.js';
import { log, timeEach, timing, type Timing } from './lib/measure.js';
import type { YearDb } from './year-db.js';

export interface QueryCase {
  label: string;
  windowHours: number;
  groupMinutes: number;
  /** null: the sum of the monitored set (all 24). */
  interfaceName: string | null;
}

export interface QueryRow extends QueryCase {
  url: string;
  buckets: number;
  tier: Tier;
  tierRows: number;
  /** The whole request through inject. */
  http: Timing;
  /** TrafficRepo.sumByBucket: SQLite plus turning rows into JS objects with BigInts. */
  repo: Timing;
  /** SQLite alone: the same statement wrapped in SELECT COUNT(*), so no rows reach JS. */
  sqlite: Timing;
}

export interface QueriesResult {
  iterations: number;
  rows: QueryRow[];
  extras: { label: string; url: string; http: Timing }[];
  plans: { label: string; plan: string[] }[];
  /** SQLite-only CPU of other ways to answer the heaviest case (1 year / 1 h, sum of 24), tried on a copy of the schema. */
  alternatives: { label: string; sqlite: Timing; rows: number }[];
}

const WINDOWS: [string, number, number][] = [
  ['1 h / 1 min', 1, 1],
  ['24 h / 5 min', 24, 5],
  ['7 d / 1 h', 168, 60],
  ['30 d / 1 h', 720, 60],
  ['90 d / 1 day', 2160, 1440],
  ['1 year / 1 day', 8760, 1440],
  ['1 year / 1 h', 8760, 60],
];

export const QUERY_CASES: QueryCase[] = WINDOWS.flatMap(([label, windowHours, groupMinutes]) => [
  { label, windowHours, groupMinutes, interfaceName: 'eth0' },
  { label, windowHours, groupMinutes, interfaceName: null },
]);

function tierOf(groupMinutes: number): Tier {
  if (groupMinutes >= 1440) return 'traffic_1d';
  return (groupMinutes * 60) % 3600 === 0 ? 'traffic_1h' : 'traffic_1m';
}

export async function benchQueries(year: YearDb, options: { iterations: number }): Promise<QueriesResult> {
  const fx = makeAdvancingTree(3);
  let server: RunningServer | null = null;
  try {
    log('queries: starting the server on the year database');
    server = await startServer({
      env: {
        NETPULSE_DB_PATH: year.dbPath,
        NETPULSE_PORT: '0',
        NETPULSE_HOST: '127.0.0.1',
        NETPULSE_POLL_INTERVAL: '3600',
        NETPULSE_PROC_ROOT: fx.tree.procRoot,
        NETPULSE_SYS_ROOT: fx.tree.sysRoot,
        NETPULSE_TZ: 'UTC',
        NETPULSE_LOG_LEVEL: 'warn',
      },
    });
    const app = server.app;
    const repoSql = captureRepoSql(year.dbPath);
    const all = server.ctx.settings.monitoredList();
    if (all.length !== 24) throw new Error(`expected 24 monitored interfaces, found ${all.length}`);
    const rows: QueryRow[] = [];
    for (const c of QUERY_CASES) {
      const url = `/api/traffic?time_window_hours=${c.windowHours}&group_minutes=${c.groupMinutes}${c.interfaceName === null ? '' : `&interface=${c.interfaceName}`}`;
      const first = await app.inject({ method: 'GET', url });
      if (first.statusCode !== 200) throw new Error(`${url} answered ${first.statusCode}: ${first.body.slice(0, 300)}`);
      const body = first.json() as { data: unknown[] };
      const http = await timeEach(options.iterations, 3, async () => {
        const r = await app.inject({ method: 'GET', url });
        if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
      });
      // The same range at the SQL alone.
      const tier = tierOf(c.groupMinutes);
      const nowSec = Math.floor(Date.now() / 1000);
      const bucketSec = c.groupMinutes * 60;
      const from = tier === 'traffic_1d' ? Math.floor((nowSec - c.windowHours * 3600) / 86_400) * 86_400 : Math.floor((nowSec - c.windowHours * 3600) / bucketSec) * bucketSec;
      const to = nowSec + 86_400;
      const ifaces = c.interfaceName === null ? all : [c.interfaceName];
      const tierRows = (
        server.db.prepare(`SELECT COUNT(*) AS n FROM ${tier} WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?`).get(JSON.stringify(ifaces), from, to) as { n: number }
      ).n;
      const repo = await timeEach(options.iterations, 3, () => server!.ctx.traffic.sumByBucket(tier, ifaces, from, to));
      const countOnly = server.db.prepare(`SELECT COUNT(*) AS n FROM (${repoSql.sumByBucket[tier]})`);
      const sqlite = await timeEach(options.iterations, 3, () => countOnly.get(JSON.stringify(ifaces), from, to));
      const row: QueryRow = { ...c, url, buckets: body.data.length, tier, tierRows, http: timing(http), repo: timing(repo), sqlite: timing(sqlite) };
      rows.push(row);
      log(`queries: ${c.label} ${c.interfaceName ?? 'all 24'}: p50 ${row.http.wall.p50.toFixed(0)} µs, p95 ${row.http.wall.p95.toFixed(0)} µs (CPU p50 ${row.http.cpu.p50.toFixed(0)} µs)`);
    }
    const extras: QueriesResult['extras'] = [];
    for (const [label, url] of [
      ['interface stats (last hour, 24 h, today, all time)', '/api/interfaces/eth0/stats'],
      ['traffic summary, 24 h, all interfaces', '/api/traffic/summary?hours=24'],
      ['traffic summary, 30 d, all interfaces', '/api/traffic/summary?hours=720'],
    ] as const) {
      const r0 = await app.inject({ method: 'GET', url });
      if (r0.statusCode !== 200) throw new Error(`${url} answered ${r0.statusCode}: ${r0.body.slice(0, 300)}`);
      extras.push({ label, url, http: timing(await timeEach(Math.min(options.iterations, 10), 1, () => app.inject({ method: 'GET', url }))) });
    }
    const plans = explainPlans(year.dbPath, all, year.nowSec);
    await server.close();
    server = null;
    const alternatives = await tryAlternatives(year.dbPath, repoSql, all, options.iterations);
    return { iterations: options.iterations, rows, extras, plans, alternatives };
  } finally {
    await server?.close();
    fx.cleanup();
  }
}

/**
 * The heaviest case (a year of hours summed over 24 interfaces) answered three ways, SQLite alone:
 * the repo's statement; 4 sums (the API returns 4 of the 8 counters) read in bucket order from a covering
 * index, so there is no temporary B-tree; and a pre-summed series of the monitored set (one row per hour),
 * which is what a per-tier "monitored total" maintained at write time would read. Run after the server has
 * closed, on the bench's own copy (the index and table are added to the throwaway database).
 */
async function tryAlternatives(dbPath: string, repoSql: RepoSql, all: readonly string[], iterations: number): Promise<QueriesResult['alternatives']> {
  log('queries: trying other ways to answer 1 year / 1 h, sum of 24');
  const db = new Database(dbPath);
  try {
    const nowSec = Math.floor(Date.now() / 1000);
    const from = Math.floor((nowSec - 8760 * 3600) / 3600) * 3600;
    const to = nowSec + 3600;
    const list = JSON.stringify(all);
    const out: QueriesResult['alternatives'] = [];
    const run = async (label: string, sql: string, params: unknown[]) => {
      const stmt = db.prepare(`SELECT COUNT(*) AS n FROM (${sql})`);
      const rows = (db.prepare(`SELECT COUNT(*) AS n FROM (${sql})`).get(...params) as { n: number }).n;
      out.push({ label, rows, sqlite: timing(await timeEach(iterations, 2, () => stmt.get(...params))) });
    };
    await run("the repo's statement (8 sums, PRIMARY KEY per interface, temp B-tree for GROUP BY)", repoSql.sumByBucket.traffic_1h, [list, from, to]);
    db.exec('CREATE INDEX IF NOT EXISTS bench_traffic_1h_cover ON traffic_1h (bucket_start, interface_name, rx_bytes, tx_bytes, rx_packets, tx_packets)');
    await run(
      '4 sums from a covering index (bucket_start, interface_name, 4 counters), in bucket order',
      `SELECT bucket_start, SUM(rx_bytes), SUM(tx_bytes), SUM(rx_packets), SUM(tx_packets) FROM traffic_1h INDEXED BY bench_traffic_1h_cover
       WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ? GROUP BY bucket_start ORDER BY bucket_start`,
      [list, from, to],
    );
    db.exec(`CREATE TABLE IF NOT EXISTS bench_traffic_1h_monitored AS
             SELECT bucket_start, SUM(rx_bytes) AS rx_bytes, SUM(tx_bytes) AS tx_bytes, SUM(rx_packets) AS rx_packets, SUM(tx_packets) AS tx_packets
             FROM traffic_1h GROUP BY bucket_start`);
    db.exec('CREATE UNIQUE INDEX IF NOT EXISTS bench_traffic_1h_monitored_b ON bench_traffic_1h_monitored (bucket_start)');
    await run('a pre-summed series of the monitored set (one row per hour)', 'SELECT * FROM bench_traffic_1h_monitored WHERE bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start', [from, to]);
    return out;
  } finally {
    db.close();
  }
}

interface RepoSql {
  sumByBucket: Record<Tier, string>;
  sumByInterface: Record<Tier, string>;
}

/** The SQL TrafficRepo prepares (captured from a read-only connection), so plans and timings use the real text. */
function captureRepoSql(dbPath: string): RepoSql {
  const db = new Database(dbPath, { readonly: true });
  try {
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    };
    createTrafficRepo(db, { timezone: 'UTC' });
    const find = (tier: Tier, group: string) => {
      const sql = prepared.find((text) => text.includes(`FROM ${tier}`) && text.includes(group));
      if (sql === undefined) throw new Error(`TrafficRepo prepares no "${group}" statement on ${tier}`);
      return sql;
    };
    const tiers: Tier[] = ['traffic_1m', 'traffic_1h', 'traffic_1d'];
    return {
      sumByBucket: Object.fromEntries(tiers.map((t) => [t, find(t, 'GROUP BY bucket_start')])) as Record<Tier, string>,
      sumByInterface: Object.fromEntries(tiers.map((t) => [t, find(t, 'GROUP BY interface_name')])) as Record<Tier, string>,
    };
  } finally {
    db.close();
  }
}

/** EXPLAIN QUERY PLAN of the bucket sums (one interface, 24) and of the per-interface sum /api/traffic/summary uses. */
function explainPlans(dbPath: string, all: readonly string[], nowSec: number): QueriesResult['plans'] {
  const sql = captureRepoSql(dbPath);
  const db = new Database(dbPath, { readonly: true });
  const explain = (text: string, params: unknown[]) => {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...params) as { id: number; parent: number; detail: string }[];
    const depth = new Map<number, number>();
    return rows.map((p) => {
      const d = (depth.get(p.parent) ?? -1) + 1;
      depth.set(p.id, d);
      return `${'  '.repeat(d)}${p.detail}`;
    });
  };
  try {
    const plans: QueriesResult['plans'] = [];
    for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
      plans.push({ label: `sumByBucket on ${tier}, one interface`, plan: explain(sql.sumByBucket[tier], [JSON.stringify([all[0]]), nowSec - 365 * 86_400, nowSec]) });
      plans.push({ label: `sumByBucket on ${tier}, 24 interfaces`, plan: explain(sql.sumByBucket[tier], [JSON.stringify(all), nowSec - 365 * 86_400, nowSec]) });
    }
    plans.push({ label: 'sumByInterface on traffic_1m, every interface (GET /api/traffic/summary)', plan: explain(sql.sumByInterface.traffic_1m, [null, null, nowSec - 86_400, nowSec]) });
    return plans;
  } finally {
    db.close();
  }
}
