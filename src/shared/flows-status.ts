/**
 * GET /api/flows/status: which part of the flows feature (issue #9) is on, and why a part is off. Shared with
 * the dashboard; no node:* here. The server answers `flowsOffStatus()` without loading the feature.
 */
export type FlowsPartName = 'hosts' | 'flows' | 'classify';

export interface FlowsPart {
  on: boolean;
  /** Why it is off (or how it runs when on), for people. */
  reason: string;
}

export interface FlowsStatus {
  /** NETPULSE_FLOWS=on. */
  enabled: boolean;
  /** router: forwarding is on, LAN clients are counted; host: remote peers are; null when not probed. */
  mode: 'router' | 'host' | null;
  parts: Record<FlowsPartName, FlowsPart>;
  /** What the probe found at start (absent while the feature is off). */
  capabilities?: {
    net_admin: boolean;
    nft: 'libnftables' | 'nft' | null;
    forwarding: boolean;
  };
}

export function flowsOffStatus(): FlowsStatus {
  const reason = 'NETPULSE_FLOWS is off (set NETPULSE_FLOWS=on; it needs CAP_NET_ADMIN and nftables)';
  return { enabled: false, mode: null, parts: { hosts: { on: false, reason }, flows: { on: false, reason }, classify: { on: false, reason } } };
}

/** One row of GET /api/hosts; rx = what the host received. Counts are numbers (doubles are exact to 2^53). */
export interface ApiHost {
  id: string;
  addresses: string[];
  mac: string | null;
  name: string | null;
  name_source: string | null;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
}

export interface ApiHostsResponse {
  mode: 'router' | 'host';
  data: ApiHost[];
}
