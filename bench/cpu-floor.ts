/**
 * The CPU floor under issue #13's "1 s polling of 24 interfaces, nobody looking" (issue #13): small node
 * processes that do only what that work needs, side by side with the servers of the lean bench, on the same
 * kind of fixture (24 interfaces whose counters all change every second).
 *
 * - a 1 s timer aligned to the second, nothing else (what any Node process polling every second costs);
 * - the timer and Net-Pulse's own counter reader (createLinuxSource().readCounters(): /proc/net/dev and the
 *   24 ifindex checks);
 * - the timer, the reader and the writes the contract and exactness ask for, by hand: one raw row per
 *   interface per poll in traffic_data, the minute, hour and day rollups of the same rows (per interface and
 *   the totals), the counter state a restart counts from and the run's coverage, committed every 10 s, with
 *   the same schema and pragmas (openDatabase).
 *
 * - the same reads and writes at the default 30 s (a commit after every poll);
 * - the 1 s reads and writes plus what the dashboard needs, served by node:http without a framework: one
 *   server-sent event a second with each interface's rates, the 24 h chart (5-minute sums of the minute
 *   rollups) and the interface list as JSON, asked by the same client as the servers' dashboard runs.
 *
 * - the same served by a bare Fastify (the framework Net-Pulse's API is built on, as the plan maps FastAPI to it):
 *   the same three routes as plain handlers, no schema, hook or plugin; what the dashboard costs in this
 *   stack before any of Net-Pulse's own machinery.
 *
 * None of them has a collector, Net-Pulse's routes or a logger: what they use is what polling, storing and serving cost
 * in Node with better-sqlite3 on this machine, before any of Net-Pulse's own machinery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNsSchedstat, startClient, status, type FootprintClient } from './footprint.js';
import { makeAdvancingTree } from './lib/fixture24.js';

export interface CpuFloorResult {
  key: string;
  label: string;
  cpuPercent: number;
  rssBytes: number;
}

interface Mode {
  key: string;
  label: string;
  /** What a tick does: wake only, read the counters, or read and store them. */
  work: 'timer' | 'read' | 'readWrite';
  intervalSec: number;
  /** Whom the floor serves: nobody, or the dashboard client of the lean bench (then it prints its port). */
  client: FootprintClient;
  /** What serves the dashboard client: node:http alone, or a bare Fastify (none without a client). */
  server?: 'http' | 'fastify';
}

const NOBODY: FootprintClient = { kind: 'none' };

const MODES: Mode[] = [
  { key: 'timer', label: 'bare `node`, a timer aligned to every second, nothing else', work: 'timer', intervalSec: 1, client: NOBODY },
  { key: 'read', label: "the same + Net-Pulse's counter reader every second (24 interfaces)", work: 'read', intervalSec: 1, client: NOBODY },
  { key: 'readWrite', label: 'the same + the writes by hand: a raw row per interface a second, their minute/hour/day rollups, the counter state and run coverage, committed every 10 s', work: 'readWrite', intervalSec: 1, client: NOBODY },
  {
    key: 'readWriteServe',
    label: 'the same + the dashboard served by node:http (no framework): one server-sent event of rates a second, the 24 h chart and the interface list as JSON, asked by the dashboard client',
    work: 'readWrite',
    intervalSec: 1,
    client: { kind: 'dashboard', chartEveryMs: 30_000 },
    server: 'http',
  },
  {
    key: 'readWriteServeFastify',
    label: 'the same dashboard served by a bare Fastify (the same three routes as plain handlers: no schema, hook or plugin)',
    work: 'readWrite',
    intervalSec: 1,
    client: { kind: 'dashboard', chartEveryMs: 30_000 },
    server: 'fastify',
  },
  { key: 'readWrite30', label: 'the reads and writes by hand at the default 30 s (a commit after every poll), nobody looking', work: 'readWrite', intervalSec: 30, client: NOBODY },
];

function script(mode: Mode['work'], intervalSec: number, serve: Mode['server'] | null, distDir: string, procRoot: string, sysRoot: string, dbPath: string, names: readonly string[]): string {
  const j = JSON.stringify;
  return `(async () => {
  const mode = ${j(mode)};
  const intervalMs = ${intervalSec * 1000};
  const serve = ${j(serve)};
  const { createLinuxSource } = mode === 'timer' ? {} : await import(${j(path.join(distDir, 'collector', 'linux-source.js'))});
  const source = mode === 'timer' ? null : createLinuxSource({ procRoot: ${j(procRoot)}, sysRoot: ${j(sysRoot)} });
  const names = ${j(names)};
  // The interfaces the servers store (the fixture's lo is not monitored there).
  const stored = new Set(names);
  let commit = () => undefined;
  let pending = [];
  let chart = () => '{"data":[]}';
  if (mode === 'readWrite') {
    const { openDatabase } = await import(${j(path.join(distDir, 'storage', 'db.js'))});
    const { COUNTER_COLUMNS } = await import(${j(path.join(distDir, 'storage', 'counter-columns.js'))});
    const db = openDatabase(${j(dbPath)});
    const cols = COUNTER_COLUMNS.join(', ');
    const add = cols.split(', ').map((c) => c + ' = ' + c + ' + excluded.' + c).join(', ');
    const raw = db.prepare('INSERT INTO traffic_data (interface_name, timestamp, span_seconds, ' + cols + ') VALUES (?, ?, 1, ?, ?, ?, ?, 0, 0, 0, 0)');
    const tiers = ['traffic_1m', 'traffic_1h', 'traffic_1d'].map((t) => db.prepare('INSERT INTO ' + t + ' (interface_name, bucket_start, ' + cols + ') VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0) ON CONFLICT(interface_name, bucket_start) DO UPDATE SET ' + add));
    const totals = ['traffic_total_1m', 'traffic_total_1h', 'traffic_total_1d'].map((t) => db.prepare('INSERT INTO ' + t + ' (bucket_start, ' + cols + ') VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0) ON CONFLICT(bucket_start) DO UPDATE SET ' + add));
    const stateCols = 'interface_name, ifindex, ' + cols;
    const state = db.prepare('INSERT INTO counter_state (' + stateCols + ') VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(interface_name) DO UPDATE SET ' + cols.split(', ').map((c) => c + ' = excluded.' + c).join(', '));
    const meta = db.prepare('INSERT INTO collector_state (id, time_ms, boot_id) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms');
    const run = db.prepare('INSERT INTO collector_runs (id, started_at, last_poll_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET last_poll_at = excluded.last_poll_at');
    const SPANS = [60, 3600, 86400];
    commit = db.transaction((rows, reading) => {
      for (const r of rows) raw.run(r[0], r[1], r[2], r[3], r[4], r[5]);
      const sec = rows[rows.length - 1][1];
      for (let t = 0; t < 3; t++) {
        const bucket = sec - (sec % SPANS[t]);
        for (const n of names) tiers[t].run(n, bucket, 1000, 1000, 10, 10);
        totals[t].run(bucket, 24000, 24000, 240, 240);
      }
      // The counter state the next start counts from, and the run's coverage: what exactness needs.
      for (const i of reading.interfaces) { if (!stored.has(i.name)) continue; const c = i.counters; state.run(i.name, i.ifindex, String(c.rxBytes), String(c.txBytes), String(c.rxPackets), String(c.txPackets), String(c.rxErrors), String(c.txErrors), String(c.rxDrops), String(c.txDrops)); }
      meta.run(reading.timeMs, reading.bootId);
      run.run(sec, sec);
    });
    const chartRows = db.prepare('SELECT bucket_start - (bucket_start % 300) AS t, SUM(rx_bytes) AS rx, SUM(tx_bytes) AS tx FROM traffic_1m WHERE bucket_start >= ? GROUP BY t ORDER BY t');
    chart = () => JSON.stringify({ data: chartRows.all(Math.floor(Date.now() / 1000) - 86400).map((r) => ({ timestamp: new Date(r.t * 1000).toISOString(), rx_bytes: r.rx, tx_bytes: r.tx })) });
  }
  // The live view's event: each interface's rates over the last poll, exact (BigInt) deltas.
  const clients = new Set();
  let last = null;
  const publish = (reading) => {
    if (last !== null && clients.size > 0) {
      const ms = reading.timeMs - last.timeMs;
      const before = new Map(last.interfaces.map((i) => [i.name, i.counters]));
      const rates = [];
      for (const i of reading.interfaces) {
        const b = before.get(i.name);
        if (!stored.has(i.name) || b === undefined) continue;
        rates.push({ name: i.name, rx_bytes_per_sec: Number(i.counters.rxBytes - b.rxBytes) * 1000 / ms, tx_bytes_per_sec: Number(i.counters.txBytes - b.txBytes) * 1000 / ms });
      }
      const event = 'data: ' + JSON.stringify({ time: new Date(reading.timeMs).toISOString(), interval_ms: ms, interfaces: rates }) + '\\n\\n';
      for (const res of clients) res.write(event);
    }
    last = reading;
  };
  const interfaceList = () => JSON.stringify((last?.interfaces ?? []).map((i) => ({ name: i.name, rx_bytes: String(i.counters.rxBytes), tx_bytes: String(i.counters.txBytes) })));
  if (serve === 'fastify') {
    const app = (await import(${j(import.meta.resolve('fastify'))})).default();
    app.get('/api/live', (req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      clients.add(reply.raw);
      req.raw.on('close', () => clients.delete(reply.raw));
    });
    app.get('/api/traffic', (req, reply) => { reply.type('application/json').send(chart()); });
    app.get('/api/interfaces', (req, reply) => { reply.type('application/json').send(interfaceList()); });
    await app.listen({ port: 0, host: '127.0.0.1' });
    process.stdout.write('PORT ' + app.server.address().port + '\\n');
  } else if (serve === 'http') {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      if (req.url === '/api/live') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        clients.add(res);
        req.on('close', () => clients.delete(res));
      } else if (req.url.startsWith('/api/traffic')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(chart());
      } else if (req.url === '/api/interfaces') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(interfaceList());
      } else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
  }
  let lastCommit = Date.now();
  let lastSec = -1;
  const tick = async () => {
    try {
      if (mode === 'timer') return;
      const reading = await source.readCounters();
      if (mode === 'readWrite') {
        const sec = Math.floor(reading.timeMs / 1000);
        // A tick that lands in the second of the last one (a late tick, then an early one) has nothing to add.
        if (sec === lastSec) return;
        lastSec = sec;
        for (const i of reading.interfaces) if (stored.has(i.name)) pending.push([i.name, sec, i.counters.rxBytes % 100000n, i.counters.txBytes % 100000n, 10n, 10n]);
        if (Date.now() - lastCommit >= 10000) { commit(pending, reading); pending = []; lastCommit = Date.now(); }
      }
      publish(reading);
    } finally {
      schedule();
    }
  };
  const schedule = () => setTimeout(tick, intervalMs - (Date.now() % intervalMs));
  schedule();
})();`;
}

/** Runs the floors side by side for warmupSec, then measures measuredSec (schedstat of every thread). */
export async function benchCpuFloors(options: { entry: string; warmupSec: number; measuredSec: number }): Promise<CpuFloorResult[]> {
  const distDir = path.dirname(path.dirname(options.entry));
  const fx = makeAdvancingTree(7);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-bench-cpu-floor-'));
  const advance = setInterval(() => fx.advance(), 1000);
  const children: ChildProcess[] = [];
  const clients: ReturnType<typeof startClient>[] = [];
  try {
    for (const m of MODES) {
      const code = script(m.work, m.intervalSec, m.server ?? null, distDir, fx.tree.procRoot, fx.tree.sysRoot, path.join(dir, `${m.key}.db`), fx.names);
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      if (m.client.kind === 'none') continue;
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      for (let i = 0; i < 200 && !/PORT \d+/.test(out) && child.exitCode === null; i++) await sleep(50);
      const port = /PORT (\d+)/.exec(out)?.[1];
      if (port === undefined) throw new Error(`the CPU floor "${m.key}" did not listen`);
      clients.push(startClient(`http://127.0.0.1:${port}`, m.client));
    }
    await sleep(options.warmupSec * 1000);
    const before = children.map((c) => cpuNsSchedstat(c.pid!));
    await sleep(options.measuredSec * 1000);
    return MODES.map((m, i) => {
      const pid = children[i]!.pid!;
      if (children[i]!.exitCode !== null) throw new Error(`the CPU floor "${m.key}" exited early (${children[i]!.exitCode})`);
      return { key: m.key, label: m.label, cpuPercent: ((cpuNsSchedstat(pid) - before[i]!) / 1e9 / options.measuredSec) * 100, rssBytes: status(pid).VmRSS ?? 0 };
    });
  } finally {
    clearInterval(advance);
    await Promise.all(clients.map((c) => c.stop()));
    for (const c of children) c.kill('SIGKILL');
    fx.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
