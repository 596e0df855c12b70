/**
 * Net-Pulse's flows table in nftables, `inet netpulse_flows`: its own table (never another's, never a
 * flushed ruleset), replaced atomically, deleted on stop. Two jobs, each only when needed:
 * - keep conntrack on (`ct state new counter`) when no other rule in the namespace uses conntrack;
 * - copy to NFLOG only what names a flow: DNS answers, and the first ≤6 packets of each TCP/443 and UDP/443
 *   flow not yet labelled (a labelled flow carries Net-Pulse's byte in its ct mark).
 * buildFlowsRuleset is pure (the plan); applyFlowsTable/removeFlowsTable spawn `nft -f -`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CT_MARK_MASK } from '../shared/traffic-categories.js';

const execFileAsync = promisify(execFile);

export const FLOWS_TABLE = 'netpulse_flows';
/** Packets per 443 flow copied to userspace: a ClientHello split over a few segments, or QUIC's first Initials. */
export const CLASSIFY_PACKETS_PER_FLOW = 6;

export interface FlowsTablePlan {
  /** Add the rule that keeps conntrack on. */
  activateConntrack: boolean;
  /** NFLOG group for classification, or null when classification is off. */
  nflogGroup: number | null;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** The nft script (null when the plan needs no table at all). */
export function buildFlowsRuleset(plan: FlowsTablePlan): string | null {
  if (!plan.activateConntrack && plan.nflogGroup === null) return null;
  const lines = [`table inet ${FLOWS_TABLE} {`];
  if (plan.activateConntrack) {
    lines.push(
      '  chain conntrack_on {',
      '    type filter hook prerouting priority 0; policy accept;',
      '    ct state new counter comment "Net-Pulse flows: keeps conntrack on in this namespace"',
      '  }',
      '  chain conntrack_on_local {',
      '    type filter hook output priority 0; policy accept;',
      '    ct state new counter',
      '  }',
    );
  }
  if (plan.nflogGroup !== null) {
    const g = plan.nflogGroup;
    const n = CLASSIFY_PACKETS_PER_FLOW;
    lines.push(
      // Priority 0: after DNAT (-100), before SNAT (100), so a packet's addresses are its flow's original tuple.
      '  chain classify {',
      '    type filter hook postrouting priority 0; policy accept;',
      `    udp sport 53 log group ${g}`,
      `    ct mark & ${hex(CT_MARK_MASK)} != 0 return`,
      `    tcp dport 443 ct original packets <= ${n} log group ${g}`,
      `    udp dport 443 ct original packets <= ${n} log group ${g}`,
      '  }',
      '  chain classify_local {',
      '    type filter hook input priority 0; policy accept;',
      `    udp sport 53 log group ${g}`,
      '  }',
    );
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

async function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 15_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`nft ${args.join(' ')}: ${String(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Whether `nft` runs here (null) or why not. */
export async function nftMissingReason(): Promise<string | null> {
  try {
    await execFileAsync('nft', ['--version'], { timeout: 10_000 });
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'nft (the nftables package) is not installed' : `nft does not run: ${(err as Error).message}`;
  }
}

/** True when some rule outside Net-Pulse's tables uses conntrack (ct expressions or NAT), so conntrack is on anyway. */
export function rulesetUsesConntrack(rulesetText: string): boolean {
  const others = rulesetText.split(/^table /m).filter((t) => t.trim() !== '' && !/^\w+ netpulse/.test(t));
  return others.some((t) => /\bct (state|status|mark|direction|original|reply|zone|label|helper|count|expiration|id|event|bytes|packets)\b|\b(masquerade|snat|dnat|redirect)\b|type nat hook/.test(t));
}

export async function listRuleset(): Promise<string> {
  return nft(['list', 'ruleset']);
}

/** Replaces the table atomically (one transaction: create-if-missing, delete, create). */
export async function applyFlowsTable(script: string): Promise<void> {
  await nft(['-f', '-'], `table inet ${FLOWS_TABLE} {}\ndelete table inet ${FLOWS_TABLE}\n${script}`);
}

/** Deletes the table if it is there (a crashed run's, or ours on stop). */
export async function removeFlowsTable(): Promise<void> {
  await nft(['-f', '-'], `table inet ${FLOWS_TABLE} {}\ndelete table inet ${FLOWS_TABLE}\n`);
}
