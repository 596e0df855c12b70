/**
 * The QoS planner (issue #10): config + probed capabilities + what Net-Pulse already owns on the machine →
 * the exact text of one `ip -batch -`, one `tc -batch -` and one `nft -f -` script. Pure: no kernel, no
 * clock; the dry run prints exactly this and the applier runs exactly this.
 *
 * What it builds:
 * - upload: an HTB tree on the interface's egress (root handle 4e50:, classes 4e50:10 … 4e50:50 in
 *   priority order, leaves cake → fq_codel → pfifo by what the kernel has);
 * - download (when download_kbit is set): an ingress qdisc on the interface whose match-all u32 filter
 *   redirects every packet to Net-Pulse's own ifb (`npifb-<ifname>`, 15 characters at most), which carries
 *   the same tree;
 * - classification: upload in nftables (`meta priority set 4e50:NN`, which HTB takes as the class without
 *   a tc filter); download with u32 filters on the ifb, because redirected packets reach the ifb before
 *   netfilter sees them;
 * - DSCP marking, policing (`limit rate over … drop`) and the fallback throttle in the table
 *   `inet netpulse_qos`.
 * Every script deletes what Net-Pulse owns before it adds (delete-then-add), and names only its own things.
 */
import { CT_MARK_MASK, categoryMark } from '../shared/traffic-categories.js';
import { dscpValue, parseHost, resolveClass, type QosClass, type QosClassId, type QosConfig, type QosRule } from './qos-config.js';

export const QOS_TABLE = 'netpulse_qos';
/** "NP": the major number of every qdisc and class Net-Pulse adds. */
export const QOS_MAJOR = 0x4e50;
export const QOS_ROOT_HANDLE = '4e50:';
export const IFB_PREFIX = 'npifb-';

export const CAPABILITY_NAMES = ['htb', 'ifb', 'cake', 'fq_codel', 'dscp', 'police', 'connmark'] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];
export interface Capability {
  available: boolean;
  /** Why not (the kernel's or the tool's own words), null when available. */
  reason: string | null;
}
export type QosCapabilities = Record<CapabilityName, Capability>;

/** What Net-Pulse already owns on the machine (found by the applier before it plans). */
export interface QosPresent {
  /** The interface's root qdisc is Net-Pulse's (handle 4e50:). */
  rootOurs: boolean;
  /** The interface's ingress qdisc was added by Net-Pulse (per the stored applied state). */
  ingressOurs: boolean;
  /** Net-Pulse's ifb for this interface exists. */
  ifbExists: boolean;
}

export type LeafKind = 'cake' | 'fq_codel' | 'pfifo';

export interface PlannedClass {
  id: QosClassId;
  name: string;
  /** "4e50:10" */
  classid: string;
  prio: number;
  upload: { rate_kbit: number; ceil_kbit: number };
  download: { rate_kbit: number; ceil_kbit: number } | null;
}

export interface QosPlan {
  interface: string;
  ifb: string | null;
  leaf: LeafKind;
  classes: PlannedClass[];
  /** For `ip -batch -` (the ifb); empty when nothing to do. */
  ipBatch: string;
  /** For `tc -batch -`. */
  tcBatch: string;
  /** For `nft -f -`: one transaction. */
  nftScript: string;
  /** What the plan could not do on this kernel, in words. */
  notes: string[];
}

export interface RemovePlan {
  ipBatch: string;
  tcBatch: string;
  nftScript: string;
}

export interface PlanOptions {
  /** The fallback throttle is in force (the month's projection passed the cap). */
  throttleActive: boolean;
}

/** Net-Pulse's ifb for an interface: `npifb-` + the name, cut to the kernel's 15 characters. */
export function ifbName(interfaceName: string): string {
  return (IFB_PREFIX + interfaceName).slice(0, 15);
}

export function classMinor(index: number): number {
  return 0x10 * (index + 1);
}

export function classIdOf(index: number): string {
  return `4e50:${classMinor(index).toString(16)}`;
}

/** The u32 handle value of a class id (what skb->priority must hold). */
export function classHandle(index: number): number {
  return ((QOS_MAJOR << 16) | classMinor(index)) >>> 0;
}

function leafKind(caps: QosCapabilities): LeafKind {
  if (caps.cake.available) return 'cake';
  if (caps.fq_codel.available) return 'fq_codel';
  return 'pfifo';
}

const LEAF_TEXT: Record<LeafKind, string> = { cake: 'cake besteffort', fq_codel: 'fq_codel', pfifo: 'pfifo limit 100' };

/** HTB's quantum for a rate: rate/10 in bytes, kept between one MTU frame and 200 kB (HTB warns outside). */
export function quantumBytes(rateKbit: number): number {
  return Math.min(200_000, Math.max(1514, Math.floor((rateKbit * 1000) / 8 / 10)));
}

const q = (name: string) => `"${name}"`;

function classRates(c: QosClass, totalKbit: number, throttleKbit: number | null): { rate_kbit: number; ceil_kbit: number } {
  let rate = Math.max(8, Math.floor((totalKbit * c.share_percent) / 100));
  let ceil = Math.max(rate, Math.floor((totalKbit * c.ceil_percent) / 100));
  if (throttleKbit !== null) {
    ceil = Math.min(ceil, throttleKbit);
    rate = Math.min(rate, ceil);
  }
  return { rate_kbit: rate, ceil_kbit: ceil };
}

function htbTree(dev: string, totalKbit: number, classes: PlannedClass[], dir: 'upload' | 'download', leaf: LeafKind, defaultIndex: number): string[] {
  const lines = [`qdisc add dev ${dev} root handle ${QOS_ROOT_HANDLE} htb default ${classMinor(defaultIndex).toString(16)}`];
  lines.push(`class add dev ${dev} parent ${QOS_ROOT_HANDLE} classid 4e50:1 htb rate ${totalKbit}kbit ceil ${totalKbit}kbit quantum ${quantumBytes(totalKbit)}`);
  classes.forEach((c, i) => {
    const r = c[dir]!;
    lines.push(`class add dev ${dev} parent 4e50:1 classid ${c.classid} htb rate ${r.rate_kbit}kbit ceil ${r.ceil_kbit}kbit prio ${c.prio} quantum ${quantumBytes(r.rate_kbit)}`);
    lines.push(`qdisc add dev ${dev} parent ${c.classid} handle ${(QOS_MAJOR + 1 + i).toString(16)}: ${LEAF_TEXT[leaf]}`);
  });
  return lines;
}

/** nft match fragments of one rule for upload: one list per (family, address direction) it expands to. */
function nftMatches(rule: QosRule): string[] {
  const families: (4 | 6 | null)[] = [];
  const hosts = (rule.hosts ?? []).map((h) => parseHost(h)!);
  if (hosts.length > 0) {
    for (const f of [4, 6] as const) if (hosts.some((h) => h.family === f)) families.push(f);
  } else if (rule.dscp !== undefined) {
    families.push(4, 6);
  } else {
    families.push(null);
  }
  const out: string[] = [];
  for (const family of families) {
    const ipKw = family === 6 ? 'ip6' : 'ip';
    const common: string[] = [];
    if (rule.dscp !== undefined) common.push(`${ipKw} dscp ${dscpValue(rule.dscp)}`);
    if (rule.protocol === 'icmp') common.push(family === 6 ? 'meta l4proto ipv6-icmp' : family === 4 ? 'meta l4proto icmp' : 'meta l4proto { icmp, ipv6-icmp }');
    else if (rule.protocol !== undefined) common.push(`meta l4proto ${rule.protocol}`);
    if (rule.ports !== undefined) {
      if (rule.protocol === undefined) common.push('meta l4proto { tcp, udp }');
      common.push(`th dport { ${rule.ports.join(', ')} }`);
    }
    if (rule.category !== undefined) common.push(`ct mark and 0x${CT_MARK_MASK.toString(16)} == 0x${categoryMark(rule.category).toString(16).padStart(8, '0')}`);
    const ofFamily = hosts.filter((h) => h.family === family).map((h) => h.text);
    if (ofFamily.length === 0) out.push(common.join(' '));
    else for (const dir of ['saddr', 'daddr']) out.push([`${ipKw} ${dir} { ${ofFamily.join(', ')} }`, ...common].join(' '));
  }
  return out;
}

/** u32 selector lists of one rule for download on the ifb (IPv4), or null with the reason it cannot be matched there. */
function u32Matches(rule: QosRule, caps: QosCapabilities): { matches: string[][] } | { skip: string } {
  const hosts = (rule.hosts ?? []).map((h) => parseHost(h)!);
  if (hosts.length > 0 && hosts.every((h) => h.family === 6)) return { skip: 'IPv6 hosts are matched on upload only' };
  if (rule.category !== undefined && !caps.connmark.available) return { skip: 'the conntrack category cannot be read before the ifb without the connmark action' };
  const common: string[] = [];
  if (rule.dscp !== undefined) common.push(`match ip dsfield 0x${((dscpValue(rule.dscp)! << 2) & 0xff).toString(16).padStart(2, '0')} 0xfc`);
  const protoNumber = { tcp: 6, udp: 17, icmp: 1 } as const;
  if (rule.protocol !== undefined) common.push(`match ip protocol ${protoNumber[rule.protocol]} 0xff`);
  if (rule.category !== undefined) common.push(`match mark 0x${categoryMark(rule.category).toString(16).padStart(8, '0')} 0x${CT_MARK_MASK.toString(16)}`);
  const portSets = rule.ports === undefined ? [[]] : rule.ports.map((p) => [`match ip sport ${p} 0xffff`]);
  const hostSets = hosts.length === 0 ? [[]] : hosts.filter((h) => h.family === 4).flatMap((h) => [[`match ip src ${h.text}`], [`match ip dst ${h.text}`]]);
  const matches: string[][] = [];
  for (const hs of hostSets) for (const ps of portSets) matches.push([...hs, ...ps, ...common]);
  return { matches };
}

function bytesPerSecond(kbit: number): number {
  return Math.floor((kbit * 1000) / 8);
}

function nftLimit(kbit: number, burstKbyte: number): string {
  return `limit rate over ${bytesPerSecond(kbit)} bytes/second burst ${burstKbyte * 1024} bytes drop`;
}

function hostMatch(text: string, dir: 'saddr' | 'daddr'): string {
  const h = parseHost(text)!;
  return `${h.family === 6 ? 'ip6' : 'ip'} ${dir} ${h.text}`;
}

/** The scripts that put the config on the machine (deleting Net-Pulse's own previous tree first). */
export function planApply(config: QosConfig, caps: QosCapabilities, present: QosPresent, options: PlanOptions): QosPlan {
  const dev = config.interface;
  const notes: string[] = [];
  const leaf = leafKind(caps);
  if (leaf !== 'cake') notes.push(`leaves are ${leaf} (cake: ${caps.cake.reason ?? 'missing'}${leaf === 'pfifo' ? `; fq_codel: ${caps.fq_codel.reason ?? 'missing'}` : ''})`);
  const download = config.download_kbit !== null && caps.ifb.available;
  if (config.download_kbit !== null && !download) notes.push(`download is not shaped: ${caps.ifb.reason ?? 'no ifb'}`);
  const ifb = download ? ifbName(dev) : null;

  const throttle = config.fallback_throttle;
  const throttledClass = options.throttleActive && 'class' in throttle.target ? resolveClass(config, throttle.target.class) : null;
  const classes: PlannedClass[] = config.classes.map((c, i) => {
    const limit = throttledClass?.id === c.id ? throttle.rate_kbit : null;
    return {
      id: c.id,
      name: c.name,
      classid: classIdOf(i),
      prio: i,
      upload: classRates(c, config.upload_kbit, limit),
      download: download ? classRates(c, config.download_kbit!, limit) : null,
    };
  });
  const indexOf = (ref: string) => config.classes.indexOf(resolveClass(config, ref)!);
  const defaultIndex = indexOf(config.default_class);

  // ip: Net-Pulse's ifb, created once and kept up; deleted when download shaping is turned off.
  const ip: string[] = [];
  if (ifb !== null && !present.ifbExists) ip.push(`link add ${ifb} type ifb`);
  if (ifb !== null) ip.push(`link set dev ${ifb} up`);

  // tc: delete what is ours, then add.
  const tc: string[] = [];
  if (present.rootOurs) tc.push(`qdisc del dev ${dev} root`);
  if (present.ingressOurs) tc.push(`qdisc del dev ${dev} ingress`);
  if (ifb === null && present.ifbExists) ip.push(`link del ${ifbName(dev)}`);
  if (ifb !== null && present.ifbExists) tc.push(`qdisc del dev ${ifb} root`);
  tc.push(...htbTree(dev, config.upload_kbit, classes, 'upload', leaf, defaultIndex));
  if (ifb !== null) {
    tc.push(`qdisc add dev ${dev} handle ffff: ingress`);
    const connmark = caps.connmark.available ? 'action connmark pipe ' : '';
    tc.push(`filter add dev ${dev} parent ffff: protocol all prio 1 u32 match u32 0 0 ${connmark}action mirred egress redirect dev ${ifb}`);
    tc.push(...htbTree(ifb, config.download_kbit!, classes, 'download', leaf, defaultIndex));
    config.rules.forEach((rule, i) => {
      const m = u32Matches(rule, caps);
      if ('skip' in m) {
        notes.push(`rules[${i}] shapes upload only: ${m.skip}`);
        return;
      }
      const flowid = classIdOf(indexOf(rule.class));
      for (const sel of m.matches) {
        tc.push(`filter add dev ${ifb} parent ${QOS_ROOT_HANDLE} protocol ip prio ${10 + i} u32 ${sel.length === 0 ? 'match u32 0 0' : sel.join(' ')} flowid ${flowid}`);
      }
    });
  }

  // nft: one transaction that replaces the table (create-if-missing, delete, define).
  const classify: string[] = [];
  config.rules.forEach((rule) => {
    const handle = classIdOf(indexOf(rule.class));
    for (const m of nftMatches(rule)) classify.push(`${m} meta priority set ${handle} return`);
  });
  const mark: string[] = [];
  config.classes.forEach((c, i) => {
    if (c.mark_dscp === null) return;
    if (!caps.dscp.available) {
      notes.push(`class ${c.id}: no DSCP marking (${caps.dscp.reason ?? 'missing'})`);
      return;
    }
    const v = dscpValue(c.mark_dscp);
    mark.push(`meta priority ${classIdOf(i)} ip dscp set ${v}`, `meta priority ${classIdOf(i)} ip6 dscp set ${v}`);
  });
  const policeOut: string[] = [];
  const policeIn: string[] = [];
  const policers = [...config.policers];
  if (options.throttleActive && 'host' in throttle.target) {
    policers.push({ target: throttle.target, rate_kbit: throttle.rate_kbit, burst_kbyte: Math.max(16, Math.ceil(bytesPerSecond(throttle.rate_kbit) / 1024 / 10)) });
  }
  for (const p of policers) {
    const limit = nftLimit(p.rate_kbit, p.burst_kbyte);
    if ('host' in p.target) {
      policeOut.push(`oifname ${q(dev)} ${hostMatch(p.target.host, 'saddr')} ${limit}`);
      policeIn.push(`iifname ${q(dev)} ${hostMatch(p.target.host, 'daddr')} ${limit}`);
    } else {
      policeOut.push(`oifname ${q(dev)} meta priority ${classIdOf(indexOf(p.target.class))} ${limit}`);
    }
  }
  const nft = [
    `table inet ${QOS_TABLE}`,
    `delete table inet ${QOS_TABLE}`,
    `table inet ${QOS_TABLE} {`,
    '  chain np_classify {',
    ...classify.map((r) => `    ${r}`),
    '  }',
    '  chain np_dscp {',
    ...mark.map((r) => `    ${r}`),
    '  }',
    '  chain np_egress {',
    '    type filter hook postrouting priority -150; policy accept;',
    `    oifname ${q(dev)} jump np_classify`,
    `    oifname ${q(dev)} jump np_dscp`,
    ...policeOut.map((r) => `    ${r}`),
    '  }',
  ];
  if (policeIn.length > 0) {
    // After conntrack has undone NAT for replies (priority -100), so the LAN address is seen.
    nft.push('  chain np_police_in {', '    type filter hook prerouting priority -90; policy accept;', ...policeIn.map((r) => `    ${r}`), '  }');
  }
  nft.push('}');

  return {
    interface: dev,
    ifb,
    leaf,
    classes,
    ipBatch: lines(ip),
    tcBatch: lines(tc),
    nftScript: lines(nft),
    notes,
  };
}

/** The scripts that take away everything Net-Pulse put on the interface; the kernel then restores its default qdisc. */
export function planRemove(interfaceName: string, present: QosPresent & { tableExists: boolean }): RemovePlan {
  const tc: string[] = [];
  if (present.rootOurs) tc.push(`qdisc del dev ${interfaceName} root`);
  if (present.ingressOurs) tc.push(`qdisc del dev ${interfaceName} ingress`);
  return {
    ipBatch: present.ifbExists ? lines([`link del ${ifbName(interfaceName)}`]) : '',
    tcBatch: lines(tc),
    nftScript: present.tableExists ? lines([`table inet ${QOS_TABLE}`, `delete table inet ${QOS_TABLE}`]) : '',
  };
}

function lines(list: string[]): string {
  return list.length === 0 ? '' : `${list.join('\n')}\n`;
}
