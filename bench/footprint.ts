/**
 * The server's footprint in service: `netpulse serve` from a compiled build (as `npm start` runs it: plain
 * node, no tsx), polling 24 fixture interfaces every second whose counters advance each second, on a fresh
 * database. After a warm-up, CPU time over the measured span comes from /proc/<pid>/stat (utime + stime,
 * all threads) and /proc/<pid>/task/<tid>/schedstat (ns), RSS from /proc/<pid>/status.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONFIG_KEYS, createConfigRepo } from '../src/storage/config-repo.js';
import { openDatabase } from '../src/storage/db.js';
import { makeAdvancingTree } from './lib/fixture24.js';
import { log } from './lib/measure.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const BUILD_DIR = path.join(REPO_ROOT, 'bench', '.build');

export interface FootprintResult {
  runner: string;
  nodeArgs: string[];
  warmupSec: number;
  /** CPU seconds the server used from its start message to the end of the warm-up (start-up's one-time work). */
  warmupCpuSec: number;
  measuredSec: number;
  polls: number;
  pollDurationUsMedian: number | null;
  cpuPercentStat: number;
  cpuPercentSchedstat: number;
  rssBytesEnd: number;
  rssBytesMax: number;
  rssHwmBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  threads: number;
  heapUsedBytes: number | null;
  /** Proportional set size at the end (/proc/<pid>/smaps_rollup): shared pages divided among their users. */
  pssBytes: number | null;
  /** What asked the server meanwhile (issue #13). */
  client: FootprintClient;
  env: Record<string, string>;
  /** [seconds since the measured span began, RSS bytes, JS heap used bytes or null], every sampleEverySec. */
  rssSeries: [number, number, number | null][];
  /** Requests the client made, and how many failed. */
  requests: number;
  failedRequests: number;
}

/**
 * Who asks the server during a footprint run: nobody; the dashboard (the live stream open, the chart
 * reloaded every chartEveryMs, as Dashboard.svelte's refreshDelayMs does for short groupings); or a steady
 * client (issue #13's soak: /api/traffic 24 h / 5 min and /api/interfaces every everyMs).
 */
export type FootprintClient = { kind: 'none' } | { kind: 'dashboard'; chartEveryMs: number } | { kind: 'steady'; everyMs: number };

function pssOf(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Runs the client until stop() resolves; counts requests and failures. */
export function startClient(url: string, client: FootprintClient): { stop(): Promise<void>; requests(): number; failures(): number } {
  let requests = 0;
  let failures = 0;
  let running = client.kind !== 'none';
  const controller = new AbortController();
  const get = async (pathname: string) => {
    requests++;
    try {
      const r = await fetch(`${url}${pathname}`, { signal: controller.signal });
      await r.arrayBuffer();
      if (r.status !== 200) failures++;
    } catch {
      if (running) failures++;
    }
  };
  const loops: Promise<void>[] = [];
  const every = (ms: number, fn: () => Promise<void>) =>
    loops.push(
      (async () => {
        while (running) {
          const t0 = Date.now();
          await fn();
          await sleep(Math.max(0, ms - (Date.now() - t0))).catch(() => undefined);
        }
      })(),
    );
  if (client.kind === 'dashboard') {
    // The live view: one server-sent event a second, read as the browser would.
    loops.push(
      (async () => {
        while (running) {
          try {
            requests++;
            const r = await fetch(`${url}/api/live`, { signal: controller.signal });
            for await (const _chunk of r.body as unknown as AsyncIterable<Uint8Array>) if (!running) break;
          } catch {
            if (running) failures++;
          }
          if (running) await sleep(1000);
        }
      })(),
    );
    void get('/api/interfaces');
    every(client.chartEveryMs, () => get('/api/traffic?time_window_hours=24&group_minutes=5'));
  } else if (client.kind === 'steady') {
    every(client.everyMs, async () => {
      await get('/api/traffic?time_window_hours=24&group_minutes=5');
      await get('/api/interfaces');
    });
  }
  return {
    async stop() {
      running = false;
      controller.abort();
      await Promise.all(loops).catch(() => undefined);
    },
    requests: () => requests,
    failures: () => failures,
  };
}

/**
 * Compiles src/ with the project's build config into bench/.build/dist (package.json and frontend linked
 * beside it, bin/netpulse.js copied beside it: the servers start as users start them).
 */
export function buildForBench(): { entry: string; bin: string; note: string } {
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  let note = 'tsc -p tsconfig.build.json --outDir bench/.build/dist';
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(BUILD_DIR, 'dist')], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (err) {
    // tsc still emits on type errors (the tree is shared and may be mid-edit); say so in the report.
    const out = String((err as { stdout?: Buffer }).stdout ?? '').split('\n').filter(Boolean);
    note += ` (emitted with ${out.length} type error line(s))`;
  }
  const links: [string, string][] = [
    ['package.json', '../../package.json'],
    ['frontend', '../../frontend'],
  ];
  for (const [name, target] of links) {
    const link = path.join(BUILD_DIR, name);
    if (!fs.existsSync(link)) fs.symlinkSync(target, link);
  }
  const entry = path.join(BUILD_DIR, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(entry)) throw new Error(`the build produced no ${entry}`);
  const bin = path.join(BUILD_DIR, 'bin', 'netpulse.js');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'bin', 'netpulse.js'), bin);
  return { entry, bin, note };
}

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

export function cpuNsSchedstat(pid: number): number {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return total;
}

export function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (m[1] === 'Threads' ? 1 : 1024);
  }
  return out;
}

/** RSS of a bare `node` doing nothing but a timer: what any Node service starts from. */
export async function bareNodeRss(): Promise<{ rssBytes: number; anonBytes: number; fileBytes: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(2000);
    const st = status(child.pid!);
    return { rssBytes: st.VmRSS ?? 0, anonBytes: st.RssAnon ?? 0, fileBytes: st.RssFile ?? 0 };
  } finally {
    child.kill('SIGKILL');
  }
}

/** What the runtime and the stack cost before Net-Pulse does anything: the RSS floor (issue #13). */
export interface FloorResult {
  key: string;
  label: string;
  rssBytes: number;
  anonBytes: number;
  fileBytes: number;
  pssBytes: number | null;
  heapUsedBytes: number | null;
}

/** A floor that prints `PORT n` is asked this many times by the bench (from here, not from inside it). */
const FLOOR_REQUESTS = 3000;

const FLOORS: { key: string; label: string; script: (entryDir: string) => string; asked?: true }[] = [
  { key: 'bare', label: 'bare `node` with a 1 s timer', script: () => 'setInterval(() => {}, 1000)' },
  {
    key: 'fastify',
    label: 'Fastify 5 hello world, listening (one route, no schema)',
    script: () => "import('fastify').then(async (m) => { const app = m.default(); app.get('/', async () => 'x'); await app.listen({ port: 0, host: '127.0.0.1' }); setInterval(() => {}, 1000); })",
  },
  {
    key: 'fastifyServed',
    asked: true,
    label: 'the same hello world after answering 3,000 requests (its hot code compiled, as a server\'s is)',
    script: () =>
      "import('fastify').then(async (m) => { const app = m.default(); app.get('/', async () => ({ hello: 'world' })); await app.listen({ port: 0, host: '127.0.0.1' }); process.stdout.write('PORT ' + app.server.address().port + '\\n'); setInterval(() => {}, 1000); })",
  },
  {
    key: 'imported',
    label: "Net-Pulse's modules imported (dist/server.js), nothing started",
    script: (dir) => `import(${JSON.stringify(path.join(dir, 'server.js'))}).then(() => setInterval(() => {}, 1000))`,
  },
];

/**
 * The floors, one process each, side by side, measured after settleSec with a full GC first (so the heap is
 * what the code needs, not garbage). `entry` is the compiled CLI (its dist/ holds server.js).
 */
export async function benchFloors(entry: string, settleSec = 20): Promise<FloorResult[]> {
  const dir = path.dirname(path.dirname(entry));
  return Promise.all(
    FLOORS.map(async (f) => {
      // --expose-gc only to collect once before reading: the number is then the code's, not pending garbage.
      const script = `${f.script(dir)}; setTimeout(() => { globalThis.gc(); process.stdout.write(String(process.memoryUsage().heapUsed) + '\\n'); }, ${(settleSec - 2) * 1000});`;
      const child = spawn(process.execPath, ['--expose-gc', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const t0 = Date.now();
        for (let i = 0; i < 200 && f.asked === true && !/PORT \d+/.test(out); i++) await sleep(50);
        const port = /PORT (\d+)/.exec(out)?.[1];
        if (port !== undefined) {
          for (let i = 0; i < FLOOR_REQUESTS; i++) await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
          out = '';
        }
        await sleep(Math.max(0, settleSec * 1000 - (Date.now() - t0)));
        const st = status(child.pid!);
        const heap = Number(out.trim());
        return { key: f.key, label: f.label, rssBytes: st.VmRSS ?? 0, anonBytes: st.RssAnon ?? 0, fileBytes: st.RssFile ?? 0, pssBytes: pssOf(child.pid!), heapUsedBytes: Number.isFinite(heap) && heap > 0 ? heap : null };
      } finally {
        child.kill('SIGKILL');
      }
    }),
  );
}

/** The server's JS heap in use, from its metrics endpoint (null when it does not answer with one). */
async function heapUsed(url: string): Promise<number | null> {
  const metrics = (await (await fetch(`${url}/api/system/metrics`)).json().catch(() => ({}))) as { heap_used_bytes?: number };
  return typeof metrics.heap_used_bytes === 'number' ? metrics.heap_used_bytes : null;
}

export async function benchFootprint(options: {
  warmupSec: number;
  measuredSec: number;
  build: { entry: string; bin?: string; note: string };
  nodeArgs?: string[];
  client?: FootprintClient;
  env?: Record<string, string>;
  pollIntervalSec?: number;
  sampleEverySec?: number;
  /**
   * false: the series carries RSS only and the JS heap is asked for once, after the span. Asking the server for its
   * heap during the span is a request, and its CPU would count as the server's (a request every 30 s is a third of
   * what a 30 s poll costs). Default true.
   */
  heapDuringSpan?: boolean;
  /** false: the fixture's counters never move (every poll finds nothing to write). Default true. */
  advance?: boolean;
}): Promise<FootprintResult> {
  const build = options.build;
  const nodeArgs = options.nodeArgs ?? [];
  const clientKind = options.client ?? { kind: 'none' };
  const sampleEverySec = options.sampleEverySec ?? 10;
  const heapDuringSpan = options.heapDuringSpan ?? true;
  const fx = makeAdvancingTree(5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-bench-rss-'));
  const dbPath = path.join(dir, 'netpulse.db');
  const seed = openDatabase(dbPath);
  createConfigRepo(seed).set(CONFIG_KEYS.monitoredInterfaces, [...fx.names]);
  createConfigRepo(seed).set(CONFIG_KEYS.rollupTimezone, 'UTC');
  seed.close();
  const clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

  const child = spawn(process.execPath, [...nodeArgs, build.bin ?? build.entry, 'serve'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NETPULSE_DB_PATH: dbPath,
      NETPULSE_PORT: '0',
      NETPULSE_HOST: '127.0.0.1',
      NETPULSE_POLL_INTERVAL: String(options.pollIntervalSec ?? 1),
      NETPULSE_PROC_ROOT: fx.tree.procRoot,
      NETPULSE_SYS_ROOT: fx.tree.sysRoot,
      NETPULSE_TZ: 'UTC',
      NETPULSE_LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Counters move every second, half a second after the aligned poll ticks.
  let advancing = options.advance ?? true;
  let client: ReturnType<typeof startClient> | null = null;
  const advancer = (async () => {
    while (advancing) {
      await sleep(1500 - (Date.now() % 1000));
      if (advancing) fx.advance(1);
    }
  })();
  try {
    const pid = child.pid!;
    let url: string | null = null;
    // Generous: on a loaded machine (or with several servers starting side by side) start-up takes a while.
    const deadline = Date.now() + 180_000;
    for (let i = 0; i < 3600 && url === null && Date.now() < deadline; i++) {
      url = /Net-Pulse is running at (http:\/\/\S+)/.exec(output)?.[1] ?? null;
      if (child.exitCode !== null) throw new Error(`the server exited at start:\n${output}`);
      if (url === null) await sleep(50);
    }
    if (url === null) throw new Error(`the server did not start within 180 s:\n${output}`);
    log(`footprint: server pid ${pid} at ${url} (client: ${clientKind.kind}${nodeArgs.length > 0 ? `, ${nodeArgs.join(' ')}` : ''}); warm-up ${options.warmupSec} s, then ${options.measuredSec} s measured`);
    client = startClient(url, clientKind);
    const startedNs = cpuNsSchedstat(pid);
    await sleep(options.warmupSec * 1000);
    const before = (await (await fetch(`${url}/collector/status`)).json()) as { polls: number };
    const t0 = process.hrtime.bigint();
    const ticks0 = cpuTicks(pid);
    const ns0 = cpuNsSchedstat(pid);
    let rssMax = 0;
    const rssSeries: [number, number, number | null][] = [];
    const requests0 = client.requests();
    const failures0 = client.failures();
    for (let s = 1; s <= options.measuredSec; s++) {
      await sleep(1000);
      const rss = status(pid).VmRSS ?? 0;
      rssMax = Math.max(rssMax, rss);
      if (s % sampleEverySec === 0) {
        const heap = heapDuringSpan ? await heapUsed(url) : null;
        rssSeries.push([s, rss, heap]);
      }
    }
    const requests = client.requests() - requests0;
    const failedRequests = client.failures() - failures0;
    const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const ticks1 = cpuTicks(pid);
    const ns1 = cpuNsSchedstat(pid);
    const st = status(pid);
    const after = (await (await fetch(`${url}/collector/status`)).json()) as { polls: number; poll_duration_us_median: number | null };
    const heapUsedBytes = await heapUsed(url);
    return {
      runner: `node ${[...nodeArgs, path.relative(REPO_ROOT, build.bin ?? build.entry)].join(' ')} serve (${build.note})`,
      nodeArgs,
      warmupSec: options.warmupSec,
      warmupCpuSec: (ns0 - startedNs) / 1e9,
      measuredSec: wallSec,
      polls: after.polls - before.polls,
      pollDurationUsMedian: after.poll_duration_us_median,
      cpuPercentStat: (((ticks1 - ticks0) / clkTck) / wallSec) * 100,
      cpuPercentSchedstat: ((ns1 - ns0) / 1e9 / wallSec) * 100,
      rssBytesEnd: st.VmRSS ?? 0,
      rssBytesMax: Math.max(rssMax, st.VmRSS ?? 0),
      rssHwmBytes: st.VmHWM ?? 0,
      rssAnonBytes: st.RssAnon ?? 0,
      rssFileBytes: st.RssFile ?? 0,
      threads: st.Threads ?? 0,
      heapUsedBytes,
      pssBytes: pssOf(pid),
      client: clientKind,
      env: options.env ?? {},
      rssSeries,
      requests,
      failedRequests,
    };
  } finally {
    advancing = false;
    await client?.stop();
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }
    await advancer;
    fx.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    log('footprint: done');
  }
}
