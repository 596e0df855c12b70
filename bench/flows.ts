/**
 * Flows benchmark (issue #9): run as root. It re-runs itself inside a fresh network namespace
 * (np9f-bench-<pid>) so it reads only that namespace's conntrack, inserts entries with `conntrack -I`, and
 * measures: the ctnetlink dump of 2,000 entries (+ the flow table's work), the classification cost per flow
 * (a DNS answer + a ClientHello split over two segments), the CPU and RSS of `netpulse serve` with 1,000
 * active flows with flows on and with them off (the difference is what flows add), and the history database's growth at 100,000 flows a day.
 *   npm run bench:flows
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { DEFAULT_CATEGORY_TABLE, createClassifier } from '../src/flows/categories.js';
import { createCidrMatcher } from '../src/flows/cidr.js';
import { openConntrack } from '../src/flows/conntrack.js';
import { FlowTable, hourOf } from '../src/flows/flow-aggregate.js';
import { createFlowHistoryRepo } from '../src/flows/flow-history-repo.js';
import { PacketClassifier } from '../src/flows/packet-classifier.js';
import { openDatabase } from '../src/storage/db.js';
import { clientHelloRecords } from '../test/helpers/tls-hello.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function insertEntries(n: number, offset = 0): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    lines.push(`-I -p tcp -s 10.91.${(k >> 8) & 255}.${k & 255} -d 10.92.0.2 --sport ${20000 + (k % 40000)} --dport 443 --state ESTABLISHED -t 600 -u ASSURED`);
  }
  // One conntrack process reads them all from a file (-R; not stdin: Node gives a child a socket, which it cannot open).
  const file = path.join(os.tmpdir(), `np9f-bench-ct-${process.pid}-${offset}.txt`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  try {
    execFileSync('conntrack', ['-R', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function inside(pureOnly = false): Promise<void> {
  const out: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np9f-bench-'));
  if (!pureOnly) await kernelParts(out, dir);
  pureParts(out, dir);
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(out.join('\n') + '\n');
}

async function kernelParts(out: string[], dir: string): Promise<void> {
  execFileSync('sysctl', ['-qw', 'net.netfilter.nf_conntrack_acct=1']);
  // 1. Dump cost with 2,000 entries.
  insertEntries(2000);
  const ct = await openConntrack();
  const classifier = createClassifier(DEFAULT_CATEGORY_TABLE);
  const dumpMs: number[] = [];
  const tableMs: number[] = [];
  let entries = 0;
  const table = new FlowTable({ classifier: () => classifier, isLan: createCidrMatcher(['10.91.0.0/16']) });
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    const list = await ct.dump();
    const t1 = performance.now();
    table.applyDump(list, Date.now());
    tableMs.push(performance.now() - t1);
    dumpMs.push(t1 - t0);
    entries = list.length;
  }
  ct.close();
  out.push(`| conntrack dump over ctnetlink, ${entries} entries (median of 40) | ${median(dumpMs).toFixed(2)} ms |`);
  out.push(`| flow table update for that dump (deltas, labels, hour rows) | ${median(tableMs).toFixed(2)} ms |`);

  // 3. CPU and RSS of the real server with 1,000 active flows: `netpulse serve` with flows and classification
  // on, then off, in this namespace (the same 1,000 conntrack entries), each measured over 60 s after it settled.
  execFileSync('conntrack', ['-F'], { stdio: 'ignore' });
  insertEntries(1000, 5000);
  const on = await measureServer(dir, 'on');
  const off = await measureServer(dir, 'off');
  out.push(`| \`node ${serverEntry} serve\` with ${on.activeFlows} active flows, flows + classify on, 60 s (RSS: median of 12 samples) | ${on.cpuPercent.toFixed(3)} % of a core, RSS ${on.rssMiB.toFixed(1)} MiB |`);
  out.push(`| the same server with NETPULSE_FLOWS off, 60 s | ${off.cpuPercent.toFixed(3)} % of a core, RSS ${off.rssMiB.toFixed(1)} MiB |`);
  out.push(`| **added by flows at 1,000 active flows** | **${(on.cpuPercent - off.cpuPercent).toFixed(3)} % of a core, RSS +${(on.rssMiB - off.rssMiB).toFixed(1)} MiB** |`);
}

const CLK_TCK = 100;
let serverEntry = '';

/** Starts the server (tsx, from the repo), waits until it answers (and, with flows on, has dumped), then samples /proc for 60 s. */
async function measureServer(dir: string, flows: 'on' | 'off'): Promise<{ cpuPercent: number; rssMiB: number; activeFlows: number }> {
  const port = 18_000 + (flows === 'on' ? 1 : 2);
  // The built server (npm run build) when there is one, as it runs in production; else from the sources under tsx.
  const root = new URL('..', import.meta.url).pathname;
  const entry = fs.existsSync(path.join(root, 'dist/cli/main.js')) ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  serverEntry = entry.join(' ');
  const child = spawn(process.execPath, [...entry, 'serve'], {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, NETPULSE_FLOWS: flows, NETPULSE_CLASSIFY: flows, NETPULSE_LAN_CIDRS: '10.91.0.0/16', NETPULSE_DB_PATH: path.join(dir, `server-${flows}.db`), NETPULSE_PORT: String(port), NETPULSE_HOST: '127.0.0.1', NETPULSE_LOG_LEVEL: 'warn' },
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ok = await fetch(`${url}/api/flows/status`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server (flows ${flows}) did not answer`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 10_000)); // settle: module loads, first dumps, JIT
    const cpu = () => {
      const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks
    };
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    const c0 = cpu();
    const t0 = performance.now();
    const rssSamples: number[] = [];
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 5_000));
      rssSamples.push(rss());
    }
    const ticks = cpu() - c0;
    const wallMs = performance.now() - t0;
    const rssKiB = median(rssSamples);
    let activeFlows = 0;
    if (flows === 'on') activeFlows = ((await (await fetch(`${url}/api/flows?limit=5000`)).json()) as { data: unknown[] }).data.length;
    return { cpuPercent: ((ticks / CLK_TCK) * 1000 * 100) / wallMs, rssMiB: rssKiB / 1024, activeFlows };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

function pureParts(out: string[], dir: string): void {
  // 2. Classification per flow: one DNS answer + a 2-segment ClientHello, through the packet path.
  const pc = new PacketClassifier({ onDns: () => undefined, onServerName: () => undefined });
  const dns = dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'rr3.googlevideo.com' }], answers: [{ type: 'A', name: 'rr3.googlevideo.com', ttl: 60, data: '142.250.1.1' }] });
  const ipv4 = (proto: number, sport: number, dport: number, l4: Buffer, payload: Buffer) => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + l4.length + payload.length, 2);
    ip[9] = proto;
    Buffer.from([10, 91, 0, 5]).copy(ip, 12);
    Buffer.from([142, 250, 1, 1]).copy(ip, 16);
    l4.writeUInt16BE(sport, 0);
    l4.writeUInt16BE(dport, 2);
    return Buffer.concat([ip, l4, payload]);
  };
  const hello = clientHelloRecords({ serverName: 'rr3.googlevideo.com', sniLast: true });
  const tcp = (seq: number, payload: Buffer, port: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt32BE(seq, 4);
    h[12] = 0x50;
    h[13] = 0x18;
    return ipv4(6, port, 443, h, payload);
  };
  const flows = 20_000;
  const packets: Buffer[][] = [];
  for (let i = 0; i < flows; i++) {
    const port = 1024 + (i % 60000);
    packets.push([ipv4(17, 53, 40000, Buffer.alloc(8), dns), tcp(1000 + i, hello.subarray(0, 1448), port), tcp(1000 + i + 1448, hello.subarray(1448), port)]);
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of packets) for (const b of p) pc.handle(b, 0);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  out.push(`| classification per flow (a DNS answer + a ${hello.length} B ClientHello in 2 segments), ${flows} flows | ${((wall * 1000) / flows).toFixed(1)} µs wall, ${((cpu.user + cpu.system) / flows).toFixed(1)} µs CPU (${pc.stats.names} names) |`);

  // 4. History growth at 100,000 flows a day: 40 hosts, each hour's domains folded to the top 20 per host.
  const hdb = openDatabase(path.join(dir, 'h.db'));
  const repo = createFlowHistoryRepo(hdb);
  const domains = Array.from({ length: 400 }, (_, i) => `site${i}.example.com`);
  const cats = ['video', 'web', 'voice', 'file', 'background', 'other', 'unknown'] as const;
  const day0 = hourOf(Date.UTC(2026, 0, 1));
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const days = 7;
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      const rows = new Map<string, { bucketStartSec: number; host: string; category: (typeof cats)[number]; domain: string; origBytes: bigint; replyBytes: bigint; origPackets: bigint; replyPackets: bigint; flows: number }>();
      const bucket = day0 + (d * 24 + h) * 3600;
      for (let f = 0; f < Math.round(100_000 / 24); f++) {
        const host = `10.91.0.${1 + Math.floor(rnd() * 40)}`;
        const domain = domains[Math.floor(rnd() ** 2 * domains.length)]!;
        const category = cats[domain.length % cats.length]!;
        const key = `${host}|${category}|${domain}`;
        const r = rows.get(key) ?? { bucketStartSec: bucket, host, category, domain, origBytes: 0n, replyBytes: 0n, origPackets: 0n, replyPackets: 0n, flows: 0 };
        r.origBytes += BigInt(Math.floor(rnd() * 100_000));
        r.replyBytes += BigInt(Math.floor(rnd() * 1_000_000));
        r.origPackets += 10n;
        r.replyPackets += 20n;
        r.flows++;
        rows.set(key, r);
      }
      repo.add([...rows.values()]);
      repo.foldHours(bucket + 3600, 20);
    }
  }
  hdb.pragma('wal_checkpoint(TRUNCATE)');
  hdb.exec('VACUUM');
  const size = fs.statSync(path.join(dir, 'h.db')).size;
  const emptyDb = openDatabase(path.join(dir, 'e.db'));
  emptyDb.close();
  const base = fs.statSync(path.join(dir, 'e.db')).size;
  out.push(`| history at 100,000 flows/day (40 hosts, 400 domains, top 20 per host and hour) | ${repo.rowCount() / days} rows/day, ${((size - base) / days / 1024).toFixed(0)} KiB/day; 7 days of names ≈ ${((size - base) / 1048576).toFixed(1)} MiB |`);
  hdb.close();
}

if (process.argv[2] === '--inside') {
  await inside();
} else if (process.argv[2] === '--pure') {
  // No root: only the classification cost and the history growth.
  console.log('| measure | result |\n|---|---|');
  await inside(true);
} else {
  if (process.getuid?.() !== 0) {
    console.error('bench:flows needs root (it creates a network namespace)');
    process.exit(1);
  }
  const load0 = os.loadavg()[0]!;
  const ns = `np9f-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--inside'], { encoding: 'utf8', timeout: 900_000 });
    console.log(`Flows benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.versions.node}\n`);
    console.log('| measure | result |\n|---|---|');
    process.stdout.write(out);
    console.log(`\nLoad average (1 min) at start ${load0.toFixed(2)}, at the end ${os.loadavg()[0]!.toFixed(2)}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
