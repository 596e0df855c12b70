/**
 * A router lab for QoS tests (issue #10) on the real kernel: four namespaces the test creates, all named
 * `np10-<pid>-<n>-…`, torn down in t.after (processes killed by PID, namespaces deleted):
 *
 *   client c (eth0 10.10.1.2) ── lan0 router r wan0 (10.10.2.1) ── m0 modem m m1 ── eth0 server s (10.10.3.2)
 *
 * Net-Pulse runs inside r (as uid 65534 with only CAP_NET_ADMIN, through setpriv) and shapes r's wan0.
 * The modem forwards; a test can give it a bottleneck of its own (a deep tbf, as a cable modem has), so
 * that "QoS removed" has a queue to suffer in. Traffic: Node TCP streams and a bounded Node UDP pacer.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CURL, REPO_ROOT, WaitAborted, killChildren, waitFor, type HttpAnswer } from './netns.js';

const execFileAsync = promisify(execFile);

export const CLIENT_ADDR = '10.10.1.2';
export const SERVER_ADDR = '10.10.3.2';
export const WAN_IF = 'wan0';
export const NOBODY = 65534;

/** null when the lab can run: root, iproute2, nft, setpriv, curl, ping. */
export function qosLabSkipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root: creating network namespaces needs root';
  for (const [tool, args] of [['ip', ['-V']], ['tc', ['-V']], ['nft', ['-v']], ['setpriv', ['--version']], [CURL, ['--version']], ['ping', ['-V']]] as const) {
    try {
      execFileSyncQuiet(tool, [...args]);
    } catch {
      return `${tool} not found`;
    }
  }
  return null;
}

function execFileSyncQuiet(tool: string, args: string[]) {
  return execFileSync(tool, args, { stdio: 'ignore' });
}

export interface QosNetPulse {
  pid: number;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', urlPath: string, body?: unknown): Promise<HttpAnswer>;
  ok<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', urlPath: string, body?: unknown): Promise<T>;
  output(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export interface Sampled {
  /** [ms since the sink started, bytes so far] every ~100 ms. */
  samples: [number, number][];
}

export interface QosLab {
  ns: { c: string; r: string; m: string; s: string };
  exec(ns: string, command: string, args: string[], input?: string): Promise<string>;
  startNetPulse(options?: { dbDir?: string; asRoot?: boolean }): Promise<QosNetPulse>;
  /** A new temp dir Net-Pulse (uid 65534) can write its database to. */
  dbDir(): string;
  /** TCP goodput from one namespace to another: `streams` connections for `seconds`; the sink's byte curve. */
  tcp(from: 'c' | 's', options: { streams: number; seconds: number }): { ready: Promise<void>; done: Promise<Sampled>; stop(): void };
  /** UDP datagrams c → s at `perSecond` for `count`; resolves with sent and received counts. */
  udp(options: { count: number; perSecond: number; payloadBytes: number; port: number }): Promise<{ sent: number; received: number }>;
  /** ping from c to s; resolves with the round trips in ms and the loss. */
  ping(options: { count: number; intervalSec: number; tos?: number }): Promise<{ rttsMs: number[]; sent: number; received: number }>;
}

let labCount = 0;

const SINK = `
const net = require('node:net');
let bytes = 0, open = 0, seen = 0; const t0 = Date.now(); const samples = [];
// Ends when every connection that came has closed (the source's streams end after their time), or at the bound.
const server = net.createServer((s) => { open++; seen++; s.on('data', (d) => { bytes += d.length; }); s.on('error', () => {}); s.on('close', () => { if (--open === 0) setTimeout(finish, 300); }); });
server.listen(Number(process.argv[1]), process.argv[2], () => process.stdout.write('ready\\n'));
const timer = setInterval(() => { samples.push([Date.now() - t0, bytes]); if (Date.now() - t0 > Number(process.argv[3])) finish(); }, 100);
let finished = false;
process.on('SIGTERM', finish);
function finish() { if (finished) return; finished = true; samples.push([Date.now() - t0, bytes]); clearInterval(timer); process.stdout.write(JSON.stringify({ samples }) + '\\n'); process.exit(0); }
`;

const SOURCE = `
const net = require('node:net');
const [host, port, streams, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const chunk = Buffer.alloc(64 * 1024, 0x61); const until = Date.now() + ms; let open = 0;
for (let i = 0; i < streams; i++) {
  const s = net.connect(port, host); open++;
  const pump = () => { while (Date.now() < until) { if (!s.write(chunk)) return; } s.end(); };
  s.on('connect', pump); s.on('drain', pump); s.on('error', () => {}); s.on('close', () => { if (--open === 0) process.exit(0); });
}
setTimeout(() => process.exit(0), ms + 5000).unref();
`;

const UDP_SINK = `
const dgram = require('node:dgram');
const seen = new Set(); const s = dgram.createSocket('udp4');
s.on('message', (m) => { if (m.length >= 4) seen.add(m.readUInt32BE(0)); });
s.bind(Number(process.argv[1]), process.argv[2], () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ received: seen.size }) + '\\n'); process.exit(0); });
setTimeout(() => { process.stdout.write(JSON.stringify({ received: seen.size }) + '\\n'); process.exit(0); }, Number(process.argv[3])).unref();
`;

/** Bounded pacer: sends count datagrams at perSecond (bursts every 5 ms), each carrying its sequence number. */
const UDP_PACER = `
const dgram = require('node:dgram');
const [host, port, count, perSecond, size] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const s = dgram.createSocket('udp4'); const t0 = Date.now(); let sent = 0, done = 0;
function tick() {
  const due = Math.min(count, Math.floor(((Date.now() - t0) / 1000) * perSecond) + 1);
  while (sent < due) { const b = Buffer.alloc(size); b.writeUInt32BE(sent, 0); sent++; s.send(b, port, host, () => { if (++done === count) { s.close(); process.stdout.write(JSON.stringify({ sent: count }) + '\\n'); } }); }
  if (sent < count) setTimeout(tick, 5);
}
tick();
`;

export async function createQosLab(t: TestContext): Promise<QosLab> {
  const n = ++labCount;
  const base = `np10-${process.pid}-${n}`;
  const ns = { c: `${base}-c`, r: `${base}-r`, m: `${base}-m`, s: `${base}-s` };
  const children = new Set<ChildProcess>();
  const dirs: string[] = [];

  const exec = async (where: string, command: string, args: string[], input?: string): Promise<string> => {
    const p = execFileAsync('ip', ['netns', 'exec', where, command, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    if (input !== undefined) p.child.stdin!.end(input);
    return (await p).stdout;
  };

  t.after(async () => {
    await killChildren(children);
    for (const name of Object.values(ns)) await execFileAsync('ip', ['netns', 'del', name]).catch(() => undefined);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  for (const name of Object.values(ns)) {
    await execFileAsync('ip', ['netns', 'add', name]);
    await exec(name, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']).catch(() => undefined);
    await exec(name, 'ip', ['link', 'set', 'lo', 'up']);
  }
  const link = async (a: string, ifA: string, b: string, ifB: string) => exec(a, 'ip', ['link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b]);
  await link(ns.c, 'eth0', ns.r, 'lan0');
  await link(ns.r, WAN_IF, ns.m, 'm0');
  await link(ns.m, 'm1', ns.s, 'eth0');
  const addr = async (where: string, dev: string, cidr: string) => {
    await exec(where, 'ip', ['addr', 'add', cidr, 'dev', dev]);
    await exec(where, 'ip', ['link', 'set', dev, 'up']);
  };
  await addr(ns.c, 'eth0', `${CLIENT_ADDR}/24`);
  await addr(ns.r, 'lan0', '10.10.1.1/24');
  await addr(ns.r, WAN_IF, '10.10.2.1/24');
  await addr(ns.m, 'm0', '10.10.2.2/24');
  await addr(ns.m, 'm1', '10.10.3.1/24');
  await addr(ns.s, 'eth0', `${SERVER_ADDR}/24`);
  await exec(ns.c, 'ip', ['route', 'add', 'default', 'via', '10.10.1.1']);
  await exec(ns.r, 'ip', ['route', 'add', 'default', 'via', '10.10.2.2']);
  await exec(ns.m, 'ip', ['route', 'add', '10.10.1.0/24', 'via', '10.10.2.1']);
  await exec(ns.s, 'ip', ['route', 'add', 'default', 'via', '10.10.3.1']);
  for (const fwd of [ns.r, ns.m]) await exec(fwd, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await waitFor('the lab to route c → s', async () => ((await exec(ns.c, 'ping', ['-c', '1', '-W', '1', SERVER_ADDR]).catch(() => '')).includes('1 received') ? true : undefined), { timeoutMs: 15_000, everyMs: 100 });

  const spawnIn = (where: string, args: string[], options: { env?: Record<string, string> } = {}) => {
    const child = spawn('ip', ['netns', 'exec', where, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  /** Runs a node script in a namespace; resolves with its stdout lines as they come. */
  const nodeIn = (where: string, script: string, args: string[]) => {
    const child = spawnIn(where, [process.execPath, '-e', script, ...args]);
    let out = '';
    let err = '';
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop()!;
      lines.push(...parts);
      for (const w of waiters.splice(0)) w();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // A script the test stopped (a signal) ended as asked; only a non-zero exit is a failure.
    const exited = new Promise<void>((resolve, reject) => child.once('close', (code, signal) => (code === 0 || signal !== null ? resolve() : reject(new Error(`node script in ${where} exited ${code}: ${err.slice(-500)}`)))));
    exited.catch(() => undefined);
    const line = (match: (l: string) => boolean, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching line from a script in ${where} in ${timeoutMs} ms: ${err.slice(-300)}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(check);
        };
        check();
        // The script ended: what it printed is all there will be.
        exited.then(
          () => {
            if (lines.find(match) === undefined) {
              clearTimeout(timer);
              reject(new Error(`a script in ${where} ended without the awaited line: ${err.slice(-300)}`));
            }
          },
          (e: unknown) => {
            clearTimeout(timer);
            reject(e);
          },
        );
      });
    return { child, line, exited };
  };

  const lab: QosLab = {
    ns,
    exec,
    dbDir() {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'np10-qos-'));
      fs.chownSync(d, NOBODY, NOBODY);
      dirs.push(d);
      return d;
    },
    async startNetPulse(options = {}) {
      const dbDir = options.dbDir ?? lab.dbDir();
      const drop = options.asRoot ? [] : ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
      const child = spawnIn(ns.r, [...drop, process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
        env: {
          HOME: dbDir,
          TMPDIR: dbDir,
          NETPULSE_DB_PATH: path.join(dbDir, 'netpulse.db'),
          NETPULSE_PORT: '0',
          NETPULSE_HOST: '127.0.0.1',
          NETPULSE_POLL_INTERVAL: '5',
          NETPULSE_LOG_LEVEL: 'info',
          NETPULSE_TZ: 'UTC',
          NETPULSE_QOS: 'on',
        },
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-65_536)));
      child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-65_536)));
      let gone = false;
      const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
      const url = await waitFor(
        `Net-Pulse in ${ns.r} to say its URL`,
        async () => {
          if (gone) throw new WaitAborted(`Net-Pulse exited during start:\n${output}`);
          return /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
        },
        // Generous: a start transpiles the server with tsx, which takes minutes on a shared machine under load.
        { timeoutMs: 180_000, everyMs: 200 },
      );
      const request = async (method: string, urlPath: string, body?: unknown): Promise<HttpAnswer> => {
        const args = ['-sS', '-m', '30', '-X', method, '-w', '\n%{http_code}'];
        if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
        const text = await exec(ns.r, CURL, [...args, url + urlPath]);
        const cut = text.lastIndexOf('\n');
        const raw = text.slice(0, cut);
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // text
        }
        return { status: Number(text.slice(cut + 1)), body: parsed };
      };
      return {
        pid: child.pid!,
        request,
        async ok<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', urlPath: string, body?: unknown) {
          const a = await request(method, urlPath, body);
          if (a.status !== 200) throw new Error(`${method} ${urlPath} answered ${a.status}: ${JSON.stringify(a.body)}\n${output.split('\n').slice(-10).join('\n')}`);
          return a.body as T;
        },
        output: () => output,
        async stop() {
          process.kill(child.pid!, 'SIGTERM');
          await exited;
        },
        async kill9() {
          process.kill(child.pid!, 'SIGKILL');
          await exited;
        },
      };
    },
    tcp(from, { streams, seconds }) {
      const to = from === 'c' ? ns.s : ns.c;
      const toAddr = from === 'c' ? SERVER_ADDR : CLIENT_ADDR;
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const sink = nodeIn(to, SINK, [String(port), toAddr, String(seconds * 1000 + 60_000)]);
      let source: ReturnType<typeof nodeIn> | null = null;
      const ready = sink.line((l) => l === 'ready').then(() => {
        source = nodeIn(from === 'c' ? ns.c : ns.s, SOURCE, [toAddr, String(port), String(streams), String(seconds * 1000)]);
      });
      const done = ready.then(async () => JSON.parse(await sink.line((l) => l.startsWith('{'), seconds * 1000 + 30_000)) as Sampled);
      return {
        ready,
        done,
        stop() {
          for (const p of [sink, source]) if (p && p.child.exitCode === null) p.child.kill('SIGTERM');
        },
      };
    },
    async udp({ count, perSecond, payloadBytes, port }) {
      const ms = Math.ceil((count / perSecond) * 1000);
      const sink = nodeIn(ns.s, UDP_SINK, [String(port), SERVER_ADDR, String(ms + 20_000)]);
      await sink.line((l) => l === 'ready');
      const pacer = nodeIn(ns.c, UDP_PACER, [SERVER_ADDR, String(port), String(count), String(perSecond), String(payloadBytes)]);
      const sent = (JSON.parse(await pacer.line((l) => l.startsWith('{'), ms + 30_000)) as { sent: number }).sent;
      // Let the last datagrams cross the queues (≤ 1 s at these rates), then ask the sink.
      await sleep(1000);
      sink.child.kill('SIGTERM');
      const received = (JSON.parse(await sink.line((l) => l.startsWith('{'))) as { received: number }).received;
      return { sent, received };
    },
    async ping({ count, intervalSec, tos }) {
      const args = ['-n', '-c', String(count), '-i', String(intervalSec), '-W', '2'];
      if (tos !== undefined) args.push('-Q', String(tos));
      const text = await exec(ns.c, 'ping', [...args, SERVER_ADDR]).catch((err: { stdout?: string }) => err.stdout ?? '');
      const rttsMs = [...text.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
      return { rttsMs, sent: count, received: rttsMs.length };
    },
  };
  return lab;
}

/** Bytes per second over `windowMs`, starting `warmupMs` after the first byte arrived. */
export function goodputAfterStart(s: Sampled, warmupMs: number, windowMs: number): number {
  const first = s.samples.find(([, b]) => b > 0);
  if (first === undefined) throw new Error('the sink received nothing');
  return rateBetween(s, first[0] + warmupMs, first[0] + warmupMs + windowMs);
}

/** Bytes per second of a sink's curve between two times (ms since it started). */
export function rateBetween(s: Sampled, fromMs: number, toMs: number): number {
  const at = (ms: number) => {
    const found = s.samples.find(([t]) => t >= ms);
    if (found === undefined) throw new Error(`the sink has no sample at ${ms} ms (last at ${s.samples.at(-1)?.[0]} ms)`);
    return found;
  };
  const [t1, b1] = at(fromMs);
  const [t2, b2] = at(toMs);
  return ((b2 - b1) * 1000) / (t2 - t1);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
