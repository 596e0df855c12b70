/**
 * `npm run bench` (issue #2 §8): measures Net-Pulse on this machine and writes docs/benchmarks.md.
 * It never asserts: it reports, and compares with the aims. `npm run bench -- --quick` takes ~1 minute
 * (fewer iterations, 6 h of raw samples instead of 48 h, 15 s of server footprint instead of 60 s).
 *
 * Sections: poll cost (bench/poll-cost.ts), ingest (bench/ingest.ts), a generated year (bench/year-db.ts)
 * and /api/traffic on it (bench/queries.ts), the server's RSS and CPU (bench/footprint.ts), the dashboard
 * bundle (bench/bundle.ts), issue #13's aims beside the peers (bench/lean.ts, section lean). Options: --quick, --out <file>, --only poll,ingest,queries,footprint,bundle,lean,
 * --render <results.json> (rewrite the page from an earlier run's numbers).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureBundle, type BundleResult } from './bundle.js';
import { bareNodeRss, benchFootprint, buildForBench, REPO_ROOT, type FootprintResult } from './footprint.js';
import { benchIngest, type IngestRow } from './ingest.js';
import { benchLean, renderLean } from './lean.js';
import { replaceMarkedBlock } from './soak.js';
import { measureModuleCosts, type ModuleCost } from './module-cost.js';
import { describeMachine, fmtBytes, fmtInt, fmtUs, loadAverage, log, MiB, type Machine, type Timing } from './lib/measure.js';
import { benchPollCost, type PollCostResult } from './poll-cost.js';
import { benchQueries, type QueriesResult, type QueryRow } from './queries.js';
import { generateYearDb, type YearDb } from './year-db.js';

const AIMS = { pollUs: 50, queryP95Ms: 20, rssMiB: 64, cpuPercent: 0.2 };
const PEERS_RSS_MIB: [string, number][] = [
  ['vnstatd', 3.6],
  ['node_exporter', 17],
  ['Glances', 33],
  ['Netdata', 84],
];

interface Results {
  quick: boolean;
  machine: Machine;
  loadStart: string;
  loadEnd: string;
  durationSec: number;
  poll?: PollCostResult;
  ingest?: IngestRow[];
  year?: Omit<YearDb, 'cleanup' | 'dir' | 'dbPath'>;
  queries?: QueriesResult;
  footprint?: FootprintResult;
  footprintSmallHeap?: FootprintResult;
  bareNode?: { rssBytes: number; anonBytes: number; fileBytes: number };
  moduleCosts?: ModuleCost[];
  footprintError?: string;
  bundle?: BundleResult;
}

const SMALL_HEAP_ARGS = ['--max-semi-space-size=1'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' }, render: { type: 'string' } },
    allowPositionals: false,
  });
  if (values.render !== undefined) {
    // Re-renders the page from a results.json of an earlier run (no measuring).
    const saved = JSON.parse(fs.readFileSync(values.render, 'utf8')) as Results;
    writeKeepingSync(path.resolve(REPO_ROOT, values.out ?? 'docs/benchmarks.md'), renderReport(saved));
    return;
  }
  const quick = values.quick ?? false;
  const only = new Set((values.only ?? 'poll,ingest,queries,footprint,bundle,lean').split(',').map((s) => s.trim()));
  const out = path.resolve(REPO_ROOT, values.out ?? 'docs/benchmarks.md');
  const started = Date.now();
  const results: Results = { quick, machine: describeMachine(), loadStart: loadAverage(), loadEnd: '', durationSec: 0 };
  log(`load average ${results.loadStart}${quick ? ' (quick run)' : ''}`);

  if (only.has('poll')) results.poll = await benchPollCost({ iterations: quick ? 1000 : 3000 });
  if (only.has('ingest')) results.ingest = await benchIngest({ samplesPerBatchSize: quick ? 24_000 : 72_000 });
  if (only.has('queries')) {
    const year = generateYearDb({ rawHours: quick ? 6 : 48 });
    try {
      results.queries = await benchQueries(year, { iterations: quick ? 10 : 30 });
      const { cleanup: _c, dir: _d, dbPath: _p, ...rest } = year;
      results.year = rest;
    } finally {
      year.cleanup();
    }
  }
  if (only.has('footprint')) {
    try {
      log('footprint: compiling a build for plain node');
      const build = buildForBench();
      results.bareNode = await bareNodeRss();
      results.moduleCosts = measureModuleCosts(path.join(path.dirname(build.entry), '..', 'server.js'));
      results.footprint = await benchFootprint({ build, ...(quick ? { warmupSec: 5, measuredSec: 15 } : { warmupSec: 10, measuredSec: 60 }) });
      results.footprintSmallHeap = await benchFootprint({ build, nodeArgs: SMALL_HEAP_ARGS, ...(quick ? { warmupSec: 5, measuredSec: 10 } : { warmupSec: 10, measuredSec: 30 }) });
    } catch (err) {
      results.footprintError = err instanceof Error ? err.message : String(err);
      log(`footprint failed: ${results.footprintError}`);
    }
  }
  if (only.has('bundle')) results.bundle = measureBundle();
  results.durationSec = (Date.now() - started) / 1000;
  results.loadEnd = loadAverage();

  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeKeepingSync(out, renderReport(results));
  // Issue #13's aims beside the peers (bench/lean.ts): its own marked section of the page.
  if (only.has('lean')) replaceMarkedBlock(out, 'lean-bench', renderLean(await benchLean({ quick })));
  const jsonOut = path.join(REPO_ROOT, 'bench', '.build', 'results.json');
  fs.mkdirSync(path.dirname(jsonOut), { recursive: true });
  fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  log(`wrote ${path.relative(REPO_ROOT, out)} (raw numbers in ${path.relative(REPO_ROOT, jsonOut)}) in ${results.durationSec.toFixed(0)} s; load average ${results.loadEnd}`);
}

// ---------------------------------------------------------------------------------------------- report

const verdict = (ok: boolean) => (ok ? 'meets' : '**misses**');

function timingRow(label: string, t: Timing): string {
  return `| ${label} | ${fmtUs(t.cpu.p50)} | ${fmtUs(t.wall.p50)} | ${fmtUs(t.wall.p95)} | ${fmtUs(t.wall.p99)} |`;
}

function renderReport(r: Results): string {
  const m = r.machine;
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(`Generated by \`npm run bench${r.quick ? ' -- --quick' : ''}\` (bench/run.ts) on ${m.date.slice(0, 16).replace('T', ' ')} UTC in ${r.durationSec.toFixed(0)} s. Re-run it to refresh this page; the raw numbers land in bench/.build/results.json.${r.quick ? ' **Quick run**: fewer iterations, 6 h of raw samples, shorter footprint spans.' : ''}`);
  L.push('');
  L.push('| machine | |');
  L.push('|---|---|');
  L.push(`| CPU | ${m.cpuModel} |`);
  L.push(`| cores | ${m.cores} |`);
  L.push(`| RAM | ${(m.ramBytes / 1024 / MiB).toFixed(1)} GiB |`);
  L.push(`| kernel | ${m.kernel} |`);
  L.push(`| Node | ${m.node} |`);
  L.push(`| file system of the temp dir (databases, fixtures) | ${m.tmpFs} |`);
  L.push(`| load average (1/5/15 min) at start / end | ${r.loadStart} / ${r.loadEnd} |`);
  L.push('');
  const busy = Number(r.loadStart.split(' ')[0]) > m.cores || Number(r.loadEnd.split(' ')[0]) > m.cores;
  L.push(
    `Times are given as **CPU time** (getrusage of this process: what the work cost) and **wall time** (what a caller waited).${busy ? ` The load average was above the core count during this run (other work on the machine), so wall times include waiting for a core and are inflated; the CPU times are the better measure of Net-Pulse's own cost, and the aims below are judged on them where a run was this busy.` : ''}`,
  );
  L.push('');

  L.push('## Against the aims');
  L.push('');
  L.push('| aim | measured | |');
  L.push('|---|---|---|');
  if (r.poll) {
    const p = r.poll.fixture.readParseDeltas;
    L.push(`| poll of 24 interfaces (read + parse + deltas) ≤ ${AIMS.pollUs} µs | median ${fmtUs(p.cpu.p50)} CPU, ${fmtUs(p.wall.p50)} wall (fixture file, counters changed since the last poll); ${fmtUs(r.poll.fixture.readParseDeltasHot.cpu.p50)} CPU on an unchanged file with warm caches | ${verdict(p.cpu.p50 <= AIMS.pollUs)} |`);
    const est = pollOnRealProcfs(r.poll);
    if (est !== null) L.push(`| the same with the real procfs and sysfs of 24 interfaces | ≈ ${fmtUs(est)} CPU median (real /proc/net/dev read and ifindex preads + the fixture's parse, bookkeeping and deltas) | ${verdict(est <= AIMS.pollUs)} |`);
    const w = r.poll.fixture.fullPollWithWrite;
    L.push(`| (no aim) whole poll with its SQLite transaction | median ${fmtUs(w.cpu.p50)} CPU, ${fmtUs(w.wall.p50)} wall, p95 ${fmtUs(w.wall.p95)} wall | |`);
  }
  if (r.queries) {
    const judged = (q: QueryRow) => (busy ? q.http.cpu.p95 : q.http.wall.p95);
    const worst = [...r.queries.rows].sort((a, b) => judged(b) - judged(a))[0]!;
    const over = r.queries.rows.filter((q) => judged(q) / 1000 > AIMS.queryP95Ms);
    L.push(`| every /api/traffic query p95 ≤ ${AIMS.queryP95Ms} ms (a year of 24 interfaces) | worst: ${worst.label}, ${worst.interfaceName ?? 'sum of 24'}: p95 ${fmtUs(worst.http.cpu.p95)} CPU, ${fmtUs(worst.http.wall.p95)} wall; ${over.length} of ${r.queries.rows.length} cases over${busy ? ' (judged on CPU time)' : ''} | ${verdict(over.length === 0)} |`);
    const summary = r.queries.extras.find((e) => e.url.endsWith('hours=720'));
    if (summary) {
      const p95 = busy ? summary.http.cpu.p95 : summary.http.wall.p95;
      L.push(`| the 30-day summary (\`/api/traffic/summary?hours=720\`) p95 ≤ ${AIMS.queryP95Ms} ms | p50 ${fmtUs(summary.http.cpu.p50)} CPU, p95 ${fmtUs(summary.http.cpu.p95)} CPU, ${fmtUs(summary.http.wall.p95)} wall${busy ? ' (judged on CPU time)' : ''} | ${verdict(p95 / 1000 <= AIMS.queryP95Ms)} |`);
    }
  }
  if (r.footprint) {
    const f = r.footprint;
    L.push(`| RSS ≤ ${AIMS.rssMiB} MiB after a minute at 1 s polling of 24 interfaces | ${fmtBytes(f.rssBytesEnd)} at the end (max ${fmtBytes(f.rssBytesMax)}): ${fmtBytes(f.rssAnonBytes)} private (anonymous) + ${fmtBytes(f.rssFileBytes)} file-backed (mostly the node binary's pages: shared, clean, reclaimable)${r.footprintSmallHeap ? `; ${fmtBytes(r.footprintSmallHeap.rssBytesEnd)} with ${r.footprintSmallHeap.nodeArgs.join(' ')}` : ''} | ${verdict(f.rssBytesEnd <= AIMS.rssMiB * MiB)} |`);
    L.push(`| CPU < ${AIMS.cpuPercent} % of a core at 1 s polling of 24 interfaces | ${f.cpuPercentSchedstat.toFixed(3)} % (schedstat), ${f.cpuPercentStat.toFixed(3)} % (stat ticks) | ${verdict(f.cpuPercentSchedstat < AIMS.cpuPercent)} |`);
  } else if (r.footprintError) {
    L.push(`| RSS / CPU | not measured: ${r.footprintError.split('\n')[0]} | |`);
  }
  L.push('');
  renderCauses(L, r, busy);

  if (r.poll) renderPoll(L, r.poll);
  if (r.ingest) renderIngest(L, r.ingest);
  if (r.year && r.queries) renderQueries(L, r.year, r.queries, busy);
  if (r.footprint) renderFootprint(L, r.footprint, r.footprintSmallHeap, r.bareNode, r.moduleCosts ?? []);
  if (r.bundle) renderBundle(L, r.bundle);
  return L.join('\n') + '\n';
}

/** Where each missed aim's time or memory goes, from this run's own breakdowns (the sections below). */
function renderCauses(L: string[], r: Results, busy: boolean): void {
  const items: string[] = [];
  if (r.poll) {
    const f = r.poll.fixture;
    const real = r.poll.realNetns24;
    const est = pollOnRealProcfs(r.poll);
    if (f.readParseDeltas.cpu.p50 > AIMS.pollUs || (est !== null && est > AIMS.pollUs)) {
      items.push(
        `**Poll.** Parsing the 25 lines costs ${fmtUs(f.parse.cpu.p50)} (a hand scan of each line; a line unchanged since the last read is reused, a changed one makes 8 BigInts), readCounters' per-interface bookkeeping (a pread of each interface's open ifindex file to notice re-creation, went-down checks over 8 BigInts) ${fmtUs(Math.max(0, f.readCounters.cpu.p50 - f.readFile.cpu.p50 - f.parse.cpu.p50))} on the fixture${real ? ` (on real sysfs the 24 preads alone are ${fmtUs(real.preadAll.cpu.p50)})` : ''}, the deltas ${fmtUs(f.deltas.cpu.p50)}${real ? `, and the kernel's own formatting of /proc/net/dev for 24 devices ${fmtUs(real.readFile.cpu.p50)}` : ''}. The whole poll is dominated by its SQLite write: ${fmtUs(f.writeParts.trafficWrite24.cpu.p50)} for the 96 statements of 24 samples (a raw row and three rollup upserts each) plus ${fmtUs(f.writeParts.stateSave25.cpu.p50)} for the counter state (25 upserts, every interface, every poll).`,
      );
    }
  }
  if (r.queries) {
    const judged = (t: Timing) => (busy ? t.cpu.p95 : t.wall.p95);
    const over = r.queries.rows.filter((q) => judged(q.http) / 1000 > AIMS.queryP95Ms);
    const sum = over.filter((q) => q.interfaceName === null);
    const one = over.filter((q) => q.interfaceName !== null);
    const alt = r.queries.alternatives;
    if (sum.length > 0) {
      const big = sum[sum.length - 1]!;
      items.push(
        `**Sums of 24 interfaces** (${sum.map((q) => q.label).join(', ')}): for a year of hours the server reads ${fmtInt(big.tierRows)} rows of ${big.table}: SQLite ${fmtUs(big.sqlite.cpu.p50)}, rows into JavaScript ${fmtUs(Math.max(0, big.repo.cpu.p50 - big.sqlite.cpu.p50))}, ${big.http.cpu.p50 < big.repo.cpu.p50 ? `a cold read of the range costs more than the whole request (p50 ${fmtUs(big.http.cpu.p50)}), whose closed buckets' rows and JSON bytes come from memory (issue #13)` : `buckets, coverage and JSON for ${fmtInt(big.buckets)} points ${fmtUs(Math.max(0, big.http.cpu.p50 - big.repo.cpu.p50))}`} (plans below).${alt.length >= 3 ? ` The same sums from the 24 listed interfaces (any set that isn't exactly the monitored one): SQLite ${fmtUs(alt[0]!.sqlite.cpu.p50)} (primary key per interface, then a temporary B-tree to group by bucket); from a covering index in bucket order ${fmtUs(alt[1]!.sqlite.cpu.p50)}; from a pre-summed series ${fmtUs(alt[2]!.sqlite.cpu.p50)}.` : ''}`,
      );
    }
    if (one.length > 0) {
      const big = one[one.length - 1]!;
      items.push(
        `**Long single-interface series** (${one.map((q) => q.label).join(', ')}): SQLite is cheap (${fmtUs(big.sqlite.cpu.p50)} for ${fmtInt(big.tierRows)} rows); the time is in JavaScript per point: rows become objects (${fmtUs(Math.max(0, big.repo.cpu.p50 - big.sqlite.cpu.p50))}), ${big.http.cpu.p50 < big.repo.cpu.p50 ? `in the server the rows of closed buckets and their JSON bytes come from memory (issue #13): the whole request, p50 ${fmtUs(big.http.cpu.p50)}, costs less than that cold read` : `then bucket filling, coverage, an ISO date string per point and serialisation (${fmtUs(Math.max(0, big.http.cpu.p50 - big.repo.cpu.p50))} for ${fmtInt(big.buckets)} points, about ${fmtUs(Math.max(0, big.http.cpu.p50 - big.repo.cpu.p50) / Math.max(1, big.buckets))} each)`}. Smaller cases over the aim at p95 but not at p50 are garbage-collection pauses landing in a request.`,
      );
    }
    const summary = r.queries.extras.find((e) => e.url.includes('hours=720'));
    if (summary && summary.http.cpu.p50 / 1000 > AIMS.queryP95Ms) {
      items.push(
        `**GET /api/traffic/summary** (no aim): ${fmtUs(summary.http.cpu.p50)} CPU for 30 days of 24 interfaces; the plans of its per-interface sums (sumByInterface) are below: the \`? IS NULL OR interface_name IN (…)\` filter leaves SQLite the bucket_start index with a row lookup each.`,
      );
    }
  }
  if (r.footprint && r.footprint.rssBytesEnd > AIMS.rssMiB * MiB) {
    const f = r.footprint;
    const server = r.moduleCosts?.find((m) => m.module.startsWith('the compiled server'));
    items.push(
      `**RSS.** ${fmtBytes(f.rssFileBytes)} of it is file-backed (a bare node already maps ${r.bareNode ? fmtBytes(r.bareNode.fileBytes) : 'about 33 MiB'} of its binary; the rest is more of the binary and the native SQLite addon as the server's code paths touch them); the private part is ${fmtBytes(f.rssAnonBytes)}, of which the JS heap is ${f.heapUsedBytes === null ? '–' : fmtBytes(f.heapUsedBytes)}.${server ? ` Merely loading the server's modules takes ${fmtBytes(server.rssBytes)} RSS and ${fmtBytes(server.heapUsedBytes)} of heap (fastify with its CORS and rate-limit plugins, pino, better-sqlite3; Ajv and fast-json-stringify with a route's first request, the OpenAPI document and UI with the first /docs request, pg only when sync is configured).` : ''} A smaller young generation (${r.footprintSmallHeap?.nodeArgs.join(' ') ?? '--max-semi-space-size'}) mainly lowers the peak (${r.footprintSmallHeap ? fmtBytes(r.footprintSmallHeap.rssBytesMax) : '–'} vs ${fmtBytes(f.rssBytesMax)}).`,
    );
  }
  if (r.footprint && r.footprint.cpuPercentSchedstat >= AIMS.cpuPercent) {
    const f = r.footprint;
    items.push(
      `**CPU.** In service a poll takes ${f.pollDurationUsMedian === null ? '–' : fmtUs(f.pollDurationUsMedian)} (cold: once a second nothing is in cache), ${f.pollDurationUsMedian === null ? '' : `${((f.pollDurationUsMedian / 1e6) * 100).toFixed(2)} % of a core by itself; `}the rest is garbage collection of what each poll allocates (BigInts, row objects) and timers. The places to save are the poll's statements (the counter state of every interface is rewritten every poll, changed or not) and its allocations (parse and deltas make 8 BigInts per interface and step). The share varies by a factor of about 2 between runs on a busy machine.`,
    );
  }
  if (items.length === 0) return;
  L.push('### Where the misses come from');
  L.push('');
  for (const item of items) L.push(`- ${item}`);
  L.push('');
}

function pollOnRealProcfs(p: PollCostResult): number | null {
  if (p.realNetns24 === null) return null;
  // The fixture's ifindex files are regular files (their preads are in the fixture's bookkeeping, a few µs):
  // adding the real sysfs preads on top errs high by that much.
  return p.realNetns24.readFile.cpu.p50 + p.realNetns24.preadAll.cpu.p50 + Math.max(0, p.fixture.readParseDeltas.cpu.p50 - p.fixture.readFile.cpu.p50);
}

function renderPoll(L: string[], p: PollCostResult): void {
  L.push('## Poll cost, 24 interfaces');
  L.push('');
  L.push(`The real Linux counter source (createLinuxSource) on a fixture tree of 24 Ethernet interfaces (+ lo). Before each timed run (untimed) the counters advance by a second of traffic and the fixture's /proc/net/dev is rewritten, so every run meets changed counters and cold caches, as a poll does once a second in service; ${fmtInt(p.iterations)} runs after a warm-up. The fixture is a regular file; the real procfs rows follow.`);
  L.push('');
  L.push('| step | CPU median | wall median | wall p95 | wall p99 |');
  L.push('|---|---|---|---|---|');
  L.push(timingRow('read the fixture /proc/net/dev (readFileSync)', p.fixture.readFile));
  L.push(timingRow('parse it (parseProcNetDev, 25 lines)', p.fixture.parse));
  L.push(timingRow('source.readCounters() (read + parse + ifindex check per interface + stamp)', p.fixture.readCounters));
  L.push(timingRow('computeDeltas (24 interfaces)', p.fixture.deltas));
  L.push(timingRow('**read + parse + deltas**', p.fixture.readParseDeltas));
  L.push(timingRow('read + parse + deltas, unchanged file, warm caches (lower bound)', p.fixture.readParseDeltasHot));
  L.push(timingRow('**collector.pollNow() with its SQLite transaction** (24 raw rows + 72 rollup upserts + counter state)', p.fixture.fullPollWithWrite));
  L.push(timingRow('… of which: an empty transaction (BEGIN + COMMIT)', p.fixture.writeParts.emptyTransaction));
  L.push(timingRow('… of which: TrafficRepo.write of 24 samples (96 statements) in a transaction', p.fixture.writeParts.trafficWrite24));
  L.push(timingRow('… of which: StateRepo.save of 25 interfaces (27 statements) in a transaction', p.fixture.writeParts.stateSave25));
  L.push(timingRow(`real /proc/net/dev of this machine (${p.realHost.interfaces} interfaces): read`, p.realHost.readFile));
  L.push(timingRow('… parse', p.realHost.parse));
  if (p.realNetns24) {
    const n = p.realNetns24;
    L.push(timingRow(`real procfs with ${n.interfaces} veth interfaces (scratch netns): read /proc/net/dev`, n.readFile));
    L.push(timingRow('… parse', n.parse));
    L.push(timingRow('… pread of 24 open /sys/class/net/*/ifindex descriptors (the source\'s re-creation check, every poll)', n.preadAll));
    L.push(timingRow('… open + read + close of 24 /sys/class/net/*/ifindex (for comparison)', n.ifindexAll));
  }
  L.push('');
  L.push(`The collector's own measure of its polls here (poll_duration_us_median, wall): ${p.fixture.collectorReportedMedianUs === null ? '–' : fmtUs(p.fixture.collectorReportedMedianUs)}.`);
  if (p.realNetns24Skipped) L.push(`Real procfs with 24 interfaces: not measured (${p.realNetns24Skipped}).`);
  if (p.realNetns24) L.push(`${p.realNetns24.note}.`);
  const f = p.fixture;
  const est = pollOnRealProcfs(p);
  L.push('');
  L.push(
    `Where a poll's CPU goes: reading ${fmtUs(f.readFile.cpu.p50)} (fixture)${p.realNetns24 ? ` or ${fmtUs(p.realNetns24.readFile.cpu.p50)} (real procfs, where the kernel formats every device's stats)` : ''}, parsing ${fmtUs(f.parse.cpu.p50)} (every line changed here: 8 BigInts per line), the deltas ${fmtUs(f.deltas.cpu.p50)} (BigInt arithmetic on 8 counters × 24 plus the plausibility checks); readCounters' own bookkeeping is the rest. ${est !== null && est > AIMS.pollUs ? `With a real procfs the read alone is near the ${AIMS.pollUs} µs aim, so with every one of 24 interfaces busy the aim is out of reach of any parse; idle interfaces (unchanged lines) cost almost nothing (see the unchanged-file row).` : ''}`,
  );
  L.push('');
}

function renderIngest(L: string[], rows: IngestRow[]): void {
  L.push('## Ingest');
  L.push('');
  L.push('TrafficRepo.write of 1-second samples of 24 interfaces into a fresh file database (WAL, synchronous=NORMAL), in transactions of N samples. Each sample is one traffic_data row plus an upsert into each of traffic_1m, traffic_1h and traffic_1d.');
  L.push('');
  L.push('| samples per transaction | samples | seconds wall / CPU | samples/s (wall) | samples per CPU-second | SQL rows written per CPU-second |');
  L.push('|---|---|---|---|---|---|');
  for (const r of rows) L.push(`| ${fmtInt(r.samplesPerTransaction)} | ${fmtInt(r.samples)} | ${r.seconds.toFixed(2)} / ${r.cpuSeconds.toFixed(2)} | ${fmtInt(r.samplesPerSec)} | ${fmtInt(r.samples / r.cpuSeconds)} | ${fmtInt((r.samples * 4) / r.cpuSeconds)} |`);
  L.push('');
  const per24 = rows.find((r) => r.samplesPerTransaction === 24);
  if (per24) L.push(`At 24 samples per transaction (one poll of 24 interfaces) the write costs about ${fmtUs((per24.cpuSeconds / (per24.samples / 24)) * 1e6)} CPU per poll; 1 s polling of 24 interfaces needs 24 samples/s, so ingest has headroom of ${fmtInt(per24.samples / per24.cpuSeconds / 24)}×.`);
  L.push('');
}

function renderQueries(L: string[], year: NonNullable<Results['year']>, q: QueriesResult, busy: boolean): void {
  L.push('## A year of 24 interfaces at 1 s');
  L.push('');
  L.push(`Not 756M raw inserts: the tables are written directly as the collector leaves them after a year (bench/year-db.ts): traffic_data for the last ${year.rawHours} h at 1 s, traffic_1m for 30 days (its retention), traffic_1h and traffic_1d (UTC days) for 365 days; each tier the exact sum of the finer one where both exist; non-zero values with a daily cycle, quieter weekends, 4 busy interfaces (1–20 MB/s at peak) and 20 quiet ones. Generated in ${year.generateSeconds.toFixed(0)} s${year.totalsRebuildSeconds == null ? '' : `, of which ${year.totalsRebuildSeconds.toFixed(1)} s for TrafficRepo to build the pre-summed monitored totals of all three tiers (also what changing the monitored set costs after a year)`}.`);
  L.push('');
  L.push('| table | rows | bytes incl. its bucket index (dbstat) |');
  L.push('|---|---|---|');
  for (const t of ['traffic_data', 'traffic_1m', 'traffic_1h', 'traffic_1d'] as const) {
    const bytes = year.tableBytes ? (year.tableBytes[t] ?? 0) + (year.tableBytes[`${t}_${t === 'traffic_data' ? 'timestamp' : 'bucket_start'}`] ?? 0) : null;
    L.push(`| ${t} | ${fmtInt(year.rows[t])} | ${bytes === null ? '–' : fmtBytes(bytes)} |`);
  }
  const totalsBytes = year.tableBytes ? Object.entries(year.tableBytes).filter(([name]) => name.startsWith('traffic_total_')).reduce((sum, [, b]) => sum + b, 0) : 0;
  if (totalsBytes > 0) L.push(`| traffic_total_1m/1h/1d (pre-summed monitored set) | | ${fmtBytes(totalsBytes)} |`);
  L.push(`| **database file** | | **${fmtBytes(year.fileBytes)}** |`);
  L.push('');
  if (year.rawHours < 48 && year.tableBytes) {
    const raw = (year.tableBytes.traffic_data ?? 0) + (year.tableBytes.traffic_data_timestamp ?? 0);
    L.push(`With the full 48 h of raw samples (4.1M rows) traffic_data would be about ${fmtBytes(raw * (48 / year.rawHours))} and the file about ${fmtBytes(year.fileBytes + raw * (48 / year.rawHours - 1))}.`);
    L.push('');
  }
  L.push('### GET /api/traffic on that year');
  L.push('');
  L.push(`The real server (startServer) on the generated database; requests over HTTP on loopback (fetch with keep-alive, the body read as bytes: routing, validation, the query, coverage, JSON and the socket; CPU is the whole process's, the client's share included), ${q.iterations} timed requests per case after 3 untimed. "Repo" is the repository call the traffic service makes, alone, over the same range (${q.monitoredTotal ? 'TrafficRepo.series: the pre-summed monitored total for the sum of the monitored set, the listed interfaces otherwise' : 'TrafficRepo.sumByBucket'}; SQLite plus turning rows into JavaScript objects); "SQLite" is the same statement wrapped in \`SELECT COUNT(*)\`, so no row reaches JavaScript. "Rows read" counts the rows of the table read in the range.`);
  L.push('');
  L.push('| window / grouping | scope | buckets | table read | rows read | request p50 CPU | request p95 CPU | request p50 wall | request p95 wall | repo p50 CPU | SQLite p50 CPU | p95 ≤ 20 ms |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const judged = (t: Timing) => (busy ? t.cpu.p95 : t.wall.p95);
  for (const row of q.rows) {
    L.push(
      `| ${row.label} | ${row.interfaceName ?? 'sum of 24'} | ${fmtInt(row.buckets)} | ${row.table ?? row.tier} | ${fmtInt(row.tierRows)} | ${fmtUs(row.http.cpu.p50)} | ${fmtUs(row.http.cpu.p95)} | ${fmtUs(row.http.wall.p50)} | ${fmtUs(row.http.wall.p95)} | ${fmtUs(row.repo.cpu.p50)} | ${fmtUs(row.sqlite.cpu.p50)} | ${judged(row.http) / 1000 <= AIMS.queryP95Ms ? 'yes' : '**no**'} |`,
    );
  }
  L.push('');
  L.push('Other reads on the same database (not in the aim list, shown for comparison):');
  L.push('');
  L.push('| request | p50 CPU | p50 wall | p95 wall |');
  L.push('|---|---|---|---|');
  for (const e of q.extras) L.push(`| ${e.label} (\`${e.url}\`) | ${fmtUs(e.http.cpu.p50)} | ${fmtUs(e.http.wall.p50)} | ${fmtUs(e.http.wall.p95)} |`);
  L.push('');
  const over = q.rows.filter((row) => judged(row.http) / 1000 > AIMS.queryP95Ms);
  if (over.length > 0) {
    L.push('Over the aim, and where the time goes (CPU medians):');
    L.push('');
    for (const row of over) {
      const js = Math.max(0, row.repo.cpu.p50 - row.sqlite.cpu.p50);
      const rest = Math.max(0, row.http.cpu.p50 - row.repo.cpu.p50);
      const cached = row.http.cpu.p50 < row.repo.cpu.p50;
      L.push(
        `- ${row.label}, ${row.interfaceName ?? 'sum of 24'} (p50 ${fmtUs(row.http.cpu.p50)}, p95 ${fmtUs(row.http.cpu.p95)} CPU): SQLite ${fmtUs(row.sqlite.cpu.p50)} over ${fmtInt(row.tierRows)} ${row.table ?? row.tier} rows; rows into JavaScript objects ${fmtUs(js)} (a repository with an empty cache); ` +
          (cached
            ? `the whole request costs less than that read: the rows of closed buckets and their JSON bytes come from memory (issue #13), only the newest buckets are read and rendered.`
            : `bucket filling, coverage and serialising ${fmtInt(row.buckets)} points ${fmtUs(rest)}.`) +
          `${row.http.cpu.p50 / 1000 <= AIMS.queryP95Ms ? ' Over only at p95: a garbage collection or a busy core landing in a request.' : ''}`,
      );
    }
    L.push('');
  }
  L.push('### Query plans (EXPLAIN QUERY PLAN of the statements TrafficRepo prepares, as the cases above run them)');
  L.push('');
  L.push('```');
  for (const p of q.plans) {
    L.push(`${p.label}:`);
    for (const line of p.plan) L.push(`  ${line}`);
  }
  L.push('```');
  L.push('');
  if (q.alternatives.length > 0) {
    L.push('Ways to answer the heaviest case (1 year / 1 h, sum of 24), SQLite alone, tried on the bench\'s throwaway copy:');
    L.push('');
    L.push('| way | rows returned | SQLite p50 CPU | p95 CPU |');
    L.push('|---|---|---|---|');
    for (const a of q.alternatives) L.push(`| ${a.label} | ${fmtInt(a.rows)} | ${fmtUs(a.sqlite.cpu.p50)} | ${fmtUs(a.sqlite.cpu.p95)} |`);
    L.push('');
  }
}

function renderFootprint(L: string[], f: FootprintResult, small: FootprintResult | undefined, bare: Results['bareNode'], modules: ModuleCost[]): void {
  L.push('## Server footprint at 1 s polling of 24 interfaces');
  L.push('');
  L.push(`\`${f.runner}\`: plain node, as \`npm start\` runs it, on a fresh database, polling a 24-interface fixture every second whose counters advance every second (so every poll writes 24 samples); nobody calls the API meanwhile. After ${f.warmupSec} s of warm-up, ${f.measuredSec.toFixed(0)} s measured: ${f.polls} polls, median poll ${f.pollDurationUsMedian === null ? '–' : fmtUs(f.pollDurationUsMedian)} wall (the collector's own measure, write included).`);
  L.push('');
  const cols = small ? ['', 'default', small.nodeArgs.join(' ')] : ['', 'default'];
  const row = (label: string, get: (x: FootprintResult) => string) => L.push(`| ${[label, get(f), ...(small ? [get(small)] : [])].join(' | ')} |`);
  L.push(`| ${cols.join(' | ')} |`);
  L.push(`|${cols.map(() => '---').join('|')}|`);
  row('measured span', (x) => `${x.measuredSec.toFixed(0)} s, ${x.polls} polls`);
  row('RSS at the end', (x) => fmtBytes(x.rssBytesEnd));
  row('… anonymous / file-backed', (x) => `${fmtBytes(x.rssAnonBytes)} / ${fmtBytes(x.rssFileBytes)}`);
  row('RSS max over the span / high-water mark', (x) => `${fmtBytes(x.rssBytesMax)} / ${fmtBytes(x.rssHwmBytes)}`);
  row('JS heap used', (x) => (x.heapUsedBytes === null ? '–' : fmtBytes(x.heapUsedBytes)));
  row('threads', (x) => String(x.threads));
  row('CPU, share of one core (all threads, schedstat ns)', (x) => `${x.cpuPercentSchedstat.toFixed(3)} %`);
  row('CPU, share of one core (stat utime+stime, 10 ms ticks)', (x) => `${x.cpuPercentStat.toFixed(3)} %`);
  L.push('');
  if (bare) L.push(`For scale: a bare \`node -e 'setInterval(() => {}, 1000)'\` has an RSS of ${fmtBytes(bare.rssBytes)} here (anonymous ${fmtBytes(bare.anonBytes)}, file-backed ${fmtBytes(bare.fileBytes)}: mostly the node binary's own pages).`);
  L.push('');
  if (modules.length > 0) {
    const base = modules.find((m) => m.module === '(bare node)');
    L.push('What loading the dependencies costs a fresh node process (after a full GC; each row alone, so they overlap — fastify is inside every @fastify row):');
    L.push('');
    L.push('| loaded | RSS | JS heap used | heap above bare node |');
    L.push('|---|---|---|---|');
    for (const m of modules) L.push(`| ${m.module} | ${fmtBytes(m.rssBytes)} | ${fmtBytes(m.heapUsedBytes)} | ${base && m !== base ? `+${fmtBytes(m.heapUsedBytes - base.heapUsedBytes)}` : ''} |`);
    L.push('');
  }
  L.push('Peers measured here earlier (RSS): ' + PEERS_RSS_MIB.map(([n, v]) => `${n} ${v} MiB`).join(', ') + `; Net-Pulse: ${(f.rssBytesEnd / MiB).toFixed(1)} MiB.`);
  L.push('');
}

function renderBundle(L: string[], b: BundleResult): void {
  L.push('## Dashboard bundle');
  L.push('');
  if (b.files.length === 0) {
    L.push('frontend/dist is not built (`npm run build -w frontend`), so not measured.');
    L.push('');
    return;
  }
  L.push(`frontend/dist/assets as last built (${b.builtAt?.slice(0, 16).replace('T', ' ')} UTC; the bench does not rebuild it), gzip level 9. Only the index chunk is initial JS (the Usage chunk loads when that view opens); time to data on screen is in the dashboard section below (npm run bench:dashboard).`);
  L.push('');
  L.push('| file | bytes | gzip |');
  L.push('|---|---|---|');
  for (const f of b.files) L.push(`| ${f.file} | ${fmtBytes(f.bytes)} | ${fmtBytes(f.gzipBytes)} |`);
  L.push(`| **all JavaScript** | | **${fmtBytes(b.jsGzipTotal)}** |`);
  L.push('');
}

await main();

/** Writes the page, keeping the sections other benches maintain (bench/dashboard.ts, sync.ts, forecast.ts, hosts.ts, flows, qos.ts, lean and soak, and issue #13's hand-written experiment notes) between their markers. */
function writeKeepingSync(file: string, page: string): void {
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const kept = ['dashboard', 'sync', 'forecast', 'hosts', 'flows', 'qos', 'lean', 'soak', 'i13-notes']
    .map((name) => new RegExp(`<!-- ${name}-bench -->[\\s\\S]*?<!-- /${name}-bench -->`).exec(previous)?.[0])
    .filter((block): block is string => block !== undefined);
  fs.writeFileSync(file, [page.trimEnd(), ...kept].join('\n\n') + '\n');
}
