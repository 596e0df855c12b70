import type { InterfaceKind } from './counter-source.js';

/**
 * Deciding an interface's kind from what the OS says about it. Pure: the sources gather the facts
 * (from /sys on Linux, systeminformation elsewhere) and this decides, so the table test covers it all.
 */

/** What a source knows about one interface that matters for its kind. */
export interface InterfaceFacts {
  name: string;
  /** ARPHRD_* link type (/sys/class/net/<if>/type): 1 ether, 772 loopback, 65534 none…; null when unknown. */
  linkType: number | null;
  /** IFF_LOOPBACK is set, or the OS calls the interface internal. */
  isLoopback: boolean;
  /** /sys/class/net/<if>/wireless or phy80211 exists, or the OS calls it wireless. */
  isWireless: boolean;
  /** /sys/class/net/<if>/bridge exists. */
  isBridge: boolean;
  /** /sys/class/net/<if>/tun_flags exists: a tun or tap device. */
  isTunTap: boolean;
  /** Not backed by hardware (/sys/devices/virtual/net/<if> exists). */
  isVirtual: boolean;
}

export const ARPHRD = {
  ETHER: 1,
  PPP: 512,
  TUNNEL: 768,
  TUNNEL6: 769,
  LOOPBACK: 772,
  SIT: 776,
  IPGRE: 778,
  IEEE80211: 801,
  IEEE80211_PRISM: 802,
  IEEE80211_RADIOTAP: 803,
  IP6GRE: 823,
  NONE: 65534,
} as const;

const TUNNEL_LINK_TYPES: ReadonlySet<number> = new Set([
  ARPHRD.PPP,
  ARPHRD.TUNNEL,
  ARPHRD.TUNNEL6,
  ARPHRD.SIT,
  ARPHRD.IPGRE,
  ARPHRD.IP6GRE,
  ARPHRD.NONE,
]);

const WIRELESS_LINK_TYPES: ReadonlySet<number> = new Set([
  ARPHRD.IEEE80211,
  ARPHRD.IEEE80211_PRISM,
  ARPHRD.IEEE80211_RADIOTAP,
]);

const LOOPBACK_NAME = /^lo\d*$/;

/**
 * Plumbing of containers and VMs: their traffic also crosses the host's uplink, so it is not counted
 * by default. Checked before bridge and tunnel: docker0 is a bridge, libvirt's vnetN are taps.
 */
const CONTAINER_NAME =
  /^(veth|docker|br-[0-9a-f]{12}$|cni|podman|flannel|cali|vxlan\.calico$|cilium_|lxc|lxdbr|incusbr|virbr|vnet\d+$|kube-|weave|cbr0$)/;

/** VPNs and IP tunnels (WireGuard, tun/tap, Tailscale, ZeroTier, GRE, SIT, PPP, macOS utun/gif/stf). */
const TUNNEL_NAME =
  /^(tun|tap|wg|tailscale|zt|utun|ppp|gre|gretap|erspan|ip6gre|ip6tnl|ip_vti|ip6_vti|vti|sit|ipsec|nebula|gif\d|stf\d)/;

const BRIDGE_NAME = /^bridge\d+$/;

export function classifyInterface(facts: InterfaceFacts): InterfaceKind {
  const { name, linkType } = facts;
  if (facts.isLoopback || linkType === ARPHRD.LOOPBACK || LOOPBACK_NAME.test(name)) return 'loopback';
  if (CONTAINER_NAME.test(name)) return 'container';
  if (facts.isWireless || (linkType !== null && WIRELESS_LINK_TYPES.has(linkType))) return 'wireless';
  if (facts.isTunTap || (linkType !== null && TUNNEL_LINK_TYPES.has(linkType)) || TUNNEL_NAME.test(name)) {
    return 'tunnel';
  }
  if (facts.isBridge || BRIDGE_NAME.test(name)) return 'bridge';
  if (linkType === ARPHRD.ETHER && !facts.isVirtual) return 'ethernet';
  if (facts.isVirtual) return 'virtual';
  return 'other';
}
