/**
 * Labs for the per-host totals (issue #9), in namespaces named np9h-<pid>-<n>-…, torn down in t.after:
 * - router lab: a router namespace r (forwarding on) with a bridge br0 (10.9.0.1/24) to two clients c1
 *   (10.9.0.10) and c2 (10.9.0.11), and a server s (198.18.0.2) beyond it on r's port ps (198.18.0.1);
 * - host lab: one host h (10.9.1.1, forwarding off) and a remote peer p (10.9.1.2) on a veth.
 * Made quiet so that a client's interface counters move only with the test's TCP transfers: IPv6 off, no IGMP reports, static
 * neighbours and bridge FDB entries (no ARP, no flooding), GRO off on every port (netfilter then counts each
 * frame the veth counts, so L3 bytes = veth bytes − 14 × packets exactly).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { parseProcNetDev } from '../../src/collector/proc-net-dev.js';
import { createNamespaces, startNetPulseInNamespace, waitFor, type NetPulseProcess, type StartNetPulseOptions } from './netns.js';

const execFileAsync = promisify(execFile);
export const SERVER_PORT = 5001;

let labCount = 0;

const mac = (last: number) => `02:00:00:09:00:${last.toString(16).padStart(2, '0')}`;

/** A TCP server: per connection reads `{"up":U,"down":D}\n`, then U bytes, then answers with D bytes and ends. */
const SERVER_SCRIPT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((sock) => {
  let head = '', want = -1, got = 0, down = 0;
  sock.on('data', (d) => {
    if (want < 0) {
      head += d.toString('latin1');
      const nl = head.indexOf('\\n');
      if (nl < 0) return;
      const h = JSON.parse(head.slice(0, nl));
      want = h.up; down = h.down;
      got = Buffer.byteLength(head.slice(nl + 1), 'latin1');
    } else got += d.length;
    if (got >= want && down >= 0) {
      const n = down; down = -1;
      const chunk = Buffer.alloc(65536, 0x41);
      let left = n;
      const pump = () => { while (left > 0) { const k = Math.min(left, chunk.length); left -= k; if (!sock.write(k === chunk.length ? chunk : chunk.subarray(0, k))) return sock.once('drain', pump); } sock.end(); };
      pump();
    }
  });
  sock.on('error', () => {});
});
server.listen(Number(port), host, () => process.stdout.write('listening\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

/** A TCP client: sends U bytes (spread over ms when given), receives D bytes, prints what it got. */
const CLIENT_SCRIPT = `
const net = require('node:net');
const [host, port, up, down, ms] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const sock = net.connect(port, host, () => {
  sock.write(JSON.stringify({ up, down }) + '\\n');
  const chunk = Buffer.alloc(16384, 0x42);
  let left = up;
  const started = Date.now();
  const pump = () => {
    const allowed = ms > 0 ? Math.min(up, Math.ceil(((Date.now() - started) / ms) * up)) : up;
    while (left > 0 && up - left < allowed) { const k = Math.min(left, chunk.length); left -= k; if (!sock.write(k === chunk.length ? chunk : chunk.subarray(0, k))) return sock.once('drain', pump); }
    if (left > 0) setTimeout(pump, 10);
  };
  pump();
});
let received = 0;
sock.on('data', (d) => { received += d.length; });
sock.on('end', () => { process.stdout.write(JSON.stringify({ received })); sock.end(); });
sock.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
setTimeout(() => { process.stderr.write('client timed out'); process.exit(2); }, 60000).unref();
`;

export interface FlowsLab {
  names: Record<string, string>;
  exec(ns: string, command: string, args: string[]): Promise<string>;
  /** An interface's counters in a namespace, as the kernel prints them. */
  counters(ns: string, dev: string): Promise<RawCounters>;
  /** Waits until an interface's counters hold still for quietMs, and returns them. */
  quiet(ns: string, dev: string, quietMs?: number): Promise<RawCounters>;
  /** Runs a TCP transfer from `fromNs` to the lab's server (up bytes sent, down bytes received). */
  transfer(fromNs: string, to: string, up: number, down: number, spreadMs?: number): Promise<void>;
  /** Starts the TCP server in a namespace on address:SERVER_PORT. */
  startServer(ns: string, address: string): Promise<void>;
  startNetPulse(ns: string, options: StartNetPulseOptions): Promise<NetPulseProcess>;
  /** The nft tables in a namespace (`nft list tables`). */
  tables(ns: string): Promise<string>;
}

async function createLab(t: TestContext, roles: string[]): Promise<FlowsLab> {
  const n = ++labCount;
  const names = Object.fromEntries(roles.map((r) => [r, `np9h-${process.pid}-${n}-${r}`]));
  const { exec, children } = await createNamespaces(t, Object.values(names));
  const track = (child: ChildProcess) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  const lab: FlowsLab = {
    names,
    exec,
    async counters(ns, dev) {
      const c = parseProcNetDev(await exec(ns, 'cat', ['/proc/net/dev'])).get(dev);
      if (c === undefined) throw new Error(`${dev} is not in ${ns}`);
      return c;
    },
    async quiet(ns, dev, quietMs = 400) {
      let previous = JSON.stringify(await lab.counters(ns, dev), (_, v) => (typeof v === 'bigint' ? String(v) : v));
      let since = Date.now();
      return waitFor(`${dev} in ${ns} to hold still`, async () => {
        const now = await lab.counters(ns, dev);
        const text = JSON.stringify(now, (_, v) => (typeof v === 'bigint' ? String(v) : v));
        if (text !== previous) {
          previous = text;
          since = Date.now();
          return undefined;
        }
        return Date.now() - since >= quietMs ? now : undefined;
      }, { timeoutMs: 20_000, everyMs: 100 });
    },
    async startServer(ns, address) {
      const child = track(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER_SCRIPT, address, String(SERVER_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] }));
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
    },
    async transfer(fromNs, to, up, down, spreadMs = 0) {
      const { stdout } = await execFileAsync('ip', ['netns', 'exec', fromNs, process.execPath, '-e', CLIENT_SCRIPT, to, String(SERVER_PORT), String(up), String(down), String(spreadMs)], { timeout: 90_000 });
      const got = (JSON.parse(stdout) as { received: number }).received;
      if (got !== down) throw new Error(`transfer received ${got} of ${down} bytes`);
    },
    startNetPulse(ns, options) {
      return startNetPulseInNamespace(ns, children, options);
    },
    async tables(ns) {
      return exec(ns, 'nft', ['list', 'tables']);
    },
  };
  return lab;
}

async function gro(lab: FlowsLab, ns: string, dev: string): Promise<void> {
  await lab.exec(ns, 'ethtool', ['-K', dev, 'gro', 'off']).catch(() => undefined);
}

/** r + c1 + c2 + s, as described at the top. */
export async function createRouterLab(t: TestContext): Promise<FlowsLab> {
  const lab = await createLab(t, ['r', 'c1', 'c2', 's']);
  const { r, c1, c2, s } = lab.names as Record<'r' | 'c1' | 'c2' | 's', string>;
  const x = (ns: string, ...args: string[]) => lab.exec(ns, args[0]!, args.slice(1));
  await x(r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  await x(r, 'ip', 'link', 'add', 'br0', 'address', mac(1), 'type', 'bridge');
  const clients = [
    { ns: c1, port: 'p1', ip: '10.9.0.10', mac: mac(0x10), peerMac: mac(0x20) },
    { ns: c2, port: 'p2', ip: '10.9.0.11', mac: mac(0x11), peerMac: mac(0x21) },
  ];
  for (const c of clients) {
    await x(r, 'ip', 'link', 'add', c.port, 'address', c.peerMac, 'type', 'veth', 'peer', 'name', 'eth0', 'address', c.mac, 'netns', c.ns);
    await x(r, 'ip', 'link', 'set', c.port, 'master', 'br0');
    await x(c.ns, 'ip', 'addr', 'add', `${c.ip}/24`, 'dev', 'eth0');
    await x(c.ns, 'ip', 'link', 'set', 'eth0', 'up');
    await x(c.ns, 'ip', 'route', 'add', 'default', 'via', '10.9.0.1');
    await x(c.ns, 'ip', 'neigh', 'replace', '10.9.0.1', 'lladdr', mac(1), 'dev', 'eth0', 'nud', 'permanent');
    await x(r, 'ip', 'neigh', 'replace', c.ip, 'lladdr', c.mac, 'dev', 'br0', 'nud', 'permanent');
    await x(r, 'ip', 'link', 'set', c.port, 'up');
    await x(r, 'bridge', 'fdb', 'replace', c.mac, 'dev', c.port, 'master', 'static');
    await gro(lab, r, c.port);
    await gro(lab, c.ns, 'eth0');
  }
  await x(r, 'ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'br0');
  await x(r, 'ip', 'link', 'set', 'br0', 'up');
  await x(r, 'ip', 'link', 'add', 'ps', 'address', mac(0x30), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(0x31), 'netns', s);
  await x(r, 'ip', 'addr', 'add', '198.18.0.1/24', 'dev', 'ps');
  await x(s, 'ip', 'addr', 'add', '198.18.0.2/24', 'dev', 'eth0');
  await x(r, 'ip', 'link', 'set', 'ps', 'up');
  await x(s, 'ip', 'link', 'set', 'eth0', 'up');
  await x(s, 'ip', 'route', 'add', '10.9.0.0/24', 'via', '198.18.0.1');
  await x(r, 'ip', 'neigh', 'replace', '198.18.0.2', 'lladdr', mac(0x31), 'dev', 'ps', 'nud', 'permanent');
  await x(s, 'ip', 'neigh', 'replace', '198.18.0.1', 'lladdr', mac(0x30), 'dev', 'eth0', 'nud', 'permanent');
  await gro(lab, r, 'ps');
  await gro(lab, s, 'eth0');
  await gro(lab, r, 'br0');
  await lab.startServer(s, '198.18.0.2');
  return lab;
}

export const ROUTER_CLIENTS = { c1: { ip: '10.9.0.10', mac: mac(0x10) }, c2: { ip: '10.9.0.11', mac: mac(0x11) } };

/** h (the host Net-Pulse runs on) + p (a remote peer) on one veth: h's eth0 carries only the test's traffic. */
export async function createHostLab(t: TestContext): Promise<FlowsLab> {
  const lab = await createLab(t, ['h', 'p']);
  const { h, p } = lab.names as Record<'h' | 'p', string>;
  const x = (ns: string, ...args: string[]) => lab.exec(ns, args[0]!, args.slice(1));
  await x(h, 'ip', 'link', 'add', 'eth0', 'address', mac(0x40), 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(0x41), 'netns', p);
  await x(h, 'ip', 'addr', 'add', '10.9.1.1/24', 'dev', 'eth0');
  await x(p, 'ip', 'addr', 'add', '10.9.1.2/24', 'dev', 'eth0');
  await x(h, 'ip', 'neigh', 'replace', '10.9.1.2', 'lladdr', mac(0x41), 'dev', 'eth0', 'nud', 'permanent');
  await x(p, 'ip', 'neigh', 'replace', '10.9.1.1', 'lladdr', mac(0x40), 'dev', 'eth0', 'nud', 'permanent');
  await x(h, 'ip', 'link', 'set', 'eth0', 'up');
  await x(p, 'ip', 'link', 'set', 'eth0', 'up');
  await gro(lab, h, 'eth0');
  await gro(lab, p, 'eth0');
  await lab.startServer(p, '10.9.1.2');
  return lab;
}
