/**
 * Issue #13's aims, beside the peers, from one run: the compiled server's RSS, PSS and CPU at 1 s polling of
 * 24 fixture interfaces with nobody looking and with the dashboard open (live stream + chart reloads), at
 * the default 30 s interval, and the experiments that chose the defaults (commit interval, V8 flags); then
 * /api/interfaces in-process and the peers (bench/peers.ts). The footprint runs go side by side (each its
 * own process; CPU is per process), so the whole takes one span plus the peers.
 *
 * Part of `npm run bench` (section "lean"); alone: `npx tsx bench/lean.ts [--quick] [--out file]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../src/server.js';
import { benchCpuFloors, type CpuFloorResult } from './cpu-floor.js';
import { benchFloors, benchFootprint, buildForBench, REPO_ROOT, type FloorResult, type FootprintClient, type FootprintResult } from './footprint.js';
import { makeAdvancingTree } from './lib/fixture24.js';
import { describeMachine, distribution, fmtBytes, fmtUs, loadAverage, log, MiB } from './lib/measure.js';
import { benchPeers, type PeerResult } from './peers.js';
import { replaceMarkedBlock } from './soak.js';

export const LEAN_AIMS = { rssMiB: 60, cpuIdlePercent: 0.1, cpuDashboardPercent: 0.3, interfacesMs: 1 };
/** The chart reload of the dashboard with a short grouping (Dashboard.svelte refreshDelayMs: 30 s for 1-minute buckets). */
const DASHBOARD: FootprintClient = { kind: 'dashboard', chartEveryMs: 30_000 };

interface Variant {
  key: string;
  label: string;
  client: FootprintClient;
  pollIntervalSec: number;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** false: the fixture's counters stand still (polls find nothing to write). */
  advance?: boolean;
}

const VARIANTS: Variant[] = [
  { key: 'idle', label: '1 s polling, nobody looking', client: { kind: 'none' }, pollIntervalSec: 1 },
  { key: 'dashboard', label: '1 s polling, dashboard open', client: DASHBOARD, pollIntervalSec: 1 },
  { key: 'idle30', label: '30 s polling (the default), nobody looking', client: { kind: 'none' }, pollIntervalSec: 30 },
  { key: 'commitEveryPoll', label: '1 s polling, nobody looking, NETPULSE_COMMIT_INTERVAL=0 (a commit every poll, as before)', client: { kind: 'none' }, pollIntervalSec: 1, env: { NETPULSE_COMMIT_INTERVAL: '0' } },
  // Tried, not kept: less memory, but the year charts of the query bench five times slower (docs/benchmarks.md, session 9).
  { key: 'dashboardOfs', label: '1 s polling, dashboard open, node --optimize-for-size', client: DASHBOARD, pollIntervalSec: 1, nodeArgs: ['--optimize-for-size'] },
  // The CPU floor, in parts: the server with no poll at all, then polls that find nothing to write.
  { key: 'noPoll', label: 'the server not polling (NETPULSE_POLL_INTERVAL=3600), nobody looking', client: { kind: 'none' }, pollIntervalSec: 3600 },
  { key: 'idleStatic', label: '1 s polling of 24 interfaces whose counters stand still (nothing to write), nobody looking', client: { kind: 'none' }, pollIntervalSec: 1, advance: false },
];

/**
 * Start-up's one-time work (compiling modules, V8's first full collections and its memory reducer) is not
 * the steady cost: measured minute by minute here, a server used 5 % of a core in its first minute, 0.4 % in
 * its second and ~0.2 % from the third on (--trace-gc: the mark-compacts all fall in the first minute).
 * So the span is measured after this warm-up; the warm-up's own CPU is reported beside it.
 */
const WARMUP_SEC = { full: 180, quick: 60 };

export interface LeanResult {
  date: string;
  quick: boolean;
  loadStart: string;
  loadEnd: string;
  spanSec: number;
  runs: { variant: Variant; footprint: FootprintResult | null; error?: string }[];
  interfaces: { p50Us: number; p95Us: number; requests: number; healthP50Us?: number; healthP95Us?: number };
  peers: PeerResult[];
  floors: FloorResult[];
  /** Minimal processes doing only the polling and storing work (bench/cpu-floor.ts), beside the servers. */
  cpuFloors?: CpuFloorResult[];
  warmupSec: number;
}

/** GET /api/interfaces through inject on a started server over the 24-interface fixture (cache warm). */
async function measureInterfaces(requests: number): Promise<LeanResult['interfaces']> {
  const fx = makeAdvancingTree(3);
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, 'bench', '.build', 'lean-'));
  const server = await startServer({
    env: { NETPULSE_DB_PATH: path.join(dir, 'n.db'), NETPULSE_PORT: '0', NETPULSE_HOST: '127.0.0.1', NETPULSE_PROC_ROOT: fx.tree.procRoot, NETPULSE_SYS_ROOT: fx.tree.sysRoot, NETPULSE_TZ: 'UTC', NETPULSE_LOG_LEVEL: 'warn', NETPULSE_POLL_INTERVAL: '3600' },
    discoverySampleMs: 10,
  });
  const time = async (url: string) => {
    const wall: number[] = [];
    for (let i = 0; i < requests + 10; i++) {
      // Let the event loop turn between requests, as it does between a real server's requests: an awaited
      // inject resolves in microtasks, so without this each request's setImmediate (light-my-request's mock
      // socket) waits for the whole loop: the heap grew ~19 KB a request and its collection was timed.
      await new Promise((resolve) => setImmediate(resolve));
      const t0 = process.hrtime.bigint();
      const r = await server.app.inject({ method: 'GET', url });
      if (i >= 10) wall.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
    }
    return distribution(wall);
  };
  try {
    const d = await time('/api/interfaces');
    // The floor of any request through the same app, hooks and inject: a route that reads nothing.
    const health = await time('/health');
    return { p50Us: d.p50, p95Us: d.p95, requests, healthP50Us: health.p50, healthP95Us: health.p95 };
  } finally {
    await server.close();
    fx.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchLean(options: { quick: boolean; peers?: () => PeerResult[] }): Promise<LeanResult> {
  const loadStart = loadAverage();
  const spanSec = options.quick ? 120 : 600;
  const warmupSec = options.quick ? WARMUP_SEC.quick : WARMUP_SEC.full;
  const build = buildForBench();
  const cpuFloors = benchCpuFloors({ entry: build.entry, warmupSec, measuredSec: spanSec });
  const runs = await Promise.all(
    VARIANTS.map(async (variant) => {
      try {
        const footprint = await benchFootprint({
          build,
          warmupSec,
          measuredSec: spanSec,
          client: variant.client,
          pollIntervalSec: variant.pollIntervalSec,
          sampleEverySec: 30,
          heapDuringSpan: false,
          nodeArgs: variant.nodeArgs ?? [],
          ...(variant.env ? { env: variant.env } : {}),
          ...(variant.advance === false ? { advance: false } : {}),
        });
        return { variant, footprint };
      } catch (err) {
        return { variant, footprint: null, error: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
      }
    }),
  );
  const cpuFloorResults = await cpuFloors.catch((err: unknown) => {
    log(`lean: the CPU floors failed: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  });
  log('lean: floors (bare node, Fastify, the modules imported)');
  const floors = await benchFloors(build.entry);
  log('lean: /api/interfaces');
  const interfaces = await measureInterfaces(options.quick ? 200 : 1000);
  log('lean: peers');
  const peers = options.peers?.() ?? (await benchPeers(options.quick ? { warmupSec: 10, measuredSec: 20 } : { warmupSec: 20, measuredSec: 60 }));
  return { date: new Date().toISOString(), quick: options.quick, loadStart, loadEnd: loadAverage(), spanSec, warmupSec, runs, interfaces, peers, floors, cpuFloors: cpuFloorResults };
}

const pct = (v: number) => `${v.toFixed(3)} %`;
const verdict = (ok: boolean) => (ok ? 'meets' : '**misses**');

/**
 * Where the dashboard server's CPU above its serving floor goes: the part the idle server already uses above its
 * own floor (the collector side), and what remains for serving the dashboard beyond the floor's serving.
 */
function excessSplit(excess: number, idleExcess: number | null, routing: string): string {
  const serving = `${routing}its schemas, hooks and serialisation, the live view's bookkeeping, the chart's series cache`;
  if (idleExcess === null) return ` (${serving}, everything the idle server does beyond the floor)`;
  const collector = Math.max(0, Math.min(excess, idleExcess));
  const rest = excess - collector;
  return `: ${pct(collector)} of it is what the idle server already uses above its own floor (the collector and its delta rules, the totals, usage and alerts it keeps up to date, V8 working for a whole server), ${rest > 0 ? `${pct(rest)} what serving the dashboard costs beyond the floor's serving (${serving})` : "and serving the dashboard costs no more than the floor's serving"}`;
}

/** The floors under the two aims that miss, from the same run: what the runtime, the stack and the work itself cost. */
function renderFloors(L: string[], r: LeanResult, by: (key: string) => FootprintResult | null): void {
  if ((r.floors ?? []).length === 0) return;
  L.push('');
  L.push('### The floors under RSS and CPU');
  L.push('');
  L.push('Processes that do less and less of what the server does, measured in the same run (the floors side by side after 20 s and one full GC; the servers as above):');
  L.push('');
  L.push('| process | RSS | PSS | private / file-backed | JS heap used | CPU (steady) |');
  L.push('|---|---|---|---|---|---|');
  for (const f of r.floors) L.push(`| ${f.label} | ${fmtBytes(f.rssBytes)} | ${f.pssBytes === null ? '–' : fmtBytes(f.pssBytes)} | ${fmtBytes(f.anonBytes)} / ${fmtBytes(f.fileBytes)} | ${f.heapUsedBytes === null ? '–' : fmtBytes(f.heapUsedBytes)} | – |`);
  for (const f of r.cpuFloors ?? []) L.push(`| ${f.label} | ${fmtBytes(f.rssBytes)} | – | – | – | ${pct(f.cpuPercent)} |`);
  for (const key of ['noPoll', 'idleStatic', 'idle']) {
    const f = by(key);
    const label = r.runs.find((x) => x.variant.key === key)?.variant.label ?? key;
    if (f) L.push(`| ${label} | ${fmtBytes(f.rssBytesEnd)} | ${f.pssBytes === null ? '–' : fmtBytes(f.pssBytes)} | ${fmtBytes(f.rssAnonBytes)} / ${fmtBytes(f.rssFileBytes)} | ${f.heapUsedBytes === null ? '–' : fmtBytes(f.heapUsedBytes)} | ${pct(f.cpuPercentSchedstat)} |`);
  }
  const fastify = r.floors.find((f) => f.key === 'fastify');
  const served = r.floors.find((f) => f.key === 'fastifyServed');
  const imported = r.floors.find((f) => f.key === 'imported');
  const bare = r.floors.find((f) => f.key === 'bare');
  const noPoll = by('noPoll');
  const still = by('idleStatic');
  const idle = by('idle');
  L.push('');
  if (fastify && bare) {
    L.push(
      `**RSS.** A Fastify hello world alone takes ${fmtBytes(fastify.rssBytes)} here (bare node ${fmtBytes(bare.rssBytes)}, of which ${fmtBytes(bare.fileBytes)} are the node binary's own pages)${fastify.rssBytes > LEAN_AIMS.rssMiB * MiB ? `: **above the ${LEAN_AIMS.rssMiB} MiB aim before Net-Pulse loads a line of its own**, so on Node 20 with Fastify the aim cannot be met by any change inside Net-Pulse` : ''}${served ? `; once it has answered requests (its hot code compiled: more of the node binary's pages touched, V8's optimised code and feedback) it is ${fmtBytes(served.rssBytes)}${served.rssBytes > LEAN_AIMS.rssMiB * MiB ? `, **above the ${LEAN_AIMS.rssMiB} MiB aim with one route and nothing of Net-Pulse**` : ''}` : ''}.${imported ? ` Importing Net-Pulse's modules without starting anything gives ${fmtBytes(imported.rssBytes)}${noPoll ? `; starting the server (the database and its statements, V8's optimising compiler; a route's validator and serializer are compiled by its first request) brings it to ${fmtBytes(noPoll.rssBytesEnd)} without a single poll` : ''}; polling and the client add the rest (see the rows below).` : ''} PSS, which divides the shared binary pages among the processes using them, is the fairer figure beside the peers.`,
    );
  }
  if (noPoll && still && idle) {
    L.push('');
    L.push(
      `**CPU.** The server with no poll at all uses ${pct(noPoll.cpuPercentSchedstat)} (timers, the commit check, V8's background work); polls that find nothing new add ${pct(Math.max(0, still.cpuPercentSchedstat - noPoll.cpuPercentSchedstat))} (reading and parsing /proc/net/dev for 24 interfaces, the ifindex checks, the deltas: ${still.pollDurationUsMedian === null ? '–' : fmtUs(still.pollDurationUsMedian)} a poll); writing what 24 interfaces that all change every second carried (24 raw rows a second and the minute/hour/day rollups, committed every 10 s) adds ${pct(Math.max(0, idle.cpuPercentSchedstat - still.cpuPercentSchedstat))}. Interfaces that carry nothing write nothing.`,
    );
  }
  const timer = r.cpuFloors?.find((f) => f.key === 'timer');
  const read = r.cpuFloors?.find((f) => f.key === 'read');
  const readWrite = r.cpuFloors?.find((f) => f.key === 'readWrite');
  if (timer && read && readWrite && idle) {
    L.push('');
    L.push(
      `**The CPU floor of the work itself** (bench/cpu-floor.ts, side by side with the servers): a node process that only wakes every second uses ${pct(timer.cpuPercent)}; reading the 24 interfaces with Net-Pulse's reader makes it ${pct(read.cpuPercent)}; storing what they carried as the contract and exactness ask (a raw row per interface per poll, the rollups, the counter state and run coverage, a commit every 10 s), written by hand without any of Net-Pulse's machinery, ${pct(readWrite.cpuPercent)}${readWrite.cpuPercent > LEAN_AIMS.cpuIdlePercent ? `: **above the ${LEAN_AIMS.cpuIdlePercent} % aim with nothing but the reads and the writes**, so for 24 interfaces that all change every second the aim is below what the work costs in Node with SQLite on this machine` : ''}. The server is ${pct(Math.max(0, idle.cpuPercentSchedstat - readWrite.cpuPercent))} above that floor: its collector and delta rules, the totals, usage and alerts it keeps up to date, and V8's compiler and collector working for a whole server.`,
    );
  }
  const serve = r.cpuFloors?.find((f) => f.key === 'readWriteServe');
  const serveFastify = r.cpuFloors?.find((f) => f.key === 'readWriteServeFastify');
  const dash = by('dashboard');
  if (serve && dash) {
    const aim = (cpu: number) => (cpu > LEAN_AIMS.cpuDashboardPercent ? `: **above the ${LEAN_AIMS.cpuDashboardPercent} % aim with nothing but the work and the serving**` : `, below the ${LEAN_AIMS.cpuDashboardPercent} % aim`);
    const top = serveFastify ?? serve;
    L.push('');
    L.push(
      `**With the dashboard open**, the same reads and writes plus the dashboard served by node:http without a framework (one server-sent event of rates a second, the 24 h chart every 30 s, the interface list), asked by the same client, use ${pct(serve.cpuPercent)}${aim(serve.cpuPercent)}${serveFastify ? `; served by a bare Fastify instead (the framework the API is built on; the same three routes as plain handlers), ${pct(serveFastify.cpuPercent)}${aim(serveFastify.cpuPercent)}` : ''}. The server is ${pct(Math.max(0, dash.cpuPercentSchedstat - top.cpuPercent))} above ${serveFastify ? 'the Fastify floor' : 'that floor'}${excessSplit(dash.cpuPercentSchedstat - top.cpuPercent, idle && readWrite ? idle.cpuPercentSchedstat - readWrite.cpuPercent : null, serveFastify ? '' : "Fastify's routing, ")}.`,
    );
  }
  const rw30 = r.cpuFloors?.find((f) => f.key === 'readWrite30');
  const idle30 = by('idle30');
  if (rw30 && idle30 && noPoll) {
    L.push('');
    L.push(
      `**At the default 30 s**, the reads and writes by hand (a commit after every poll) use ${pct(rw30.cpuPercent)}${rw30.cpuPercent >= 0.02 ? ' (**not below 0.02 % with nothing but the work**)' : ''}; the server ${pct(idle30.cpuPercentSchedstat)}, of which ${pct(noPoll.cpuPercentSchedstat)} is the server polling once an hour (NETPULSE_POLL_INTERVAL=3600: its timers, Node's HTTP server checking its connections every 30 s, V8's background work) and ${idle30.pollDurationUsMedian === null ? '–' : fmtUs(idle30.pollDurationUsMedian)} the median poll (read, deltas, the commit: code that runs twice a minute runs cold).`,
    );
  }
}

export function renderLean(r: LeanResult): string {
  const m = describeMachine();
  const by = (key: string) => r.runs.find((x) => x.variant.key === key)?.footprint ?? null;
  const idle = by('idle');
  const dash = by('dashboard');
  const idle30 = by('idle30');
  const L: string[] = [];
  L.push('<!-- lean-bench -->');
  L.push('## Footprint beside the monitors it replaces (issue #13)');
  L.push('');
  L.push(
    `Generated by \`npx tsx bench/lean.ts${r.quick ? ' --quick' : ''}\` (part of \`npm run bench\`) on ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${m.cpuModel}, ${m.cores} cores, Node ${m.node}; load average ${r.loadStart} at start, ${r.loadEnd} at the end${Number(r.loadStart.split(' ')[0]) > m.cores ? ' (**the machine was busy with other work: CPU shares include cache and scheduling effects of that load and are upper bounds**)' : ''}. Net-Pulse: the compiled server started through \`bin/netpulse.js\` as users start it, 24 fixture interfaces whose counters all change every second, a fresh database; ${r.spanSec / 60} minutes measured after ${r.warmupSec} s of warm-up (start-up's one-time work is reported apart: see the last column), each configuration its own process, side by side; during the span the bench reads only /proc (the JS heap is asked for after it, so nobody looking means no request at all). The dashboard client keeps /api/live open (one event a second) and reloads the chart (\`/api/traffic?time_window_hours=24&group_minutes=5\`) every 30 s, as the page does. Peers: Debian's packages as foreground children bound to 127.0.0.1, update checks and telemetry off, RSS/PSS/CPU summed over their process tree, on this machine's own interfaces (bench/peers.ts).`,
  );
  L.push('');
  L.push('| program | RSS | PSS | CPU idle | CPU with its UI/scraper | UI/scraper |');
  L.push('|---|---|---|---|---|---|');
  for (const p of r.peers) {
    if (p.error !== undefined && p.idle === null) {
      L.push(`| ${p.name} ${p.version} | – | – | – | – | not measured: ${p.error} |`);
      continue;
    }
    const rss = p.busy ?? p.idle!;
    L.push(`| ${p.name} ${p.version} | ${fmtBytes(rss.rssBytes)} | ${fmtBytes(rss.pssBytes)} | ${pct(p.idle!.cpuPercent)} | ${p.busy ? pct(p.busy.cpuPercent) : '–'} | ${p.busyNote}${rss.processes > 1 ? ` (${rss.processes} processes)` : ''} |`);
  }
  if (idle && dash) {
    L.push(`| **Net-Pulse** (1 s, 24 interfaces) | **${fmtBytes(dash.rssBytesEnd)}** | ${dash.pssBytes === null ? '–' : fmtBytes(dash.pssBytes)} | ${pct(idle.cpuPercentSchedstat)} | ${pct(dash.cpuPercentSchedstat)} | the dashboard (live + chart) |`);
  }
  L.push('');
  L.push('### Against the aims');
  L.push('');
  L.push('The floor is the same work done by the least a process can be, measured in the same run (the section "The floors under RSS and CPU" below).');
  L.push('');
  L.push('| aim | measured | floor (same run) | |');
  L.push('|---|---|---|---|');
  const served = r.floors?.find((f) => f.key === 'fastifyServed');
  const cpuFloor = (key: string) => {
    const f = r.cpuFloors?.find((x) => x.key === key);
    return f === undefined ? '–' : `${pct(f.cpuPercent)}: ${f.label}`;
  };
  if (dash) L.push(`| RSS ≤ ${LEAN_AIMS.rssMiB} MiB after ${r.spanSec / 60} min, 1 s, 24 interfaces, dashboard open | ${fmtBytes(dash.rssBytesEnd)} RSS (max ${fmtBytes(dash.rssBytesMax)}), PSS ${dash.pssBytes === null ? '–' : fmtBytes(dash.pssBytes)}: ${fmtBytes(dash.rssAnonBytes)} private + ${fmtBytes(dash.rssFileBytes)} file-backed; JS heap ${dash.heapUsedBytes === null ? '–' : fmtBytes(dash.heapUsedBytes)} | ${served ? `${fmtBytes(served.rssBytes)}: ${served.label}` : '–'} | ${verdict(dash.rssBytesEnd <= LEAN_AIMS.rssMiB * MiB)} |`);
  if (idle) L.push(`| CPU ≤ ${LEAN_AIMS.cpuIdlePercent} % of a core, 1 s, nobody looking | ${pct(idle.cpuPercentSchedstat)} (schedstat; ${pct(idle.cpuPercentStat)} in stat ticks) | ${cpuFloor('readWrite')} | ${verdict(idle.cpuPercentSchedstat <= LEAN_AIMS.cpuIdlePercent)} |`);
  if (dash) L.push(`| CPU ≤ ${LEAN_AIMS.cpuDashboardPercent} %, 1 s, dashboard open | ${pct(dash.cpuPercentSchedstat)}; ${dash.requests} requests, ${dash.failedRequests} failed | ${cpuFloor('readWriteServe')}; ${cpuFloor('readWriteServeFastify')} | ${verdict(dash.cpuPercentSchedstat <= LEAN_AIMS.cpuDashboardPercent)} |`);
  if (idle30) L.push(`| CPU ≈ 0 at the default 30 s (read here as below 0.02 %) | ${pct(idle30.cpuPercentSchedstat)} | ${cpuFloor('readWrite30')} | ${verdict(idle30.cpuPercentSchedstat < 0.02)} |`);
  L.push(`| /api/interfaces ≤ ${LEAN_AIMS.interfacesMs} ms | p50 ${fmtUs(r.interfaces.p50Us)}, p95 ${fmtUs(r.interfaces.p95Us)} wall (inject, ${r.interfaces.requests} requests, 24 fixture interfaces, metadata cached)${r.interfaces.healthP50Us === undefined ? '' : `; \`/health\`, which reads nothing, through the same app and inject: p50 ${fmtUs(r.interfaces.healthP50Us)}, p95 ${fmtUs(r.interfaces.healthP95Us ?? 0)}`} | – | ${verdict(r.interfaces.p95Us <= LEAN_AIMS.interfacesMs * 1000)} |`);
  L.push('');
  L.push('### Every configuration of this run');
  L.push('');
  L.push('| configuration | node flags | RSS end / max | PSS | private / file-backed | JS heap | CPU (schedstat) | polls | poll median | CPU of the warm-up |');
  L.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const run of r.runs) {
    const f = run.footprint;
    if (f === null) {
      L.push(`| ${run.variant.label} | | not measured: ${run.error ?? '?'} | | | | | | | |`);
      continue;
    }
    L.push(`| ${run.variant.label} | ${f.nodeArgs.join(' ') || '(none)'} | ${fmtBytes(f.rssBytesEnd)} / ${fmtBytes(f.rssBytesMax)} | ${f.pssBytes === null ? '–' : fmtBytes(f.pssBytes)} | ${fmtBytes(f.rssAnonBytes)} / ${fmtBytes(f.rssFileBytes)} | ${f.heapUsedBytes === null ? '–' : fmtBytes(f.heapUsedBytes)} | ${pct(f.cpuPercentSchedstat)} | ${f.polls} | ${f.pollDurationUsMedian === null ? '–' : fmtUs(f.pollDurationUsMedian)} | ${f.warmupCpuSec.toFixed(2)} s in ${f.warmupSec} s |`);
  }
  renderFloors(L, r, by);
  L.push('');
  L.push('Peers in detail:');
  L.push('');
  for (const p of r.peers) L.push(`- ${p.name} ${p.version}: ${p.setup}${p.error ? ` — ${p.error}` : ''}.`);
  L.push('<!-- /lean-bench -->');
  return L.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, json: { type: 'string' }, 'peers-from': { type: 'string' } },
  });
  // --peers-from <lean.json>: the peers of an earlier run (they don't change with Net-Pulse's code).
  const from = values['peers-from'];
  const peers = from ? () => (JSON.parse(fs.readFileSync(from, 'utf8')) as LeanResult).peers : undefined;
  const result = await benchLean({ quick: values.quick ?? false, ...(peers ? { peers } : {}) });
  const jsonOut = path.resolve(REPO_ROOT, values.json ?? path.join('bench', '.build', 'lean.json'));
  fs.mkdirSync(path.dirname(jsonOut), { recursive: true });
  fs.writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  replaceMarkedBlock(path.resolve(REPO_ROOT, values.out ?? 'docs/benchmarks.md'), 'lean-bench', renderLean(result));
  log(`lean: written; raw numbers in ${path.relative(REPO_ROOT, jsonOut)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
