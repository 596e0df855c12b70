/**
 * GET /api/traffic latency on the generated year (bench/year-db.ts): the real server (startServer) on
 * that database, requests over HTTP on loopback (fetch, keep-alive, the body read as bytes: routing, validation,
 * the query, JSON serialisation and the socket, as a browser meets it). Times are wall and the process's CPU,
 * which includes the fetch client's own share. (Through app.inject, light-my-request kept every 1.3 MB answer
 * of a case alive until the case ended, so later requests collected a growing heap: p95 inflated by the harness.)
 * Each case is also timed at the SQL alone (TrafficRepo.sumByBucket with the same range), and the SQL's
 * EXPLAIN QUERY PLAN is captured from the statements TrafficRepo actually prepares.
 */
import Database from 'better-sqlite3';
import { startServer, type RunningServer } from '../src/server.js';
import { createTrafficRepo, type Tier, type TrafficRepo } from '../src/storage/traffic-repo.js';
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
  /** The table read: the tier, or its pre-summed monitored total. */
  table: string;
  tierRows: number;
  /** The whole request over HTTP on loopback. */
  http: Timing;
  /** The repository call the service makes: SQLite plus turning rows into JS objects. */
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
  /** True when the server reads a pre-summed monitored total for the sum of the monitored set. */
  monitoredTotal: boolean;
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

/** TrafficRepo's chart path (newer code); absent on older code, where the service calls sumByBucket. */
interface SeriesApi {
  series(tier: Tier, scope: { interfaces: readonly string[] } | 'monitored-total', fromSec: number, toSec: number): unknown[];
  totalsInterfaces(): readonly string[];
}

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
    const base = server.url;
    /** One request over HTTP; the body is read as bytes (no JSON.parse on the client's clock). */
    const get = async (url: string): Promise<{ status: number; body: Buffer }> => {
      const r = await fetch(`${base}${url}`);
      return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
    };
    const repoSql = captureRepoSql(year.dbPath);
    const all = server.ctx.settings.monitoredList();
    if (all.length !== 24) throw new Error(`expected 24 monitored interfaces, found ${all.length}`);
    const rows: QueryRow[] = [];
    const traffic = server.ctx.traffic as TrafficRepo & Partial<SeriesApi>;
    const hasSeries = typeof traffic.series === 'function';
    const totals = hasSeries && typeof traffic.totalsInterfaces === 'function' ? [...traffic.totalsInterfaces()].sort() : [];
    const monitoredTotal = hasSeries && totals.length === all.length && [...all].sort().every((n, i) => n === totals[i]);
    for (const c of QUERY_CASES) {
      const url = `/api/traffic?time_window_hours=${c.windowHours}&group_minutes=${c.groupMinutes}${c.interfaceName === null ? '' : `&interface=${c.interfaceName}`}`;
      const first = await get(url);
      if (first.status !== 200) throw new Error(`${url} answered ${first.status}: ${first.body.toString().slice(0, 300)}`);
      const body = JSON.parse(first.body.toString()) as { data: unknown[] };
      const http = await timeEach(options.iterations, 3, async () => {
        const r = await get(url);
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
      });
      // The same range at the repository and at SQLite alone.
      const tier = tierOf(c.groupMinutes);
      const nowSec = Math.floor(Date.now() / 1000);
      const bucketSec = c.groupMinutes * 60;
      const from = tier === 'traffic_1d' ? Math.floor((nowSec - c.windowHours * 3600) / 86_400) * 86_400 : Math.floor((nowSec - c.windowHours * 3600) / bucketSec) * bucketSec;
      const to = nowSec + 86_400;
      const ifaces = c.interfaceName === null ? all : [c.interfaceName];
      const useTotal = c.interfaceName === null && monitoredTotal;
      const pick = pickStatement(repoSql, tier, useTotal, hasSeries);
      const params = useTotal ? [from, to] : [JSON.stringify(ifaces), from, to];
      const tierRows = useTotal
        ? (server.db.prepare(`SELECT COUNT(*) AS n FROM ${pick.table} WHERE bucket_start >= ? AND bucket_start < ?`).get(from, to) as { n: number }).n
        : (server.db.prepare(`SELECT COUNT(*) AS n FROM ${tier} WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?`).get(JSON.stringify(ifaces), from, to) as { n: number }).n;
      // A repository made afresh (untimed) for each call: its cache of closed buckets is empty, so this is
      // what reading the range costs, not what the server's warm cache answers with.
      let cold = traffic;
      const repo = await timeEach(
        options.iterations,
        3,
        () => (hasSeries ? cold.series!(tier, useTotal ? 'monitored-total' : { interfaces: ifaces }, from, to) : cold.sumByBucket(tier, ifaces, from, to)),
        () => {
          cold = createTrafficRepo(server!.db, { timezone: 'UTC' }) as TrafficRepo & Partial<SeriesApi>;
        },
      );
      const countOnly = server.db.prepare(`SELECT COUNT(*) AS n FROM (${pick.sql})`);
      const sqlite = await timeEach(options.iterations, 3, () => countOnly.get(...params));
      const row: QueryRow = { ...c, url, buckets: body.data.length, tier, table: pick.table, tierRows, http: timing(http), repo: timing(repo), sqlite: timing(sqlite) };
      rows.push(row);
      log(`queries: ${c.label} ${c.interfaceName ?? 'all 24'}: p50 ${row.http.wall.p50.toFixed(0)} µs, p95 ${row.http.wall.p95.toFixed(0)} µs (CPU p50 ${row.http.cpu.p50.toFixed(0)} µs)`);
    }
    const extras: QueriesResult['extras'] = [];
    for (const [label, url] of [
      ['interface stats (last hour, 24 h, today, all time)', '/api/interfaces/eth0/stats'],
      ['traffic summary, 24 h, all interfaces', '/api/traffic/summary?hours=24'],
      ['traffic summary, 30 d, all interfaces', '/api/traffic/summary?hours=720'],
    ] as const) {
      const r0 = await get(url);
      if (r0.status !== 200) throw new Error(`${url} answered ${r0.status}: ${r0.body.toString().slice(0, 300)}`);
      extras.push({ label, url, http: timing(await timeEach(options.iterations, 3, () => get(url))) });
    }
    const plans = explainPlans(year.dbPath, all, year.nowSec, hasSeries, monitoredTotal);
    await server.close();
    server = null;
    const alternatives = await tryAlternatives(year.dbPath, repoSql, all, Math.min(options.iterations, 15), hasSeries);
    return { iterations: options.iterations, rows, extras, plans, alternatives, monitoredTotal };
  } finally {
    await server?.close();
    fx.cleanup();
  }
}

/**
 * The heaviest case (a year of hours summed over 24 interfaces) answered three ways, SQLite alone: the 24
 * interfaces listed (what the server runs for any set that isn't exactly the monitored one); the same sums
 * read in bucket order from a covering index, so there is no temporary B-tree; and a pre-summed series of the
 * monitored set (one row per hour: traffic_total_1h where the schema has it, else a table made here). Run after
 * the server has closed, on the bench's throwaway copy.
 */
async function tryAlternatives(dbPath: string, repoSql: RepoSql, all: readonly string[], iterations: number, hasSeries: boolean): Promise<QueriesResult['alternatives']> {
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
      const rows = (stmt.get(...params) as { n: number }).n;
      out.push({ label, rows, sqlite: timing(await timeEach(iterations, 2, () => stmt.get(...params))) });
    };
    const listed = pickStatement(repoSql, 'traffic_1h', false, hasSeries);
    await run(`24 interfaces listed (the repo's statement: primary key per interface, temp B-tree for GROUP BY)`, listed.sql, [list, from, to]);
    db.exec('CREATE INDEX IF NOT EXISTS bench_traffic_1h_cover ON traffic_1h (bucket_start, interface_name, rx_bytes, tx_bytes, rx_packets, tx_packets)');
    await run(
      '24 interfaces listed, 4 sums from a covering index (bucket_start, interface_name, 4 counters), in bucket order',
      `SELECT bucket_start, SUM(rx_bytes), SUM(tx_bytes), SUM(rx_packets), SUM(tx_packets) FROM traffic_1h INDEXED BY bench_traffic_1h_cover
       WHERE interface_name IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ? GROUP BY bucket_start ORDER BY bucket_start`,
      [list, from, to],
    );
    const hasTotal = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'traffic_total_1h'").get() !== undefined;
    if (!hasTotal) {
      db.exec(`CREATE TABLE IF NOT EXISTS bench_traffic_1h_monitored AS
               SELECT bucket_start, SUM(rx_bytes) AS rx_bytes, SUM(tx_bytes) AS tx_bytes, SUM(rx_packets) AS rx_packets, SUM(tx_packets) AS tx_packets
               FROM traffic_1h GROUP BY bucket_start`);
      db.exec('CREATE UNIQUE INDEX IF NOT EXISTS bench_traffic_1h_monitored_b ON bench_traffic_1h_monitored (bucket_start)');
    }
    const totalTable = hasTotal ? 'traffic_total_1h' : 'bench_traffic_1h_monitored';
    await run(
      `the pre-summed series of the monitored set (${totalTable}: one row per hour${hasTotal ? ', what the server reads' : ', made here'})`,
      `SELECT bucket_start, rx_bytes, tx_bytes, rx_packets, tx_packets FROM ${totalTable} WHERE bucket_start >= ? AND bucket_start < ? ORDER BY bucket_start`,
      [from, to],
    );
    return out;
  } finally {
    db.close();
  }
}

interface RepoSql {
  sumByBucket: Record<Tier, string>;
  sumByInterface: Record<Tier, string>;
  /** The chart path's statements, when the repo has them: 4 sums over listed interfaces, and the pre-summed total. */
  seriesListed: Partial<Record<Tier, string>>;
  seriesTotal: Partial<Record<Tier, string>>;
}

const TOTAL_TABLE: Record<Tier, string> = { traffic_1m: 'traffic_total_1m', traffic_1h: 'traffic_total_1h', traffic_1d: 'traffic_total_1d' };

/** The statement the server runs for a case, and the table it reads. */
function pickStatement(sql: RepoSql, tier: Tier, useTotal: boolean, hasSeries: boolean): { sql: string; table: string } {
  if (useTotal && sql.seriesTotal[tier] !== undefined) return { sql: sql.seriesTotal[tier]!, table: TOTAL_TABLE[tier] };
  if (hasSeries && sql.seriesListed[tier] !== undefined) return { sql: sql.seriesListed[tier]!, table: tier };
  return { sql: sql.sumByBucket[tier], table: tier };
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
    const from = (table: string) => new RegExp(`FROM ${table}\\s`);
    const find = (tier: Tier, test: (text: string) => boolean, what: string) => {
      const sql = prepared.find((text) => from(tier).test(text) && test(text));
      if (sql === undefined) throw new Error(`TrafficRepo prepares no ${what} statement on ${tier}`);
      return sql;
    };
    const tiers: Tier[] = ['traffic_1m', 'traffic_1h', 'traffic_1d'];
    const isBucketSum = (t: string) => t.includes('GROUP BY bucket_start') && t.includes('SUM(rx_errors)');
    const isSeries = (t: string) => t.includes('GROUP BY bucket_start') && !t.includes('SUM(rx_errors)');
    const byTier = (f: (t: Tier) => string | undefined) => Object.fromEntries(tiers.flatMap((t) => (f(t) === undefined ? [] : [[t, f(t)]])));
    return {
      sumByBucket: byTier((t) => find(t, isBucketSum, 'sumByBucket')) as Record<Tier, string>,
      sumByInterface: byTier((t) => find(t, (text) => text.includes('GROUP BY interface_name'), 'sumByInterface')) as Record<Tier, string>,
      seriesListed: byTier((t) => prepared.find((text) => from(t).test(text) && isSeries(text))),
      seriesTotal: byTier((t) => prepared.find((text) => from(TOTAL_TABLE[t]).test(text) && text.includes('ORDER BY bucket_start') && !text.includes('INSERT'))),
    };
  } finally {
    db.close();
  }
}

/** EXPLAIN QUERY PLAN of the statements the chart cases run, and of the per-interface sums /api/traffic/summary uses. */
function explainPlans(dbPath: string, all: readonly string[], nowSec: number, hasSeries: boolean, monitoredTotal: boolean): QueriesResult['plans'] {
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
    const range = [nowSec - 365 * 86_400, nowSec];
    for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
      const listed = pickStatement(sql, tier, false, hasSeries);
      plans.push({ label: `${tier}, one interface`, plan: explain(listed.sql, [JSON.stringify([all[0]]), ...range]) });
      plans.push({ label: `${tier}, 24 interfaces listed`, plan: explain(listed.sql, [JSON.stringify(all), ...range]) });
      if (monitoredTotal) {
        const total = pickStatement(sql, tier, true, hasSeries);
        plans.push({ label: `${tier}, the monitored set (pre-summed ${total.table})`, plan: explain(total.sql, range) });
      }
    }
    for (const tier of ['traffic_1m', 'traffic_1h'] as const) {
      plans.push({ label: `sumByInterface on ${tier}, every interface (GET /api/traffic/summary)`, plan: explain(sql.sumByInterface[tier], [null, null, nowSec - 86_400, nowSec]) });
    }
    return plans;
  } finally {
    db.close();
  }
}
