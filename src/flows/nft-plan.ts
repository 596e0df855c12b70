/**
 * The nft table Net-Pulse counts hosts in, as text for `nft -f` (one transaction), and the parse of its JSON
 * listing back into counters. Pure: no kernel here (the seam is nft-seam.ts).
 *
 * Four dynamic sets, a 64-bit counter on each element: rx4/rx6 count what a host received, tx4/tx6 what it sent.
 * - router mode (forwarding on): the forward hook, keyed on the LAN client's address (LAN = NETPULSE_LAN_CIDRS);
 * - host mode: the input hook keys tx on the remote sender, the output hook keys rx on the remote receiver
 *   (loopback excluded).
 * Elements time out after a day without traffic; `update` refreshes the timeout with every packet.
 */
import { createHash } from 'node:crypto';
import type { Cidr } from '../config/cidr.js';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'netpulse';
export const SET_NAMES = ['rx4', 'tx4', 'rx6', 'tx6'] as const;
export type SetName = (typeof SET_NAMES)[number];
export type FlowsMode = 'router' | 'host';

/** An idle element leaves its set after this long; a host that comes back later counts from zero. */
export const ELEMENT_TIMEOUT_SEC = 86_400;
/** Addresses a set holds at most; past it new hosts are not counted (the status says so). */
export const SET_SIZE = 65_536;
/** After the usual filter chains (priority 0): a packet another table drops is not counted as crossed. */
const HOOK_PRIORITY = 100;

export interface TablePlan {
  mode: FlowsMode;
  /** The whole table, created (or replaced) in one nft transaction. */
  script: string;
}

function setDecl(name: SetName): string {
  const type = name.endsWith('4') ? 'ipv4_addr' : 'ipv6_addr';
  return `  set ${name} { type ${type}; size ${SET_SIZE}; flags dynamic,timeout; timeout ${ELEMENT_TIMEOUT_SEC}s; }`;
}

function cidrList(cidrs: readonly Cidr[]): string {
  return `{ ${cidrs.map((c) => c.text).join(', ')} }`;
}

/** The table for a mode. The leading `table …; delete table …` makes creating and replacing one atomic step. */
export function buildTablePlan(mode: FlowsMode, lanCidrs: readonly Cidr[]): TablePlan {
  const v4 = lanCidrs.filter((c) => c.family === 4);
  const v6 = lanCidrs.filter((c) => c.family === 6);
  const lines: string[] = [];
  if (mode === 'router') {
    lines.push(`  chain forward {`, `    type filter hook forward priority ${HOOK_PRIORITY}; policy accept;`);
    if (v4.length > 0) {
      lines.push(`    ip daddr ${cidrList(v4)} update @rx4 { ip daddr counter }`);
      lines.push(`    ip saddr ${cidrList(v4)} update @tx4 { ip saddr counter }`);
    }
    if (v6.length > 0) {
      lines.push(`    ip6 daddr ${cidrList(v6)} update @rx6 { ip6 daddr counter }`);
      lines.push(`    ip6 saddr ${cidrList(v6)} update @tx6 { ip6 saddr counter }`);
    }
    lines.push(`  }`);
  } else {
    lines.push(
      `  chain input {`,
      `    type filter hook input priority ${HOOK_PRIORITY}; policy accept;`,
      `    iif "lo" return`,
      `    update @tx4 { ip saddr counter }`,
      `    update @tx6 { ip6 saddr counter }`,
      `  }`,
      `  chain output {`,
      `    type filter hook output priority ${HOOK_PRIORITY}; policy accept;`,
      `    oif "lo" return`,
      `    update @rx4 { ip daddr counter }`,
      `    update @rx6 { ip6 daddr counter }`,
      `  }`,
    );
  }
  const script = [
    // Declaring the table first makes the delete succeed when it does not exist yet: one transaction either way.
    `table ${TABLE_FAMILY} ${TABLE_NAME} {}`,
    `delete table ${TABLE_FAMILY} ${TABLE_NAME}`,
    `table ${TABLE_FAMILY} ${TABLE_NAME} {`,
    ...SET_NAMES.map(setDecl),
    ...lines,
    `}`,
    '',
  ].join('\n');
  return { mode, script };
}

export const DELETE_TABLE = `delete table ${TABLE_FAMILY} ${TABLE_NAME}\n`;
export const LIST_TABLE = `list table ${TABLE_FAMILY} ${TABLE_NAME}`;

export interface SetElement {
  set: SetName;
  /** Canonical address text as nft prints it. */
  address: string;
  bytes: bigint;
  packets: bigint;
  /** Seconds until the element times out, when nft says. */
  expiresSec: number | null;
}

export interface TableListing {
  /** The kernel's handle of the table: a re-created table gets a new one (like an interface's ifindex). */
  handle: number;
  /** A hash of the sets, chains and rules without handles and elements: "unchanged" means the same hash. */
  fingerprint: string;
  elements: SetElement[];
}

type Json = Record<string, unknown>;

/** Exact counters: nft writes them as JSON integers, which JSON.parse would round past 2^53. */
function parseExactJson(text: string): unknown {
  // Counter values are the only integers that can grow that large; quote long ones before parsing.
  return JSON.parse(text.replace(/("(?:bytes|packets)":\s*)(\d{16,})/g, '$1"$2"'));
}

/** The object without its handles (anywhere) and, at the top (a set's), without its elements. */
function stripVolatile(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => stripVolatile(v, false));
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (k === 'handle' || (top && k === 'elem')) continue;
    out[k] = stripVolatile(v, false);
  }
  return out;
}

/** Reads `nft -j list table inet netpulse`; null when the text holds no such table. */
export function parseTableListing(text: string): TableListing | null {
  const root = parseExactJson(text) as { nftables?: Json[] };
  const items = root.nftables ?? [];
  let handle: number | null = null;
  const shape: unknown[] = [];
  const elements: SetElement[] = [];
  for (const item of items) {
    const table = item.table as Json | undefined;
    if (table && table.name === TABLE_NAME && table.family === TABLE_FAMILY) handle = Number(table.handle);
    const set = item.set as Json | undefined;
    if (set && set.table === TABLE_NAME) {
      shape.push({ set: stripVolatile(set) });
      const name = set.name as string;
      if (!(SET_NAMES as readonly string[]).includes(name)) continue;
      for (const e of (set.elem as Json[] | undefined) ?? []) {
        const elem = (e.elem as Json | undefined) ?? e;
        const counter = elem.counter as { bytes: number | string; packets: number | string } | undefined;
        const val = elem.val;
        if (typeof val !== 'string' || counter === undefined) continue;
        elements.push({
          set: name as SetName,
          address: val,
          bytes: BigInt(counter.bytes),
          packets: BigInt(counter.packets),
          expiresSec: typeof elem.expires === 'number' ? elem.expires : null,
        });
      }
    }
    const chain = item.chain as Json | undefined;
    if (chain && chain.table === TABLE_NAME) shape.push({ chain: stripVolatile(chain) });
    const rule = item.rule as Json | undefined;
    if (rule && rule.table === TABLE_NAME) shape.push({ rule: stripVolatile(rule) });
  }
  if (handle === null) return null;
  const fingerprint = createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);
  return { handle, fingerprint, elements };
}
