/**
 * A two-namespace lab for tests against the real kernel: namespaces A and B joined by a veth pair
 * (np0 in A, np1 in B), made quiet on purpose so the kernel's counters move only when the test sends:
 * IPv6 off in both namespaces (no neighbour discovery, router solicitations, MLD), static neighbour
 * entries (no ARP). Net-Pulse runs inside A as a child process; the test talks to it with curl run in A
 * (the server listens on A's own loopback), and reads the kernel's counters from A's /proc/net/dev.
 *
 *   if (netnsSkipReason() !== null) return t.skip('needs root and iproute2');
 *   const lab = await createVethLab(t);          // torn down in t.after: processes killed by PID, netns deleted
 *   const np = await lab.startNetPulse({ dbPath });
 *   await lab.send({ datagrams: 1000, payloadBytes: 1400 });
 *
 * Every wait is on a condition with a deadline and a bounded number of attempts; nothing sleeps and hopes.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { parseProcNetDev } from '../../src/collector/proc-net-dev.js';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const CURL = '/usr/bin/curl';

/** The veth end Net-Pulse watches (in A) and its peer (in B). */
export const IF_A = 'np0';
export const IF_B = 'np1';
/**
 * UDP discard port: nothing listens, so A answers every datagram with an ICMP port unreachable (rate
 * limiting is switched off in A: icmp_ratemask=0), which np0 counts as tx. So tx is exact and non-zero too.
 */
export const DISCARD_PORT = 9;
/** Ethernet 14 + IPv4 20 + UDP 8: a datagram's bytes on the wire beyond its payload. */
export const UDP_OVERHEAD_BYTES = 42;

/** Bytes on the wire of A's ICMP port unreachable for one datagram: Ethernet 14 + IPv4 20 + ICMP 8 + as much of the offending IP packet as fits in 576 bytes. */
export function icmpReplyWireBytes(payloadBytes: number): number {
  return 14 + 20 + 8 + Math.min(20 + 8 + payloadBytes, 576 - 20 - 8);
}

/** null when the kernel lab can run here; else why not. */
export function netnsSkipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) not found';
  }
  try {
    execFileSync(CURL, ['--version'], { stdio: 'ignore' });
  } catch {
    return `${CURL} not found`;
  }
  return null;
}

/** Counters as the kernel prints them; `sub` is a − b field by field. */
/** An interface's totals as the API answers them (`all_time` of /api/interfaces/{name}/stats). */
export interface ApiTotals {
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
}
/** The same four totals, exact. */
export type ExactTotals = { rx_bytes: bigint; tx_bytes: bigint; rx_packets: bigint; tx_packets: bigint };
export const exactTotals = (t: ApiTotals): ExactTotals => ({ rx_bytes: BigInt(t.rx_bytes), tx_bytes: BigInt(t.tx_bytes), rx_packets: BigInt(t.rx_packets), tx_packets: BigInt(t.tx_packets) });
/** The totals the kernel's counters say (bytes and packets of both directions). */
export const countersTotals = (c: RawCounters): ExactTotals => ({ rx_bytes: c.rxBytes, tx_bytes: c.txBytes, rx_packets: c.rxPackets, tx_packets: c.txPackets });

export function subCounters(a: RawCounters, b: RawCounters): RawCounters {
  const out = {} as RawCounters;
  for (const k of Object.keys(a) as (keyof RawCounters)[]) out[k] = a[k] - b[k];
  return out;
}

export function addCounters(a: RawCounters, b: RawCounters): RawCounters {
  const out = {} as RawCounters;
  for (const k of Object.keys(a) as (keyof RawCounters)[]) out[k] = a[k] + b[k];
  return out;
}

/** Thrown by a probe to stop waiting at once (the awaited thing can no longer happen). */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

/** Polls `probe` until it returns a value that isn't undefined; bounded by attempts and a deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs?: number; everyMs?: number; maxAttempts?: number } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const everyMs = options.everyMs ?? 50;
  const maxAttempts = options.maxAttempts ?? Math.ceil(timeoutMs / everyMs) + 1;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (let attempt = 0; attempt < maxAttempts && Date.now() <= deadline; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err;
    }
    await sleep(everyMs);
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

export interface NetPulseProcess {
  pid: number;
  /** http://127.0.0.1:<port> inside namespace A. */
  url: string;
  /** Resolves when the process has exited (with its exit code or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout + stderr so far (the last 64 KiB), for failure messages. */
  output(): string;
  /** An HTTP request from inside namespace A (curl); the body, if any, is sent as JSON. */
  request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<HttpAnswer>;
  /** Like request, but fails unless the status is 200; returns the parsed body. */
  ok<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T>;
  /** SIGKILL by PID, then waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM by PID (Net-Pulse stores its last samples and exits), then waits for the exit. */
  stop(): Promise<void>;
}

export interface SenderProcess {
  pid: number;
  /** Asks the sender to stop (SIGTERM by PID): it lets the datagrams in flight go out, then exits. */
  stop(): Promise<{ datagrams: number; payloadBytes: number }>;
  /** Resolves with the datagrams sent when the sender exits; rejects if it fails. */
  done: Promise<{ datagrams: number; payloadBytes: number }>;
}

export interface SendOptions {
  datagrams: number;
  payloadBytes: number;
  /** Stop after this long even if not every datagram went out. */
  maxMs?: number;
  /** Pace to about this many datagrams per second (bursts every 10 ms); unpaced when absent. */
  perSecond?: number;
}

export interface VethLab {
  nsA: string;
  nsB: string;
  addrA: string;
  addrB: string;
  /** Runs a command inside a namespace; resolves with its stdout. */
  exec(ns: string, command: string, args: string[]): Promise<string>;
  /** Creates the veth pair (np0 in A, np1 in B) with fixed MACs, addresses, static neighbours; brings it up. */
  createVeth(): Promise<void>;
  /** Deletes np0 (which takes np1 with it). */
  deleteVeth(): Promise<void>;
  /** np0's counters from A's /proc/net/dev, as the kernel prints them. */
  readCounters(): Promise<RawCounters>;
  /** Waits until np0's counters hold still for `quietMs`, and returns them. */
  waitQuiet(quietMs?: number): Promise<RawCounters>;
  /** Sends UDP datagrams from B to A's discard port and waits for the sender to finish. */
  send(options: SendOptions): Promise<{ datagrams: number; payloadBytes: number }>;
  /** Starts a sender in B without waiting for it. */
  startSender(options: SendOptions): SenderProcess;
  /** Starts `netpulse serve` inside A on the given database and waits until it answers. */
  startNetPulse(options: StartNetPulseOptions): Promise<NetPulseProcess>;
}

let labCount = 0;

/** SIGKILLs (by PID) every child still running and waits up to 5 s for each to exit. */
export async function killChildren(children: Iterable<ChildProcess>): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await Promise.race([exited, sleep(5000)]);
    }
  }
}

export interface Namespaces {
  /** Runs a command inside a namespace (ip netns exec) and resolves with its stdout. */
  exec(ns: string, command: string, args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Starts a long-running child inside a namespace; it is SIGKILLed by PID at the end of the test. */
  spawnIn(ns: string, command: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** The children still running (for startNetPulseInNamespace, whose child is killed with them). */
  children: Set<ChildProcess>;
}

/**
 * Creates the namespaces (IPv6 off before any link exists, so veth ends are born without it; no IGMP reports
 * for link-local groups, which a namespace otherwise sends on its own when a link comes up and again a second
 * or two later — a 40-byte packet that crossed a client's link without being forwarded; loopback up) and registers their teardown in t.after: every child killed by PID, then every namespace deleted.
 * Commands run from `cwd` (default the repo root).
 */
export async function createNamespaces(t: TestContext, names: readonly string[], cwd: string = REPO_ROOT): Promise<Namespaces> {
  const children = new Set<ChildProcess>();
  t.after(async () => {
    await killChildren(children);
    for (const ns of names) await execFileAsync('ip', ['netns', 'del', ns]).catch(() => undefined);
  });
  const exec = async (ns: string, command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> =>
    (await execFileAsync('ip', ['netns', 'exec', ns, command, ...args], { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, cwd })).stdout;
  const spawnIn = (ns: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  for (const ns of names) {
    await execFileAsync('ip', ['netns', 'add', ns]);
    await exec(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']).catch(() => undefined);
    await exec(ns, 'sysctl', ['-q', '-w', 'net.ipv4.igmp_link_local_mcast_reports=0']);
    await exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
  }
  return { exec, spawnIn, children };
}

const SENDER_SCRIPT = `
const dgram = require('node:dgram');
const [host, port, payloadBytes, datagrams, maxMs, perSecond] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const socket = dgram.createSocket('udp4');
const payload = Buffer.alloc(payloadBytes, 0x5a);
const started = Date.now();
let queued = 0, sent = 0, failed = null, stopRequested = false;
process.on('SIGTERM', () => { stopRequested = true; });
const WINDOW = 32;
const finish = () => { socket.close(); process.stdout.write(JSON.stringify({ datagrams: sent, payloadBytes })); if (failed) { process.stderr.write(String(failed)); process.exitCode = 1; } };
function pump() {
  const overTime = stopRequested || Date.now() - started >= maxMs;
  const allowed = perSecond > 0 ? Math.min(datagrams, Math.floor(((Date.now() - started) / 1000) * perSecond) + 1) : datagrams;
  while (!failed && !overTime && queued < allowed && queued - sent < WINDOW) {
    queued++;
    socket.send(payload, port, host, (err) => { if (err) failed ??= err; sent++; if (sent === queued) setImmediate(pump); });
  }
  if (sent < queued) return; // the last send callback calls pump again
  if (failed || overTime || queued >= datagrams) return finish();
  setTimeout(pump, 10); // paced: wait for the next burst
}
pump();
`;

export async function createVethLab(t: TestContext): Promise<VethLab> {
  const n = ++labCount;
  const nsA = `np${process.pid}n${n}a`;
  const nsB = `np${process.pid}n${n}b`;
  const subnet = 200 + (n % 50);
  const addrA = `10.200.${subnet}.1`;
  const addrB = `10.200.${subnet}.2`;
  const hex = subnet.toString(16).padStart(2, '0');
  const macA = `02:4e:50:00:${hex}:01`;
  const macB = `02:4e:50:00:${hex}:02`;
  const ip = async (args: string[]): Promise<string> => (await execFileAsync('ip', args, { timeout: 10_000 })).stdout;
  const { exec, children } = await createNamespaces(t, [nsA, nsB]);
  // One ICMP port unreachable per datagram, none withheld by the rate limit: A's tx is then exact too.
  await exec(nsA, 'sysctl', ['-q', '-w', 'net.ipv4.icmp_ratemask=0']);

  const lab: VethLab = {
    nsA,
    nsB,
    addrA,
    addrB,
    exec,
    async createVeth() {
      await exec(nsA, 'ip', ['link', 'add', IF_A, 'address', macA, 'type', 'veth', 'peer', 'name', IF_B, 'address', macB, 'netns', nsB]);
      await exec(nsA, 'ip', ['addr', 'add', `${addrA}/30`, 'dev', IF_A]);
      await exec(nsB, 'ip', ['addr', 'add', `${addrB}/30`, 'dev', IF_B]);
      await exec(nsA, 'ip', ['neigh', 'replace', addrB, 'lladdr', macB, 'dev', IF_A, 'nud', 'permanent']);
      await exec(nsB, 'ip', ['neigh', 'replace', addrA, 'lladdr', macA, 'dev', IF_B, 'nud', 'permanent']);
      await exec(nsA, 'ip', ['link', 'set', IF_A, 'up']);
      await exec(nsB, 'ip', ['link', 'set', IF_B, 'up']);
      await waitFor(`${IF_A} to be up`, async () => ((await exec(nsA, 'cat', [`/sys/class/net/${IF_A}/operstate`])).trim() === 'up' ? true : undefined), { timeoutMs: 5000 });
    },
    async deleteVeth() {
      await exec(nsA, 'ip', ['link', 'del', IF_A]);
    },
    async readCounters() {
      const counters = parseProcNetDev(await exec(nsA, 'cat', ['/proc/net/dev'])).get(IF_A);
      if (counters === undefined) throw new Error(`${IF_A} is not in ${nsA}'s /proc/net/dev`);
      return counters;
    },
    async waitQuiet(quietMs = 250) {
      let previous = await lab.readCounters();
      let stillSince = Date.now();
      return waitFor(
        `${IF_A}'s counters to hold still for ${quietMs} ms`,
        async () => {
          const now = await lab.readCounters();
          if (JSON.stringify(now, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) !== JSON.stringify(previous, (_, v) => (typeof v === 'bigint' ? v.toString() : v))) {
            previous = now;
            stillSince = Date.now();
            return undefined;
          }
          return Date.now() - stillSince >= quietMs ? now : undefined;
        },
        { timeoutMs: 10_000, everyMs: 50 },
      );
    },
    startSender(options) {
      const args = [addrA, String(DISCARD_PORT), String(options.payloadBytes), String(options.datagrams), String(options.maxMs ?? 60_000), String(options.perSecond ?? 0)];
      const child = spawn('ip', ['netns', 'exec', nsB, process.execPath, '-e', SENDER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<{ datagrams: number; payloadBytes: number }>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          children.delete(child);
          if (code === 0) resolve(JSON.parse(stdout) as { datagrams: number; payloadBytes: number });
          else reject(new Error(`sender exited with ${code ?? signal}: ${stderr.trim()}`));
        });
      });
      return {
        pid: child.pid!,
        done,
        stop() {
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
          return done;
        },
      };
    },
    async send(options) {
      return lab.startSender(options).done;
    },
    startNetPulse(options) {
      return startNetPulseInNamespace(nsA, children, options);
    },
  };
  return lab;
}

export interface StartNetPulseOptions {
  dbPath: string;
  port?: number;
  env?: Record<string, string>;
  /** A command the server runs under inside the namespace, e.g. setpriv with its arguments. */
  wrap?: string[];
}

/**
 * Starts `netpulse serve` inside namespace `ns` (ip netns exec), tracks the child in `children` (killed by PID
 * in the lab's cleanup) and waits until it answers at 127.0.0.1:<port> in that namespace.
 */
export async function startNetPulseInNamespace(ns: string, children: Set<ChildProcess>, { dbPath, port = 8000, env = {}, wrap = [] }: StartNetPulseOptions): Promise<NetPulseProcess> {
  const exec = async (command: string, args: string[]): Promise<string> =>
    (await execFileAsync('ip', ['netns', 'exec', ns, command, ...args], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('ip', ['netns', 'exec', ns, ...wrap, process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NETPULSE_DB_PATH: dbPath,
      NETPULSE_PORT: String(port),
      NETPULSE_HOST: '127.0.0.1',
      NETPULSE_POLL_INTERVAL: '1',
      NETPULSE_LOG_LEVEL: 'warn',
      NETPULSE_TZ: 'UTC',
      ...env,
    },
  });
  children.add(child);
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const request = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<HttpAnswer> => {
    const args = ['-sS', '-m', '20', '-X', method, '-w', '\n%{http_code}'];
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const text = await exec(CURL, [...args, url + path]);
    const cut = text.lastIndexOf('\n');
    const status = Number(text.slice(cut + 1));
    const raw = text.slice(0, cut);
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    return { status, body: parsed };
  };

  const np: NetPulseProcess = {
    pid: child.pid!,
    url,
    exited,
    output: () => output,
    request,
    async ok<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) {
      const answer = await request(method, path, body);
      if (answer.status !== 200) {
        const log = answer.status >= 500 ? `\n--- Net-Pulse output (last lines) ---\n${output.split('\n').slice(-15).join('\n')}` : '';
        throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}${log}`);
      }
      return answer.body as T;
    },
    async kill9() {
      process.kill(np.pid, 'SIGKILL');
      await exited;
    },
    async stop() {
      process.kill(np.pid, 'SIGTERM');
      await exited;
    },
  };
  await waitFor(
    `Net-Pulse (pid ${np.pid}) to answer at ${url} in ${ns}`,
    async () => {
      if (gone) throw new WaitAborted(`Net-Pulse exited during start:\n${output}`);
      const answer = await request('GET', '/collector/status').catch(() => null);
      return answer?.status === 200 ? true : undefined;
    },
    { timeoutMs: 30_000, everyMs: 100 },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- Net-Pulse output ---\n${output}`);
  });
  return np;
}
