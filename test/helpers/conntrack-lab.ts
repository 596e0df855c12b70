/**
 * A router lab for the flows tests (issue #9): namespaces np9f-<pid>-<n>-{r,c1,c2,s}. Clients c1, c2 on a
 * bridge in the router r (LAN 10.91.n.0/24, r = .1), the server s beyond it (WAN 10.92.n.0/24, s = .2 and
 * .3). In s: a DNS server (dns-packet, UDP 53) answering the names given, a TLS server on 443 (node:tls,
 * a self-signed cert made with openssl here) that echoes, and a UDP echo on 7777. Everything made is
 * deleted in t.after (processes killed by PID, namespaces deleted).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createNamespaces, startNetPulseInNamespace, waitFor, type NetPulseProcess, type StartNetPulseOptions } from './netns.js';

export function flowsLabSkipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root: creating network namespaces needs root';
  for (const [tool, args] of [['ip', ['-V']], ['nft', ['--version']], ['conntrack', ['--version']], ['openssl', ['version']], ['setpriv', ['--version']], ['curl', ['--version']]] as const) {
    try {
      execFileSync(tool, [...args], { stdio: 'ignore' });
    } catch {
      return `${tool} not found`;
    }
  }
  return null;
}

export interface FlowsLab {
  ns: { r: string; c1: string; c2: string; s: string };
  lan: (host: number) => string;
  wan: (host: number) => string;
  exec(ns: string, command: string, args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Runs a Node script (ESM, from the repo root so dns-packet resolves) inside a namespace; resolves with its JSON output. */
  node<T>(ns: string, script: string, args: string[], options?: { timeoutMs?: number }): Promise<T>;
  /** Starts a long-running child in a namespace, killed in t.after. */
  spawnIn(ns: string, command: string, args: string[], env?: Record<string, string>): ChildProcess;
  /** Writes a script (dns-packet import resolved) into the lab's temp folder; returns its path. */
  writeScript(name: string, script: string): string;
  tmp: string;
  /** Starts `netpulse serve` (as root) in a namespace; killed with the lab's other children. */
  startNetPulse(ns: string, options: StartNetPulseOptions): Promise<NetPulseProcess>;
}

let labs = 0;

const DNS_PACKET_URL = pathToFileURL(createRequire(import.meta.url).resolve('dns-packet')).href;
/** Scripts run from the lab's temp folder: point their dns-packet import at the repo's copy. */
const withDnsPacket = (script: string) => script.replace("from 'dns-packet'", `from '${DNS_PACKET_URL}'`);

const SERVERS = `
import dgram from 'node:dgram';
import fs from 'node:fs';
import tls from 'node:tls';
import dnsPacket from 'dns-packet';
const [dnsAddr, names, certDir] = process.argv.slice(2);
const table = JSON.parse(names);
const dns = dgram.createSocket('udp4');
dns.on('message', (msg, rinfo) => {
  const q = dnsPacket.decode(msg);
  const name = q.questions[0].name.toLowerCase();
  const addr = table[name];
  const answers = addr ? [{ type: 'A', name, ttl: 600, data: addr }] : [];
  dns.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), rinfo.port, rinfo.address);
});
dns.bind(53, dnsAddr);
const server = tls.createServer({ key: fs.readFileSync(certDir + '/key.pem'), cert: fs.readFileSync(certDir + '/cert.pem') }, (s) => { s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); s.on('error', () => {}); });
server.listen(443, '0.0.0.0');
// One echo socket per address, so a reply leaves from the address the datagram came to (one flow, both ways).
for (const addr of new Set(Object.values(table).concat(dnsAddr))) {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  echo.bind(7777, addr);
}
setTimeout(() => process.stdout.write('ready\\n'), 200);
`;

export async function createFlowsLab(t: TestContext, namesOf: (wan: (host: number) => string) => Record<string, string>): Promise<FlowsLab> {
  const n = ++labs;
  const id = `np9f-${process.pid}-${n}`;
  const ns = { r: `${id}-r`, c1: `${id}-c1`, c2: `${id}-c2`, s: `${id}-s` };
  const sub = 10 + ((process.pid + n) % 200);
  const lan = (h: number) => `10.91.${sub}.${h}`;
  const wan = (h: number) => `10.92.${sub}.${h}`;
  // Teardown in t.after, in this order: children killed, namespaces deleted, then the temp folder.
  const { exec, spawnIn, children } = await createNamespaces(t, Object.values(ns));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np9f-'));
  fs.chmodSync(tmp, 0o777);
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const ipR = (args: string[]) => exec(ns.r, 'ip', args);
  await ipR(['link', 'add', 'br0', 'type', 'bridge']);
  for (const [i, c] of [ns.c1, ns.c2].entries()) {
    await ipR(['link', 'add', `lan${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c]);
    await ipR(['link', 'set', `lan${i}`, 'master', 'br0', 'up']);
    await exec(c, 'ip', ['addr', 'add', `${lan(10 + i)}/24`, 'dev', 'eth0']);
    await exec(c, 'ip', ['link', 'set', 'eth0', 'up']);
    await exec(c, 'ip', ['route', 'add', 'default', 'via', lan(1)]);
  }
  await ipR(['addr', 'add', `${lan(1)}/24`, 'dev', 'br0']);
  await ipR(['link', 'set', 'br0', 'up']);
  await ipR(['link', 'add', 'wan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.s]);
  await ipR(['addr', 'add', `${wan(1)}/24`, 'dev', 'wan0']);
  await ipR(['link', 'set', 'wan0', 'up']);
  await exec(ns.s, 'ip', ['addr', 'add', `${wan(2)}/24`, 'dev', 'eth0']);
  await exec(ns.s, 'ip', ['addr', 'add', `${wan(3)}/24`, 'dev', 'eth0']);
  await exec(ns.s, 'ip', ['link', 'set', 'eth0', 'up']);
  await exec(ns.s, 'ip', ['route', 'add', 'default', 'via', wan(1)]);
  await exec(ns.r, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  // Short conntrack timeouts in the router, so closed flows are destroyed (and their events sent) soon.
  await exec(ns.r, 'sysctl', ['-qw', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1', 'net.netfilter.nf_conntrack_tcp_timeout_close=1', 'net.netfilter.nf_conntrack_tcp_timeout_fin_wait=1', 'net.netfilter.nf_conntrack_tcp_timeout_last_ack=1', 'net.netfilter.nf_conntrack_tcp_timeout_close_wait=1', 'net.netfilter.nf_conntrack_udp_timeout=2', 'net.netfilter.nf_conntrack_udp_timeout_stream=2']);

  // The TLS server's certificate, made here.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'), '-days', '1', '-subj', '/CN=np9f.test'], { stdio: 'ignore' });

  const serverScript = path.join(tmp, 'servers.mjs');
  fs.writeFileSync(serverScript, withDnsPacket(SERVERS));
  const servers = spawnIn(ns.s, process.execPath, [serverScript, wan(2), JSON.stringify(namesOf(wan)), tmp]);
  let out = '';
  servers.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  servers.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the lab DNS and TLS servers', async () => (out.includes('ready') ? true : servers.exitCode !== null ? Promise.reject(new Error(out)) : undefined), { timeoutMs: 120_000, everyMs: 100 });

  const node = async <T>(inNs: string, script: string, args: string[], options: { timeoutMs?: number } = {}): Promise<T> => {
    const file = path.join(tmp, `run-${Math.random().toString(36).slice(2)}.mjs`);
    fs.writeFileSync(file, withDnsPacket(script));
    try {
      const stdout = await exec(inNs, process.execPath, [file, ...args], { timeoutMs: options.timeoutMs ?? 60_000 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
    } finally {
      fs.rmSync(file, { force: true });
    }
  };
  const writeScript = (name: string, script: string) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, withDnsPacket(script));
    return file;
  };
  return { ns, lan, wan, exec, node, spawnIn, writeScript, tmp, startNetPulse: (inNs, options) => startNetPulseInNamespace(inNs, children, options) };
}
