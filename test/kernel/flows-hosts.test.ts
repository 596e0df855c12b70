/**
 * Issue #9, per-host totals against the real kernel: Net-Pulse runs inside a router (or host) namespace the
 * test builds (test/helpers/flows-lab.ts), with NETPULSE_FLOWS=on, and must report for each host exactly the
 * IP bytes that crossed its link: the client's veth bytes − 14 × its packets (GRO off), both ways, through a
 * kill -9 and restart, as a non-root user with only CAP_NET_ADMIN; and leave no nft table behind on stop.
 * Runs only as root with iproute2, nftables and ethtool; skipped elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RawCounters } from '../../src/collector/counter-source.js';
import { ROUTER_CLIENTS, createHostLab, createRouterLab, type FlowsLab } from '../helpers/flows-lab.js';
import { netnsSkipReason, waitFor, type NetPulseProcess } from '../helpers/netns.js';

function skipReason(): string | null {
  const base = netnsSkipReason();
  if (base !== null) return base;
  for (const tool of ['nft', 'ethtool', 'setpriv']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not found`;
    }
  }
  return null;
}
const SKIP = skipReason();

interface HostRow {
  id: string;
  addresses: string[];
  mac: string | null;
  name: string | null;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
}
interface Status {
  enabled: boolean;
  mode: string | null;
  parts: { hosts: { on: boolean; reason: string } };
}

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const WITH_NET_ADMIN = [...NOBODY, '--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin', '--'];

function tempDb(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np9h-'));
  fs.chmodSync(dir, 0o777); // the non-root server writes here too
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'netpulse.db');
}

/** The L3 bytes that crossed: veth bytes − 14 × packets (Ethernet header), GRO off. */
function l3(before: RawCounters, after: RawCounters) {
  const rxPackets = after.rxPackets - before.rxPackets;
  const txPackets = after.txPackets - before.txPackets;
  return {
    rx_bytes: after.rxBytes - before.rxBytes - 14n * rxPackets,
    tx_bytes: after.txBytes - before.txBytes - 14n * txPackets,
    rx_packets: rxPackets,
    tx_packets: txPackets,
  };
}

const pick = (h: HostRow | undefined) =>
  h === undefined ? null : { rx_bytes: BigInt(h.rx_bytes), tx_bytes: BigInt(h.tx_bytes), rx_packets: BigInt(h.rx_packets), tx_packets: BigInt(h.tx_packets) };

type L3 = ReturnType<typeof l3>;

/**
 * Waits until /api/hosts says exactly what the kernel's link counters say now (polls run every second). The
 * truth is read again at every try: under load a late retransmission or ACK can cross after the link looked
 * quiet, and it must then be counted too.
 */
async function waitForHost(np: NetPulseProcess, id: string, truth: () => Promise<L3>, diag?: () => Promise<string>): Promise<HostRow> {
  let last: unknown = null;
  let expected: L3 | null = null;
  return waitFor(
    `host ${id} to total what its link carried`,
    async () => {
      expected = await truth();
      const body = await np.ok<{ data: HostRow[] }>('GET', '/api/hosts?time_window_hours=1');
      const row = body.data.find((h) => h.id === id);
      last = pick(row);
      return row !== undefined && JSON.stringify(pick(row), (_, v) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(expected, (_, v) => (typeof v === 'bigint' ? String(v) : v)) ? row : undefined;
    },
    { timeoutMs: 30_000, everyMs: 250 },
  ).catch(async (err: Error) => {
    const kernel = diag === undefined ? '' : `\nthe kernel's sets: ${await diag().catch((e: Error) => e.message)}`;
    throw new Error(`${err.message}${kernel}; expected ${JSON.stringify(expected, (_, v) => (typeof v === 'bigint' ? String(v) : v))}, last seen ${JSON.stringify(last, (_, v) => (typeof v === 'bigint' ? String(v) : v))}\n${np.output().split('\n').slice(-10).join('\n')}`);
  });
}

const FLOWS_ENV = { NETPULSE_FLOWS: 'on', NETPULSE_POLL_INTERVAL: '1', NETPULSE_LOG_LEVEL: 'info' };

async function waitHostsOn(np: NetPulseProcess): Promise<Status> {
  const status = await np.ok<Status>('GET', '/api/flows/status');
  assert.equal(status.parts.hosts.on, true, `hosts part is off: ${status.parts.hosts.reason}`);
  return status;
}

const macId = (mac: string) => `mac-${mac.replace(/:/g, '-')}`;

test('router mode: per-host bytes equal each client link’s L3 bytes both ways, as a non-root user with only CAP_NET_ADMIN; stop removes the table', { skip: SKIP ?? false, timeout: 180_000 }, async (t) => {
  const lab: FlowsLab = await createRouterLab(t);
  const { r, c1, c2 } = lab.names as Record<'r' | 'c1' | 'c2', string>;
  const before1 = await lab.quiet(c1, 'eth0');
  const before2 = await lab.quiet(c2, 'eth0');
  const np = await lab.startNetPulse(r, { dbPath: tempDb(t), env: FLOWS_ENV, wrap: WITH_NET_ADMIN });
  const status = await waitHostsOn(np);
  assert.equal(status.mode, 'router');
  // With only CAP_NET_ADMIN the netlink set reader opens too: the exact totals below are read through it.
  assert.match(status.parts.hosts.reason, /polls read the sets over netlink/);
  assert.match(await lab.tables(r), /table inet netpulse/);

  await Promise.all([lab.transfer(c1, '198.18.0.2', 2_000_000, 300_000), lab.transfer(c2, '198.18.0.2', 100_000, 3_000_000)]);
  const exp1 = l3(before1, await lab.quiet(c1, 'eth0'));
  const exp2 = l3(before2, await lab.quiet(c2, 'eth0'));
  assert.ok(exp1.tx_bytes > 2_000_000n && exp2.rx_bytes > 3_000_000n, 'the transfers crossed the clients’ links');

  const sets = () => lab.exec(r, 'nft', ['list', 'table', 'inet', 'netpulse']);
  const h1 = await waitForHost(np, macId(ROUTER_CLIENTS.c1.mac), async () => l3(before1, await lab.counters(c1, 'eth0')), sets);
  const h2 = await waitForHost(np, macId(ROUTER_CLIENTS.c2.mac), async () => l3(before2, await lab.counters(c2, 'eth0')), sets);
  assert.deepEqual(h1.addresses, [ROUTER_CLIENTS.c1.ip]);
  assert.equal(h2.mac, ROUTER_CLIENTS.c2.mac);
  const list = await np.ok<{ mode: string; data: HostRow[] }>('GET', '/api/hosts?time_window_hours=1');
  assert.equal(list.mode, 'router');
  assert.deepEqual(list.data.map((h) => h.id), [h2.id, h1.id], 'busiest first; the server beyond the router is not a LAN host');

  // The per-host chart adds up to the same totals.
  const series = await np.ok<{ data: { rx_bytes: number | null; tx_bytes: number | null }[] }>('GET', `/api/hosts/${h1.id}/traffic?time_window_hours=1&group_minutes=1`);
  assert.equal(series.data.reduce((s, p) => s + BigInt(p.rx_bytes ?? 0), 0n), BigInt(h1.rx_bytes));
  assert.equal(series.data.reduce((s, p) => s + BigInt(p.tx_bytes ?? 0), 0n), BigInt(h1.tx_bytes));

  const renamed = await np.ok<{ name: string }>('PUT', `/api/hosts/${h1.id}`, { name: 'laptop' });
  assert.equal(renamed.name, 'laptop');
  assert.equal((await np.ok<{ data: HostRow[] }>('GET', '/api/hosts?time_window_hours=1')).data.find((h) => h.id === h1.id)?.name, 'laptop');

  await np.stop();
  assert.doesNotMatch(await lab.tables(r), /netpulse/, 'stop leaves no netpulse table');
});

test('router mode: kill -9 and a restart while traffic flows still count every byte once', { skip: SKIP ?? false, timeout: 180_000 }, async (t) => {
  const lab = await createRouterLab(t);
  const { r, c1 } = lab.names as Record<'r' | 'c1', string>;
  const dbPath = tempDb(t);
  const before = await lab.quiet(c1, 'eth0');
  const first = await lab.startNetPulse(r, { dbPath, env: FLOWS_ENV });
  await waitHostsOn(first);
  // A transfer spread over ~4 s; Net-Pulse dies in the middle of it and comes back while it still runs.
  const flowing = lab.transfer(c1, '198.18.0.2', 3_000_000, 1_000_000, 4000);
  await waitFor('some traffic counted before the kill', async () => {
    const body = await first.ok<{ data: HostRow[] }>('GET', '/api/hosts?time_window_hours=1');
    return body.data.some((h) => h.tx_bytes > 100_000) ? true : undefined;
  }, { timeoutMs: 20_000, everyMs: 100 });
  await first.kill9();
  assert.match(await lab.tables(r), /table inet netpulse/, 'a killed server leaves its table (adopted at the next start)');
  const second = await lab.startNetPulse(r, { dbPath, env: FLOWS_ENV });
  await waitHostsOn(second);
  await flowing;
  await lab.quiet(c1, 'eth0');
  await waitForHost(second, macId(ROUTER_CLIENTS.c1.mac), async () => l3(before, await lab.counters(c1, 'eth0')));
  assert.match(second.output(), /"table":"adopted"/, 'the restart adopted the table');
  await second.stop();
  assert.doesNotMatch(await lab.tables(r), /netpulse/);
});

test('host mode: a machine that does not forward counts its remote peer both ways', { skip: SKIP ?? false, timeout: 120_000 }, async (t) => {
  const lab = await createHostLab(t);
  const { h } = lab.names as Record<'h', string>;
  const before = await lab.quiet(h, 'eth0');
  const np = await lab.startNetPulse(h, { dbPath: tempDb(t), env: FLOWS_ENV });
  const status = await waitHostsOn(np);
  assert.equal(status.mode, 'host');
  await lab.transfer(h, '10.9.1.2', 500_000, 1_500_000);
  await lab.quiet(h, 'eth0');
  // The peer sent what h received, and received what h sent.
  const peer = await waitForHost(np, macId('02:00:00:09:00:41'), async () => {
    const link = l3(before, await lab.counters(h, 'eth0'));
    return { rx_bytes: link.tx_bytes, tx_bytes: link.rx_bytes, rx_packets: link.tx_packets, tx_packets: link.rx_packets };
  });
  assert.deepEqual(peer.addresses, ['10.9.1.2']);
  await np.stop();
  assert.doesNotMatch(await lab.tables(h), /netpulse/);
});

test('without CAP_NET_ADMIN the server starts, creates no table, and /api/flows/status says why hosts are off', { skip: SKIP ?? false, timeout: 120_000 }, async (t) => {
  const lab = await createHostLab(t);
  const { h } = lab.names as Record<'h', string>;
  const np = await lab.startNetPulse(h, { dbPath: tempDb(t), env: FLOWS_ENV, wrap: [...NOBODY, '--'] });
  const status = await np.ok<Status>('GET', '/api/flows/status');
  assert.equal(status.enabled, true);
  assert.equal(status.parts.hosts.on, false);
  assert.match(status.parts.hosts.reason, /CAP_NET_ADMIN/);
  const hosts = await np.request('GET', '/api/hosts');
  assert.equal(hosts.status, 409);
  assert.equal((hosts.body as { code: string }).code, 'HOSTS_OFF');
  assert.equal((await np.request('GET', '/api/interfaces')).status, 200, 'everything else runs');
  assert.doesNotMatch(await lab.tables(h), /netpulse/);
  await np.stop();
});
