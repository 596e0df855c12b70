/**
 * What the kernel and our privileges allow, found out at start: CAP_NET_ADMIN in the effective set,
 * libnftables loadable through koffi (else the `nft` program), and forwarding (router mode) or not (host mode).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { nftBinaryWorks, openLibnftables, spawnNftRunner, type NftRunner } from './nft-seam.js';

const CAP_NET_ADMIN = 12n;

export interface FlowsProbe {
  netAdmin: boolean;
  runner: NftRunner | null;
  /** Why there is no runner (nftables missing), or null. */
  nftReason: string | null;
  /** Why libnftables is not used (the fallback spawns nft), or null. */
  libReason: string | null;
  forwarding: boolean;
}

/** CapEff of a /proc/<pid>/status text includes CAP_NET_ADMIN. */
export function hasNetAdmin(statusText: string): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/im.exec(statusText);
  if (m === null) return false;
  return ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

function readFlag(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export function probeFlows(procRoot: string): FlowsProbe {
  let status = '';
  try {
    status = readFileSync(path.join(procRoot, 'self', 'status'), 'utf8');
  } catch {
    // no /proc: no capability known
  }
  const netAdmin = hasNetAdmin(status);
  const forwarding = readFlag(path.join(procRoot, 'sys', 'net', 'ipv4', 'ip_forward')) || readFlag(path.join(procRoot, 'sys', 'net', 'ipv6', 'conf', 'all', 'forwarding'));
  const lib = openLibnftables();
  if (lib.runner !== null) return { netAdmin, runner: lib.runner, nftReason: null, libReason: null, forwarding };
  if (nftBinaryWorks()) return { netAdmin, runner: spawnNftRunner(), nftReason: null, libReason: lib.reason, forwarding };
  return { netAdmin, runner: null, nftReason: `nftables is not installed (${lib.reason}; no nft program either)`, libReason: lib.reason, forwarding };
}
