/**
 * Run inside a network namespace a test made (ip netns exec … node --import tsx this-file): creates the
 * netpulse table, adds a chain of its own that counts traffic into the sets, sends UDP to the namespace's
 * own addresses (given in NP9C_V4 / NP9C_V6, comma-separated, already on lo), then prints one JSON line:
 * the netlink reader's elements (read twice, then once after the table is deleted), parseTableListing(libnftables)'s
 * elements and the raw NEWSETELEM messages (hex, read through the npm `netlink` socket, independent of the reader).
 */
import dgram from 'node:dgram';
import { Protocol, createNetlink } from 'netlink';
import { loadConfig } from '../../src/config/config.js';
import { NFT_MSG_GETSETELEM, NFT_MSG_NEWSETELEM, NLM_F_DUMP, getSetElemRequest, nftMsgType, openNftSetReader } from '../../src/flows/nft-netlink.js';
import { DELETE_TABLE, LIST_TABLE, SET_NAMES, buildTablePlan, parseTableListing } from '../../src/flows/nft-plan.js';
import { openLibnftables } from '../../src/flows/nft-seam.js';

const v4 = (process.env.NP9C_V4 ?? '').split(',').filter(Boolean);
const v6 = (process.env.NP9C_V6 ?? '').split(',').filter(Boolean);
const lib = openLibnftables().runner!;
lib.run(buildTablePlan('host', loadConfig({}).flows.lanCidrs).script);
// The plan skips lo; this chain counts loopback datagrams by destination (one timeout element too).
lib.run(
  [
    'add chain inet netpulse np9c { type filter hook output priority 90; policy accept; }',
    'add rule inet netpulse np9c udp dport 9 update @rx4 { ip daddr counter }',
    'add rule inet netpulse np9c udp dport 9 update @rx6 { ip6 daddr counter }',
    'add rule inet netpulse np9c udp dport 9 update @tx4 { ip saddr timeout 1h counter }',
    '',
  ].join('\n'),
);
async function send(addr: string, times: number, size: number): Promise<void> {
  const s = dgram.createSocket(addr.includes(':') ? 'udp6' : 'udp4');
  for (let i = 0; i < times; i++) await new Promise<void>((res, rej) => s.send(Buffer.alloc(size), 9, addr, (e) => (e ? rej(e) : res())));
  s.close();
}
let n = 1;
for (const a of [...v4, ...v6]) await send(a, n, 10 * n++);

const reader = openNftSetReader();
const viaNetlink = await reader.read();
const listing = parseTableListing(lib.run(LIST_TABLE));
const socket = createNetlink(Protocol.NETFILTER, {} as Parameters<typeof createNetlink>[1]);
const raw: Record<string, string[]> = {};
for (const set of SET_NAMES) {
  const [msgs] = await socket.request(nftMsgType(NFT_MSG_GETSETELEM), getSetElemRequest(set), { flags: NLM_F_DUMP });
  raw[set] = msgs.filter((m) => m.type === nftMsgType(NFT_MSG_NEWSETELEM)).map((m) => Buffer.from(m.data).toString('hex'));
}
socket.close();
// Read again, so the second answer comes over the same socket; then once more after the table is deleted.
const again = await reader.read();
lib.run(DELETE_TABLE);
const afterDelete = await reader.read();
reader.close();
lib.close();
const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
process.stdout.write(`${JSON.stringify({ netlink: viaNetlink, again, afterDelete, libnftables: listing && { handle: listing.handle, elements: listing.elements }, raw }, big)}\n`);
