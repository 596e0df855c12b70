/**
 * The monitors Net-Pulse is compared with (issue #13), measured in the same run: vnStat, node_exporter,
 * Glances (web) and Netdata from their Debian packages, each started as a foreground child of the bench,
 * bound to 127.0.0.1 on a random free port, update checks and telemetry off, with its own temp dirs; RSS,
 * PSS and CPU summed over its process tree, idle and while its UI or scraper asks it; then killed by the
 * process group the bench created. Only in the bench, never in CI. The peers read the machine's own
 * interfaces; the bench makes no traffic.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './lib/measure.js';

export interface ProcessSample {
  rssBytes: number;
  pssBytes: number;
  cpuPercent: number;
  processes: number;
}

export interface PeerResult {
  name: string;
  version: string;
  setup: string;
  idle: ProcessSample | null;
  busy: ProcessSample | null;
  busyNote: string;
  error?: string;
}

/** Pids of `root` and all its descendants (from /proc/<pid>/stat's ppid). */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length && i < 10_000; i++) for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

function readNumber(file: string, re: RegExp): number {
  try {
    const m = re.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function cpuNs(pid: number): number {
  let total = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) total += readNumber(`/proc/${pid}/task/${tid}/schedstat`, /^(\d+)/);
  } catch {
    // gone
  }
  return total;
}

/** CPU (schedstat, all threads of the tree) over `seconds`, RSS and PSS summed over the tree at the end. */
export async function measureTree(root: number, seconds: number): Promise<ProcessSample> {
  const before = new Map(processTree(root).map((p) => [p, cpuNs(p)]));
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const pids = processTree(root);
  let ns = 0;
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    ns += cpuNs(p) - (before.get(p) ?? 0);
    rss += readNumber(`/proc/${p}/status`, /^VmRSS:\s+(\d+)/m) * 1024;
    pss += readNumber(`/proc/${p}/smaps_rollup`, /^Pss:\s+(\d+)/m) * 1024;
  }
  return { rssBytes: rss, pssBytes: pss, cpuPercent: (ns / 1e9 / wallSec) * 100, processes: pids.length };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string, child: ChildProcess, timeoutMs: number, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 600 && Date.now() < deadline; i++) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const ok = await fetch(url, { headers }).then((r) => r.arrayBuffer().then(() => r.status < 500), () => false);
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`no answer at ${url} within ${timeoutMs / 1000} s`);
}

function versionOf(cmd: string, args: string[]): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return /(\d+\.\d+(?:\.\d+)*)/.exec(out)?.[1] ?? '?';
  } catch (err) {
    // Some print their version on stderr.
    const text = String((err as { stderr?: string }).stderr ?? '');
    return /(\d+\.\d+(?:\.\d+)*)/.exec(text)?.[1] ?? '?';
  }
}

interface PeerSpec {
  name: string;
  binary: string;
  version: () => string;
  /** Prepares dirs/config, returns the command, args, URL to wait on (null: wait a few seconds) and the busy client. */
  prepare(dir: string, port: number): {
    args: string[];
    env?: Record<string, string>;
    readyUrl: string | null;
    setup: string;
    busy: { note: string; everyMs: number; urls: string[] } | null;
    /** Headers of every request the bench sends it (default: fetch's own). */
    headers?: Record<string, string>;
  };
}

const PEERS: PeerSpec[] = [
  {
    name: 'vnStat (vnstatd)',
    binary: '/usr/sbin/vnstatd',
    version: () => versionOf('/usr/sbin/vnstatd', ['--version']),
    prepare(dir) {
      const conf = path.join(dir, 'vnstat.conf');
      fs.mkdirSync(path.join(dir, 'db'));
      fs.writeFileSync(conf, `DatabaseDir "${path.join(dir, 'db')}"\nUseLogging 0\nPollInterval 2\nUpdateInterval 20\nSaveInterval 5\nAlwaysAddNewInterfaces 1\n`);
      return { args: ['-n', '--config', conf, '--alwaysadd'], readyUrl: null, setup: 'vnstatd -n, PollInterval 2 (its minimum), own database dir', busy: null };
    },
  },
  {
    name: 'node_exporter',
    binary: '/usr/bin/prometheus-node-exporter',
    version: () => versionOf('/usr/bin/prometheus-node-exporter', ['--version']),
    prepare(_dir, port) {
      return {
        args: [`--web.listen-address=127.0.0.1:${port}`],
        readyUrl: `http://127.0.0.1:${port}/metrics`,
        setup: 'default collectors, 127.0.0.1',
        busy: { note: '/metrics scraped every 15 s (Prometheus default)', everyMs: 15_000, urls: [`http://127.0.0.1:${port}/metrics`] },
      };
    },
  },
  {
    name: 'Glances (web)',
    binary: '/usr/bin/glances',
    version: () => versionOf('/usr/bin/glances', ['-V']),
    prepare(dir, port) {
      return {
        args: ['-w', '-B', '127.0.0.1', '-p', String(port), '-t', '2', '--disable-check-update'],
        env: { HOME: dir, XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: dir },
        readyUrl: `http://127.0.0.1:${port}/api/3/status`,
        setup: 'glances -w -t 2 --disable-check-update (python3-bottle), 127.0.0.1; asked with Accept-Encoding: gzip',
        // Glances 3.3's compressor answers 500 to any request that accepts deflate (fetch's default is "gzip, deflate").
        headers: { 'accept-encoding': 'gzip' },
        busy: { note: 'the web UI\'s /api/3/all every 2 s', everyMs: 2000, urls: [`http://127.0.0.1:${port}/api/3/all`] },
      };
    },
  },
  {
    name: 'Netdata',
    binary: '/usr/sbin/netdata',
    version: () => versionOf('/usr/sbin/netdata', ['-v']),
    prepare(dir, port) {
      const etc = path.join(dir, 'etc');
      for (const d of ['etc', 'etc/cloud.d', 'cache', 'lib', 'log', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
      fs.writeFileSync(path.join(etc, '.opt-out-from-anonymous-statistics'), '');
      fs.writeFileSync(path.join(etc, 'cloud.d', 'cloud.conf'), '[global]\n    enabled = no\n');
      const conf = path.join(etc, 'netdata.conf');
      fs.writeFileSync(
        conf,
        [
          '[global]',
          '    run as user = root',
          '    hostname = np13-bench',
          '    update every = 1',
          '    memory mode = ram',
          '[directories]',
          `    config = ${etc}`,
          `    cache = ${path.join(dir, 'cache')}`,
          `    lib = ${path.join(dir, 'lib')}`,
          `    log = ${path.join(dir, 'log')}`,
          `    lock = ${path.join(dir, 'run')}`,
          '[web]',
          `    bind to = 127.0.0.1:${port}`,
          '[registry]',
          '    enabled = no',
          '[ml]',
          '    enabled = no',
          '',
        ].join('\n'),
      );
      const chart = (c: string) => `http://127.0.0.1:${port}/api/v1/data?chart=${c}&after=-60&points=60&format=json`;
      return {
        args: ['-D', '-c', conf, '-p', String(port), '-i', '127.0.0.1'],
        env: { DO_NOT_TRACK: '1', NETDATA_DISABLE_TELEMETRY: '1' },
        readyUrl: `http://127.0.0.1:${port}/api/v1/info`,
        setup: 'netdata -D, update every 1 s, memory mode ram, cloud, registry, ML and telemetry off, 127.0.0.1',
        busy: { note: 'its dashboard\'s chart data (4 charts) every second', everyMs: 1000, urls: ['system.cpu', 'system.net', 'system.ram', 'system.io'].map(chart) },
      };
    },
  },
];

async function runPeer(spec: PeerSpec, options: { warmupSec: number; measuredSec: number }): Promise<PeerResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np13-peer-'));
  const port = await freePort();
  const p = spec.prepare(dir, port);
  const result: PeerResult = { name: spec.name, version: spec.version(), setup: p.setup, idle: null, busy: null, busyNote: p.busy?.note ?? '(no UI)' };
  // Its own process group, so that its plugins can be stopped with it (by the group id this bench made).
  const child = spawn(spec.binary, p.args, { cwd: dir, detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...p.env } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (p.readyUrl !== null) await waitHttp(p.readyUrl, child, 180_000, p.headers);
    else await sleep(3000);
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    log(`peers: ${spec.name} pid ${child.pid} up; warm-up ${options.warmupSec} s, idle ${options.measuredSec} s${p.busy ? `, then ${options.measuredSec} s with ${p.busy.note}` : ''}`);
    await sleep(options.warmupSec * 1000);
    result.idle = await measureTree(child.pid!, options.measuredSec);
    if (p.busy !== null) {
      const busy = p.busy;
      let running = true;
      const loop = (async () => {
        while (running) {
          const t0 = Date.now();
          await Promise.all(busy.urls.map((u) => fetch(u, { headers: p.headers ?? {} }).then((r) => r.arrayBuffer(), () => undefined)));
          await sleep(Math.max(0, busy.everyMs - (Date.now() - t0)));
        }
      })();
      result.busy = await measureTree(child.pid!, options.measuredSec);
      running = false;
      await loop;
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`peers: ${spec.name}: ${result.error}`);
  } finally {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

export async function benchPeers(options: { warmupSec: number; measuredSec: number }): Promise<PeerResult[]> {
  const out: PeerResult[] = [];
  for (const spec of PEERS) {
    if (!fs.existsSync(spec.binary)) {
      out.push({ name: spec.name, version: '–', setup: `${spec.binary} not installed`, idle: null, busy: null, busyNote: '', error: 'not installed' });
      continue;
    }
    out.push(await runPeer(spec, options));
  }
  return out;
}
