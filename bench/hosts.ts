/**
 * Issue #9: the per-host read with 250 hosts (both directions: 500 set elements) — one listing of the
 * netpulse table through libnftables (and through a spawned `nft -j`), its parse, and the delta maths — and
 * the RSS the feature adds; and the same read straight over netlink (src/flows/nft-netlink.ts), as polls do. Runs as root in two namespaces it creates (np9h-bench-<pid>-a/b) and deletes:
 *
 *   npx tsx bench/hosts.ts
 */
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../src/config/config.js';

const HOSTS = 250;
const ROUNDS = 200;
const nsA = `np9h-bench-${process.pid}-a`;
const nsB = `np9h-bench-${process.pid}-b`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (process.env.NP9H_BENCH_INSIDE !== '1') {
  if (process.getuid?.() !== 0) {
    console.error('bench/hosts.ts needs root (it creates two network namespaces)');
    process.exit(1);
  }
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('-n', nsA, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', '10.77.255.254/16', 'dev', 'eth0');
    const batch = Array.from({ length: HOSTS }, (_, i) => `addr add 10.77.${Math.floor(i / 200)}.${(i % 200) + 1}/16 dev eth0`).join('\n');
    execFileSync('ip', ['-n', nsB, '-batch', '-'], { input: batch });
    execFileSync('ip', ['netns', 'exec', nsA, 'sysctl', '-q', '-w', 'net.ipv4.icmp_ratemask=0']);
    for (const ns of [nsA, nsB]) ip('-n', ns, 'link', 'set', 'eth0', 'up'), ip('-n', ns, 'link', 'set', 'lo', 'up');
    execFileSync('ip', ['netns', 'exec', nsA, process.execPath, '--import', 'tsx', 'bench/hosts.ts'], { stdio: 'inherit', env: { ...process.env, NP9H_BENCH_INSIDE: '1', NP9H_PEER_NS: nsB } });
  } finally {
    for (const ns of [nsA, nsB]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  process.exit(0);
}

// Inside namespace A.
const rssBefore = process.memoryUsage().rss;
const { openLibnftables, spawnNftRunner } = await import('../src/flows/nft-seam.js');
const { buildTablePlan, parseTableListing, LIST_TABLE, DELETE_TABLE } = await import('../src/flows/nft-plan.js');
const { computeHostDeltas } = await import('../src/flows/host-deltas.js');
const lib = openLibnftables().runner!;
lib.run(buildTablePlan('host', loadConfig({}).flows.lanCidrs).script);
// One datagram from each peer address: input fills tx4, our ICMP answers fill rx4.
const SEND = `const d=require('node:dgram');let left=${HOSTS};for(let i=0;i<${HOSTS};i++){const s=d.createSocket('udp4');s.bind(0,'10.77.'+Math.floor(i/200)+'.'+((i%200)+1),()=>s.send(Buffer.alloc(100),9,'10.77.255.254',()=>{s.close();if(--left===0)process.exit(0)}))}`;
execFileSync('ip', ['netns', 'exec', process.env.NP9H_PEER_NS!, process.execPath, '-e', SEND], { stdio: 'inherit' });
const deadline = Date.now() + 10_000;
let listing = parseTableListing(lib.run(LIST_TABLE))!;
while (listing.elements.length < 2 * HOSTS && Date.now() < deadline) listing = parseTableListing(lib.run(LIST_TABLE))!;

const timeRead = (run: () => void, rounds: number) => {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
};
const timeReadAsync = async (run: () => Promise<void>, rounds: number) => {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
};
let state = computeHostDeltas({ timeMs: 0, bootId: 'b', interfaces: new Map() }, listing.elements, 1000, 'b').next;
let tick = 1000;
const libMs = timeRead(() => void parseTableListing(lib.run(LIST_TABLE)), ROUNDS);
const listOnlyMs = timeRead(() => void lib.run(LIST_TABLE), ROUNDS);
const text = lib.run(LIST_TABLE);
const parseOnlyMs = timeRead(() => void parseTableListing(text), ROUNDS);

const fullMs = timeRead(() => {
  const l = parseTableListing(lib.run(LIST_TABLE))!;
  state = computeHostDeltas(state, l.elements, (tick += 1000), 'b').next;
}, ROUNDS);
const { openNftSetReader } = await import('../src/flows/nft-netlink.js');
const reader = openNftSetReader();
const viaNetlink = (await reader.read())!;
const listedNow = parseTableListing(lib.run(LIST_TABLE))!.elements.length;
if (viaNetlink.elements.length !== listedNow) throw new Error(`netlink read ${viaNetlink.elements.length} elements, libnftables ${listedNow}`);
const netlinkMs = await timeReadAsync(async () => void (await reader.read()), ROUNDS);
const netlinkDeltasMs = await timeReadAsync(async () => {
  const r = (await reader.read())!;
  state = computeHostDeltas(state, r.elements, (tick += 1000), 'b').next;
}, ROUNDS);
reader.close();
// The same five requests without decoding the elements: what the kernel's dumps and the system calls cost alone.
const { openSyncNetlink } = await import('../src/shared/netlink-sync.js');
const nl = await import('../src/flows/nft-netlink.js');
const { SET_NAMES } = await import('../src/flows/nft-plan.js');
const raw = openSyncNetlink(12);
const netlinkRequestsMs = await timeReadAsync(async () => {
  for (const set of SET_NAMES) raw.request(nl.nftMsgType(nl.NFT_MSG_GETSETELEM), nl.NLM_F_DUMP, nl.getSetElemRequest(set));
  raw.request(nl.nftMsgType(nl.NFT_MSG_GETTABLE), 0, nl.getTableRequest());
}, ROUNDS);
raw.close();
const spawn = spawnNftRunner();
const spawnMs = timeRead(() => void parseTableListing(spawn.run(LIST_TABLE)), 30);
globalThis.gc?.();
const rssAfter = process.memoryUsage().rss;
lib.run(DELETE_TABLE);
lib.close();
console.log(
  JSON.stringify(
    {
      hosts: HOSTS,
      elements: listing.elements.length,
      listing_json_bytes: text.length,
      libnftables_list_ms: +listOnlyMs.toFixed(3),
      parse_ms: +parseOnlyMs.toFixed(3),
      libnftables_list_parse_ms: +libMs.toFixed(3),
      libnftables_list_parse_deltas_ms: +fullMs.toFixed(3),
      netlink_elements: viaNetlink.elements.length,
      netlink_requests_only_ms: +netlinkRequestsMs.toFixed(3),
      netlink_read_parse_ms: +netlinkMs.toFixed(3),
      netlink_read_parse_deltas_ms: +netlinkDeltasMs.toFixed(3),
      spawned_nft_list_parse_ms: +spawnMs.toFixed(3),
      rss_added_mib: +((rssAfter - rssBefore) / 1048576).toFixed(1),
      load_average_1m: +(await import('node:os')).loadavg()[0]!.toFixed(1),
    },
    null,
    2,
  ),
);
