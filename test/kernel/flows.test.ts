/**
 * Issue #9, flows and classification on the real kernel: Net-Pulse runs inside the router namespace of a
 * lab (test/helpers/flows-lab.ts) as uid 65534 with only CAP_NET_ADMIN (setpriv), so it sees only that
 * namespace's conntrack and nftables. Root only; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { categoryMark } from '../../src/shared/traffic-categories.js';
import { createFlowsLab, flowsLabSkipReason, type FlowsLab } from '../helpers/conntrack-lab.js';
import { CURL, REPO_ROOT, waitFor } from '../helpers/netns.js';

const SKIP = flowsLabSkipReason();

interface FlowRow {
  protocol: string;
  src_address: string;
  src_port: number;
  dst_address: string;
  dst_port: number;
  orig_bytes: number;
  reply_bytes: number;
  orig_packets: number;
  reply_packets: number;
  category: string;
  domain: string | null;
  started_at: string;
  ended_at: string | null;
}

const RESOLVE = `
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
export async function resolve(name, server) {
  const s = dgram.createSocket('udp4');
  const answer = new Promise((res, rej) => { s.once('message', (m) => res(dnsPacket.decode(m))); setTimeout(() => rej(new Error('no DNS answer')), 10000); });
  s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
  const a = await answer; s.close();
  return a.answers.find((x) => x.type === 'A').data;
}
`;

const UDP_CLIENT = `${RESOLVE}
const [name, dnsServer, count, size] = process.argv.slice(2);
const address = await resolve(name, dnsServer);
const s = dgram.createSocket('udp4');
let received = 0;
const all = new Promise((res) => s.on('message', () => { if (++received === Number(count)) res(); }));
s.bind(0);
await new Promise((r) => s.once('listening', r));
let sent = 0;
for (let i = 0; i < Number(count); i++) { await new Promise((r) => s.send(Buffer.alloc(Number(size), 0x61), 7777, address, r)); sent++; }
await Promise.race([all, new Promise((r) => setTimeout(r, 10000))]);
s.close();
process.stdout.write(JSON.stringify({ address, sent, received, port: 0 }) + '\\n');
`;

/** TLS with the ClientHello written in two TCP segments (60 bytes, a pause, the rest: the SNI is in the second). */
const TLS_CLIENT = `${RESOLVE}
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
const [name, dnsServer, closeFile, bytes] = process.argv.slice(2);
const address = await resolve(name, dnsServer);
const sock = net.connect(443, address);
sock.setNoDelay(true);
await new Promise((r) => sock.once('connect', r));
let first = true;
const wire = new Duplex({
  write(chunk, _enc, cb) {
    if (!first) return sock.write(chunk, cb);
    first = false;
    sock.write(chunk.subarray(0, 60));
    setTimeout(() => sock.write(chunk.subarray(60), cb), 300);
  },
  read() {},
  final(cb) { sock.end(); cb(); },
});
sock.on('data', (d) => wire.push(d));
sock.on('end', () => wire.push(null));
const t = tls.connect({ socket: wire, servername: name, rejectUnauthorized: false });
await new Promise((r, j) => { t.once('secureConnect', r); t.once('error', j); });
let echoed = 0;
const done = new Promise((r) => t.on('data', (d) => { echoed += d.length; if (echoed >= Number(bytes)) r(); }));
t.write(Buffer.alloc(Number(bytes), 0x62));
await done;
process.stdout.write(JSON.stringify({ address, localPort: sock.localPort, echoed }) + '\\n');
for (let i = 0; i < 1200 && !fs.existsSync(closeFile); i++) await new Promise((r) => setTimeout(r, 50));
t.end();
await new Promise((r) => sock.once('close', r));
process.stdout.write(JSON.stringify({ address, localPort: sock.localPort, echoed }) + '\\n');
`;

async function api<T>(lab: FlowsLab, pathAndQuery: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> {
  const args = ['-sS', '-m', '20', '-X', method, '-w', '\n%{http_code}'];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  const text = await lab.exec(lab.ns.r, CURL, [...args, `http://127.0.0.1:8000${pathAndQuery}`]);
  const cut = text.lastIndexOf('\n');
  return { status: Number(text.slice(cut + 1)), body: JSON.parse(text.slice(0, cut)) as T };
}

function startNetPulse(lab: FlowsLab, caps: string, env: Record<string, string>) {
  const dbDir = path.join(lab.tmp, `db-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(dbDir, { mode: 0o777 });
  fs.chmodSync(dbDir, 0o777);
  const child = lab.spawnIn(lab.ns.r, 'setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', `--inh-caps=-all${caps}`, `--ambient-caps=-all${caps}`, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve'], {
    NETPULSE_DB_PATH: path.join(dbDir, 'np.db'),
    NETPULSE_PORT: '8000',
    NETPULSE_HOST: '127.0.0.1',
    NETPULSE_LOG_LEVEL: 'warn',
    NETPULSE_TZ: 'UTC',
    HOME: lab.tmp,
    ...env,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

test('flows in a router namespace as uid 65534 with only CAP_NET_ADMIN: a short flow counted from its DESTROY event, a split ClientHello labelled and marked, the table removed on stop', { skip: SKIP ?? false, timeout: 900_000 }, async (t) => {
  const lab = await createFlowsLab(t, (wan) => ({ 'us04web.zoom.us': wan(2), 'cdn.steamcontent.com': wan(3) }));
  const acctBefore = (await lab.exec(lab.ns.r, 'sysctl', ['-n', 'net.netfilter.nf_conntrack_acct'])).trim();
  // A dump only at start (the baseline): every flow below is known only from its DESTROY event.
  const np = startNetPulse(lab, ',+net_admin', { NETPULSE_FLOWS: 'on', NETPULSE_CLASSIFY: 'on', NETPULSE_FLOW_DUMP_SEC: '300', NETPULSE_LAN_CIDRS: '10.91.0.0/16' });
  await waitFor('Net-Pulse to answer /api/flows', async () => ((await api(lab, '/api/flows').catch(() => null))?.status === 200 ? true : undefined), { timeoutMs: 240_000, everyMs: 500 }).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${np.output()}`);
  });
  const tables = await lab.exec(lab.ns.r, 'nft', ['list', 'tables']);
  assert.match(tables, /table inet netpulse_flows/);

  // 1. A UDP flow that opens and closes between two dumps, to a name resolved from the lab DNS.
  const udp = await lab.node<{ address: string; sent: number; received: number }>(lab.ns.c1, UDP_CLIENT, ['cdn.steamcontent.com', lab.wan(2), '20', '1000']);
  assert.equal(udp.sent, 20);
  const udpFlow = await waitFor(
    'the UDP flow among the recent flows (after its conntrack entry times out and is destroyed)',
    async () => (await api<{ data: FlowRow[] }>(lab, '/api/flows?state=recent&limit=500')).body.data.find((f) => f.protocol === 'udp' && f.dst_port === 7777),
    { timeoutMs: 240_000, everyMs: 500 },
  );
  assert.equal(udpFlow.src_address, lab.lan(10));
  assert.equal(udpFlow.dst_address, udp.address);
  assert.equal(udpFlow.orig_packets, udp.sent);
  assert.equal(udpFlow.orig_bytes, udp.sent * (1000 + 28), 'IPv4 20 + UDP 8 + payload, per datagram');
  assert.equal(udpFlow.reply_packets, udp.received);
  assert.equal(udpFlow.reply_bytes, udp.received * (1000 + 28));
  assert.equal(udpFlow.domain, 'cdn.steamcontent.com', 'named from the DNS answer');
  assert.equal(udpFlow.category, 'file');
  assert.ok(udpFlow.ended_at !== null);

  // 2. TLS with one ClientHello over two segments: labelled from the SNI, and the label written on the ct mark.
  const closeFile = path.join(lab.tmp, 'close-tls');
  lab.writeScript('tls-client.mjs', TLS_CLIENT);
  const client = lab.spawnIn(lab.ns.c2, process.execPath, [path.join(lab.tmp, 'tls-client.mjs'), 'us04web.zoom.us', lab.wan(2), closeFile, '5000']);
  void client;
  t.diagnostic('tls client started');
  let clientOut = '';
  client.stdout!.on('data', (d: Buffer) => (clientOut += d.toString()));
  client.stderr!.on('data', (d: Buffer) => (clientOut += d.toString()));
  const clientExit = new Promise<number | null>((r) => client.once('exit', (code) => r(code)));
  const opened = await waitFor('the TLS client to finish its handshake and echo', async () => {
    if (client.exitCode !== null) throw new Error(`tls client exited: ${clientOut}`);
    const line = clientOut.split('\n').find((l) => l.startsWith('{'));
    return line === undefined ? undefined : (JSON.parse(line) as { address: string; localPort: number; echoed: number });
  }, { timeoutMs: 120_000, everyMs: 100 });
  assert.equal(opened.echoed, 5000);
  const voiceMark = categoryMark('voice');
  await waitFor(`the TLS flow's conntrack mark to carry voice (${voiceMark})`, async () => {
    const list = await lab.exec(lab.ns.r, 'conntrack', ['-L', '-p', 'tcp', '--orig-port-dst', '443', '--orig-port-src', String(opened.localPort)]).catch(() => '');
    return list.includes(`mark=${voiceMark}`) ? true : undefined;
  }, { timeoutMs: 120_000, everyMs: 300 });
  fs.writeFileSync(closeFile, '');
  assert.equal(await clientExit, 0, clientOut);
  const tlsFlow = await waitFor(
    'the TLS flow among the recent flows',
    async () => (await api<{ data: FlowRow[] }>(lab, '/api/flows?state=recent&limit=500')).body.data.find((f) => f.protocol === 'tcp' && f.dst_port === 443 && f.src_port === opened.localPort),
    { timeoutMs: 240_000, everyMs: 500 },
  );
  assert.equal(tlsFlow.domain, 'us04web.zoom.us');
  assert.equal(tlsFlow.category, 'voice');
  assert.equal(tlsFlow.src_address, lab.lan(11));
  assert.ok(tlsFlow.reply_bytes > 5000 && tlsFlow.orig_bytes > 5000, 'both directions carried the 5,000 echoed bytes plus TLS and headers');

  // 3. Traffic by category holds both flows' bytes, exactly (each is the only flow of its category).
  const cats = (await api<{ data: { category: string; bytes: number; flows: number }[] }>(lab, '/api/traffic/categories?time_window_hours=1')).body.data;
  const of = (c: string) => cats.find((x) => x.category === c);
  assert.equal(of('file')?.bytes, udpFlow.orig_bytes + udpFlow.reply_bytes);
  assert.equal(of('file')?.flows, 1);
  assert.equal(of('voice')?.bytes, tlsFlow.orig_bytes + tlsFlow.reply_bytes);
  const byHost = (await api<{ data: { category: string }[] }>(lab, `/api/traffic/categories?time_window_hours=1&host=${lab.lan(11)}`)).body.data;
  assert.ok(!byHost.some((c) => c.category === 'file'), 'the file flow was the other client');

  // 4. Stop: no table left, the accounting sysctl as it was.
  np.child.kill('SIGTERM');
  assert.equal(await np.exited, 0, np.output());
  assert.doesNotMatch(await lab.exec(lab.ns.r, 'nft', ['list', 'tables']), /netpulse_flows/);
  assert.equal((await lab.exec(lab.ns.r, 'sysctl', ['-n', 'net.netfilter.nf_conntrack_acct'])).trim(), acctBefore);
});

test('flows without CAP_NET_ADMIN: the server runs, /api/flows says why flows are off, nothing is added to the kernel', { skip: SKIP ?? false, timeout: 600_000 }, async (t) => {
  const lab = await createFlowsLab(t, () => ({}));
  const np = startNetPulse(lab, '', { NETPULSE_FLOWS: 'on', NETPULSE_CLASSIFY: 'on' });
  const answer = await waitFor('Net-Pulse to answer', async () => {
    const a = await api<{ code: string; message: string }>(lab, '/api/flows').catch(() => null);
    return a !== null && a.status !== 0 ? a : undefined;
  }, { timeoutMs: 240_000, everyMs: 500 }).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${np.output()}`);
  });
  assert.equal(answer.status, 503);
  assert.equal(answer.body.code, 'FLOWS_OFF');
  assert.match(answer.body.message, /CAP_NET_ADMIN/);
  assert.equal((await api(lab, '/health')).status, 200);
  assert.doesNotMatch(await lab.exec(lab.ns.r, 'nft', ['list', 'tables']), /netpulse_flows/);
  np.child.kill('SIGTERM');
  await np.exited;
});
