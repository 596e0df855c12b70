/**
 * The QoS configuration (issue #10): what the user stores with PUT /api/qos, its defaults, and the one
 * check of its meaning (rates within the link, shares that add up, class names that exist). Pure: no
 * node:* imports beyond net's address check, no kernel.
 */
import { isIP } from 'node:net';
import { TRAFFIC_CATEGORIES, type TrafficCategory } from '../shared/traffic-categories.js';

/** The five classes, highest priority first; their ids are fixed, their names and shares editable. */
export const QOS_CLASS_IDS = ['voice', 'video', 'web', 'file', 'background'] as const;
export type QosClassId = (typeof QOS_CLASS_IDS)[number];

export interface QosClass {
  id: QosClassId;
  /** What the dashboard calls it (1–32 characters). */
  name: string;
  /** Guaranteed share of the link, whole percent (1–100); the shares add up to at most 100. */
  share_percent: number;
  /** Ceiling: how much of the link it may borrow up to, percent (≥ share, ≤ 100). */
  ceil_percent: number;
  /** DSCP written onto this class's packets on the way out (for the next hop), or null. */
  mark_dscp: string | null;
}

export interface QosRule {
  /** A class id or a class name. */
  class: string;
  dscp?: string;
  protocol?: 'tcp' | 'udp' | 'icmp';
  /** Service ports: destination on upload, source on download. */
  ports?: number[];
  /** Addresses or CIDRs, matched as source or destination. */
  hosts?: string[];
  /** The category flow classification wrote into the conntrack mark's top byte. */
  category?: TrafficCategory;
}

export interface QosPolicer {
  /** A class id/name (upload only) or a host address/CIDR (both directions). */
  target: { class: string } | { host: string };
  rate_kbit: number;
  burst_kbyte: number;
}

export interface QosFallbackThrottle {
  /** Opt-in on the cap form: when the month's projection passes the data cap, limit the target until the cycle ends. */
  enabled: boolean;
  target: { class: string } | { host: string };
  rate_kbit: number;
}

export interface QosConfig {
  interface: string;
  upload_kbit: number;
  /** null: no download shaping (no ifb). */
  download_kbit: number | null;
  classes: QosClass[];
  /** Where unmatched traffic goes (class id or name). */
  default_class: string;
  rules: QosRule[];
  policers: QosPolicer[];
  fallback_throttle: QosFallbackThrottle;
  /** On stop, leave a confirmed tree in place (else Net-Pulse removes it). */
  keep_on_stop: boolean;
}

export const DSCP_CODES: Readonly<Record<string, number>> = {
  cs0: 0, be: 0, cs1: 8, af11: 10, af12: 12, af13: 14, cs2: 16, af21: 18, af22: 20, af23: 22, cs3: 24, af31: 26, af32: 28, af33: 30,
  cs4: 32, af41: 34, af42: 36, af43: 38, cs5: 40, va: 44, ef: 46, cs6: 48, cs7: 56,
};

/** A DSCP name (ef, af41, cs1 …) or a number 0–63 as text → its value, or null. */
export function dscpValue(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t in DSCP_CODES) return DSCP_CODES[t]!;
  if (/^\d{1,2}$/.test(t) && Number(t) <= 63) return Number(t);
  return null;
}

export const MIN_RATE_KBIT = 64;
export const MAX_RATE_KBIT = 100_000_000;
export const MAX_RULES = 64;
export const MAX_MATCHES_PER_RULE = 64;

export const DEFAULT_CLASSES: readonly QosClass[] = [
  { id: 'voice', name: 'Voice', share_percent: 10, ceil_percent: 100, mark_dscp: 'ef' },
  { id: 'video', name: 'Video', share_percent: 30, ceil_percent: 100, mark_dscp: 'af41' },
  { id: 'web', name: 'Web', share_percent: 30, ceil_percent: 100, mark_dscp: null },
  { id: 'file', name: 'File', share_percent: 20, ceil_percent: 100, mark_dscp: 'af11' },
  { id: 'background', name: 'Background', share_percent: 10, ceil_percent: 100, mark_dscp: 'cs1' },
];

/** A config with the defaults filled in for the parts left out. */
export function withDefaults(input: Partial<QosConfig> & Pick<QosConfig, 'interface' | 'upload_kbit'>): QosConfig {
  return {
    interface: input.interface,
    upload_kbit: input.upload_kbit,
    download_kbit: input.download_kbit ?? null,
    classes: input.classes ?? DEFAULT_CLASSES.map((c) => ({ ...c })),
    default_class: input.default_class ?? 'web',
    rules: input.rules ?? [
      { class: 'voice', dscp: 'ef' },
      { class: 'video', dscp: 'af41' },
      { class: 'background', dscp: 'cs1' },
    ],
    policers: input.policers ?? [],
    fallback_throttle: input.fallback_throttle ?? { enabled: false, target: { class: 'background' }, rate_kbit: Math.max(MIN_RATE_KBIT, Math.round(input.upload_kbit / 20)) },
    keep_on_stop: input.keep_on_stop ?? false,
  };
}

export class QosConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'QosConfigError';
  }
}

/** Address or CIDR (v4 or v6) → normalised text, or null. */
export function parseHost(text: string): { text: string; family: 4 | 6 } | null {
  const [addr, len, ...rest] = text.trim().split('/');
  if (addr === undefined || rest.length > 0) return null;
  const family = isIP(addr);
  if (family === 0) return null;
  if (len === undefined) return { text: addr, family: family as 4 | 6 };
  if (!/^\d{1,3}$/.test(len) || Number(len) > (family === 4 ? 32 : 128)) return null;
  return { text: `${addr}/${Number(len)}`, family: family as 4 | 6 };
}

/** The class a reference (id or name, case-insensitive) means, or null. */
export function resolveClass(config: Pick<QosConfig, 'classes'>, ref: string): QosClass | null {
  const r = ref.trim().toLowerCase();
  return config.classes.find((c) => c.id === r || c.name.toLowerCase() === r) ?? null;
}

/** Checks a config's meaning; throws QosConfigError with a stable code naming the first problem. */
export function validateQosConfig(config: QosConfig, linkSpeedMbps: number | null): void {
  const fail = (code: string, message: string): never => {
    throw new QosConfigError(code, message);
  };
  if (!/^[^/:\s]{1,15}$/.test(config.interface)) fail('INVALID_INTERFACE_NAME', `"${config.interface}" is not an interface name`);
  for (const [field, kbit] of [['upload_kbit', config.upload_kbit], ['download_kbit', config.download_kbit]] as const) {
    if (kbit === null) continue;
    if (!Number.isInteger(kbit) || kbit < MIN_RATE_KBIT || kbit > MAX_RATE_KBIT) fail('QOS_RATE_OUT_OF_RANGE', `${field} must be a whole number of kbit/s, ${MIN_RATE_KBIT}–${MAX_RATE_KBIT}`);
    if (linkSpeedMbps !== null && linkSpeedMbps > 0 && kbit > linkSpeedMbps * 1000) fail('QOS_RATE_ABOVE_LINK', `${field} ${kbit} kbit/s is above the link's ${linkSpeedMbps} Mbit/s`);
  }
  const ids = config.classes.map((c) => c.id);
  if (ids.length !== QOS_CLASS_IDS.length || QOS_CLASS_IDS.some((id, i) => ids[i] !== id)) fail('QOS_INVALID_CLASSES', `classes must be the five classes ${QOS_CLASS_IDS.join(', ')}, in that order (priority)`);
  const names = new Set<string>();
  let shares = 0;
  for (const c of config.classes) {
    if (c.name.trim() === '' || c.name.length > 32) fail('QOS_INVALID_CLASSES', `class ${c.id}: name must be 1–32 characters`);
    const lower = c.name.trim().toLowerCase();
    if (names.has(lower) || (QOS_CLASS_IDS as readonly string[]).includes(lower) && lower !== c.id) fail('QOS_INVALID_CLASSES', `class name "${c.name}" is used twice (or is another class's id)`);
    names.add(lower);
    if (!Number.isInteger(c.share_percent) || c.share_percent < 1 || c.share_percent > 100) fail('QOS_INVALID_SHARE', `class ${c.id}: share_percent must be 1–100`);
    if (!Number.isInteger(c.ceil_percent) || c.ceil_percent < c.share_percent || c.ceil_percent > 100) fail('QOS_INVALID_SHARE', `class ${c.id}: ceil_percent must be between its share (${c.share_percent}) and 100`);
    if (c.mark_dscp !== null && dscpValue(c.mark_dscp) === null) fail('QOS_INVALID_DSCP', `class ${c.id}: "${c.mark_dscp}" is not a DSCP name (ef, af41, cs1 …) or 0–63`);
    shares += c.share_percent;
  }
  if (shares > 100) fail('QOS_SHARES_OVER_100', `the guaranteed shares add up to ${shares} %, more than the link (100 %)`);
  const needClass = (ref: string, where: string) => resolveClass(config, ref) ?? fail('QOS_UNKNOWN_CLASS', `${where}: no class "${ref}" (ids: ${QOS_CLASS_IDS.join(', ')}, or a class name)`);
  needClass(config.default_class, 'default_class');
  if (config.rules.length > MAX_RULES) fail('QOS_TOO_MANY_RULES', `at most ${MAX_RULES} rules`);
  config.rules.forEach((r, i) => {
    const where = `rules[${i}]`;
    needClass(r.class, where);
    if (r.dscp === undefined && r.protocol === undefined && r.ports === undefined && r.hosts === undefined && r.category === undefined) fail('QOS_INVALID_RULE', `${where} matches nothing: give dscp, protocol, ports, hosts or category`);
    if (r.dscp !== undefined && dscpValue(r.dscp) === null) fail('QOS_INVALID_DSCP', `${where}: "${r.dscp}" is not a DSCP name or 0–63`);
    if (r.protocol !== undefined && !['tcp', 'udp', 'icmp'].includes(r.protocol)) fail('QOS_INVALID_RULE', `${where}: protocol must be tcp, udp or icmp`);
    if (r.ports !== undefined) {
      if (r.ports.length === 0 || r.ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) fail('QOS_INVALID_RULE', `${where}: ports must be 1–65535 (at least one)`);
      if (r.protocol === 'icmp') fail('QOS_INVALID_RULE', `${where}: icmp has no ports`);
    }
    if (r.hosts !== undefined && (r.hosts.length === 0 || r.hosts.some((h) => parseHost(h) === null))) fail('QOS_INVALID_HOST', `${where}: hosts must be IPv4/IPv6 addresses or CIDRs (at least one)`);
    if ((r.ports?.length ?? 1) * (r.hosts?.length ?? 1) > MAX_MATCHES_PER_RULE) fail('QOS_TOO_MANY_RULES', `${where}: ports × hosts must stay ≤ ${MAX_MATCHES_PER_RULE}`);
    if (r.category !== undefined && !(TRAFFIC_CATEGORIES as readonly string[]).includes(r.category)) fail('QOS_INVALID_RULE', `${where}: category must be one of ${TRAFFIC_CATEGORIES.join(', ')}`);
  });
  const checkTarget = (target: QosPolicer['target'], where: string) => {
    if ('class' in target) needClass(target.class, where);
    else if (parseHost(target.host) === null) fail('QOS_INVALID_HOST', `${where}: "${target.host}" is not an address or CIDR`);
  };
  config.policers.forEach((p, i) => {
    checkTarget(p.target, `policers[${i}]`);
    if (!Number.isInteger(p.rate_kbit) || p.rate_kbit < MIN_RATE_KBIT || p.rate_kbit > MAX_RATE_KBIT) fail('QOS_RATE_OUT_OF_RANGE', `policers[${i}]: rate_kbit must be ${MIN_RATE_KBIT}–${MAX_RATE_KBIT}`);
    if (!Number.isInteger(p.burst_kbyte) || p.burst_kbyte < 1 || p.burst_kbyte > 65536) fail('QOS_RATE_OUT_OF_RANGE', `policers[${i}]: burst_kbyte must be 1–65536`);
  });
  const f = config.fallback_throttle;
  checkTarget(f.target, 'fallback_throttle');
  if (!Number.isInteger(f.rate_kbit) || f.rate_kbit < MIN_RATE_KBIT || f.rate_kbit > config.upload_kbit) fail('QOS_RATE_OUT_OF_RANGE', `fallback_throttle.rate_kbit must be ${MIN_RATE_KBIT}–${config.upload_kbit} (the upload rate)`);
}
