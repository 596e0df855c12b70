/**
 * The QoS page's view of /api/qos (issue #10): types, and parsers that check the answer's shape at the
 * client boundary (a wrong shape is a ParseError, never a cast).
 */
import { ParseError } from '../api/parse';

export const QOS_CLASS_IDS = ['voice', 'video', 'web', 'file', 'background'] as const;
export const QOS_CATEGORIES = ['voice', 'video', 'web', 'file', 'background', 'other', 'unknown'] as const;

export interface QosClassConfig {
  id: (typeof QOS_CLASS_IDS)[number];
  name: string;
  share_percent: number;
  ceil_percent: number;
  mark_dscp: string | null;
}

export interface QosRuleConfig {
  class: string;
  dscp?: string;
  protocol?: 'tcp' | 'udp' | 'icmp';
  ports?: number[];
  hosts?: string[];
  category?: (typeof QOS_CATEGORIES)[number];
}

export type QosTarget = { class: string } | { host: string };

export interface QosConfig {
  interface: string;
  upload_kbit: number;
  download_kbit: number | null;
  classes: QosClassConfig[];
  default_class: string;
  rules: QosRuleConfig[];
  policers: { target: QosTarget; rate_kbit: number; burst_kbyte: number }[];
  fallback_throttle: { enabled: boolean; target: QosTarget; rate_kbit: number };
  keep_on_stop: boolean;
}

export interface QosLiveCounters {
  bytes: number;
  packets: number;
  drops: number;
  backlog_bytes: number;
  rate_bits_per_sec: number | null;
}

export interface QosClassLive {
  id: string;
  name: string;
  classid: string;
  upload: QosLiveCounters | null;
  download: QosLiveCounters | null;
}

export interface QosApplied {
  phase: 'applying' | 'applied';
  interface: string;
  ifb: string | null;
  leaf: string;
  applied_at: string;
  rollback_deadline: string | null;
  confirmed: boolean;
  throttle_active: boolean;
  qdisc_before: string | null;
  notes: string[];
}

export interface QosView {
  allowed: boolean;
  reason: string | null;
  capabilities: Record<string, { available: boolean; reason: string | null }> | null;
  config: QosConfig | null;
  applied: QosApplied | null;
  classes: QosClassLive[];
}

export interface QosApplyResult {
  dry_run: boolean;
  commands: { command: string; stdin: string }[];
  notes: string[];
  applied: QosApplied | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function need(ok: boolean, what: string): void {
  if (!ok) throw new ParseError("qos", what);
}

function parseLive(v: unknown): QosLiveCounters | null {
  if (v === null) return null;
  need(isObject(v), 'class counters must be an object');
  const o = v as Record<string, unknown>;
  for (const k of ['bytes', 'packets', 'drops', 'backlog_bytes']) need(typeof o[k] === 'number', `${k} must be a number`);
  need(o.rate_bits_per_sec === null || typeof o.rate_bits_per_sec === 'number', 'rate_bits_per_sec must be a number or null');
  return o as unknown as QosLiveCounters;
}

export function parseQosClasses(v: unknown): QosClassLive[] {
  need(Array.isArray(v), 'classes must be a list');
  return (v as unknown[]).map((c) => {
    need(isObject(c) && typeof c.id === 'string' && typeof c.name === 'string' && typeof c.classid === 'string', 'a class needs id, name and classid');
    const o = c as Record<string, unknown>;
    return { id: o.id as string, name: o.name as string, classid: o.classid as string, upload: parseLive(o.upload), download: parseLive(o.download) };
  });
}

function parseApplied(v: unknown): QosApplied | null {
  if (v === null) return null;
  need(isObject(v), 'applied must be an object or null');
  const o = v as Record<string, unknown>;
  need(typeof o.interface === 'string' && typeof o.confirmed === 'boolean' && (o.rollback_deadline === null || typeof o.rollback_deadline === 'string'), 'applied needs interface, confirmed and rollback_deadline');
  need(Array.isArray(o.notes), 'applied.notes must be a list');
  return o as unknown as QosApplied;
}

export function parseQosView(v: unknown): QosView {
  need(isObject(v) && typeof v.allowed === 'boolean', 'allowed must be a boolean');
  const o = v as Record<string, unknown>;
  need(o.capabilities === null || isObject(o.capabilities), 'capabilities must be an object or null');
  need(o.config === null || (isObject(o.config) && typeof o.config.interface === 'string' && Array.isArray(o.config.classes)), 'config must be a QoS config or null');
  return {
    allowed: o.allowed as boolean,
    reason: typeof o.reason === 'string' ? o.reason : null,
    capabilities: o.capabilities as QosView['capabilities'],
    config: o.config as QosConfig | null,
    applied: parseApplied(o.applied),
    classes: parseQosClasses(o.classes),
  };
}

export function parseQosApply(v: unknown): QosApplyResult {
  need(isObject(v) && typeof v.dry_run === 'boolean' && Array.isArray(v.commands), 'apply answer needs dry_run and commands');
  const o = v as Record<string, unknown>;
  return { dry_run: o.dry_run as boolean, commands: o.commands as QosApplyResult['commands'], notes: (o.notes as string[]) ?? [], applied: parseApplied(o.applied) };
}

export function parseQosConfirm(v: unknown): QosApplied | null {
  need(isObject(v), 'confirm answer must be an object');
  return parseApplied((v as Record<string, unknown>).applied);
}

/** A default config for an interface, as the server's defaults (five classes, EF → voice). */
export function defaultQosConfig(interfaceName: string): QosConfig {
  return {
    interface: interfaceName,
    upload_kbit: 20_000,
    download_kbit: 100_000,
    classes: [
      { id: 'voice', name: 'Voice', share_percent: 10, ceil_percent: 100, mark_dscp: 'ef' },
      { id: 'video', name: 'Video', share_percent: 30, ceil_percent: 100, mark_dscp: 'af41' },
      { id: 'web', name: 'Web', share_percent: 30, ceil_percent: 100, mark_dscp: null },
      { id: 'file', name: 'File', share_percent: 20, ceil_percent: 100, mark_dscp: 'af11' },
      { id: 'background', name: 'Background', share_percent: 10, ceil_percent: 100, mark_dscp: 'cs1' },
    ],
    default_class: 'web',
    rules: [
      { class: 'voice', dscp: 'ef' },
      { class: 'video', dscp: 'af41' },
      { class: 'background', dscp: 'cs1' },
    ],
    policers: [],
    fallback_throttle: { enabled: false, target: { class: 'background' }, rate_kbit: 1000 },
    keep_on_stop: false,
  };
}

/** What keeps the form from being saved (the server checks again); empty when it can be. */
export function checkQosForm(c: QosConfig): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(c.upload_kbit) || c.upload_kbit < 64) problems.push('Upload must be a whole number of kbit/s, at least 64.');
  if (c.download_kbit !== null && (!Number.isInteger(c.download_kbit) || c.download_kbit < 64)) problems.push('Download must be a whole number of kbit/s, at least 64 (or empty: not shaped).');
  const shares = c.classes.reduce((sum, k) => sum + k.share_percent, 0);
  if (shares > 100) problems.push(`The guaranteed shares add up to ${shares} %; at most 100 %.`);
  for (const k of c.classes) if (k.ceil_percent < k.share_percent || k.ceil_percent > 100) problems.push(`${k.name}: the ceiling must be between its share and 100 %.`);
  return problems;
}

/** Seconds left until a rollback deadline (never below 0). */
export function secondsLeft(deadlineIso: string, nowMs: number): number {
  return Math.max(0, Math.ceil((Date.parse(deadlineIso) - nowMs) / 1000));
}

/** Rules as one line of text each, and back ("voice: dscp=ef proto=udp ports=5060,5061 hosts=10.0.0.5 category=voice"). */
export function ruleToText(r: QosRuleConfig): string {
  const parts = [`${r.class}:`];
  if (r.dscp !== undefined) parts.push(`dscp=${r.dscp}`);
  if (r.protocol !== undefined) parts.push(`proto=${r.protocol}`);
  if (r.ports !== undefined) parts.push(`ports=${r.ports.join(',')}`);
  if (r.hosts !== undefined) parts.push(`hosts=${r.hosts.join(',')}`);
  if (r.category !== undefined) parts.push(`category=${r.category}`);
  return parts.join(' ');
}

export function ruleFromText(text: string): QosRuleConfig | string {
  const m = /^\s*([^:\s]+)\s*:\s*(.*)$/.exec(text);
  if (!m) return `"${text}" needs the form "class: key=value …"`;
  const rule: QosRuleConfig = { class: m[1]! };
  for (const part of m[2]!.split(/\s+/).filter((p) => p !== '')) {
    const [key, value] = part.split('=', 2);
    if (value === undefined || value === '') return `"${part}" needs key=value`;
    if (key === 'dscp') rule.dscp = value;
    else if (key === 'proto' && (value === 'tcp' || value === 'udp' || value === 'icmp')) rule.protocol = value;
    else if (key === 'ports' && /^\d+(,\d+)*$/.test(value)) rule.ports = value.split(',').map(Number);
    else if (key === 'hosts') rule.hosts = value.split(',');
    else if (key === 'category' && (QOS_CATEGORIES as readonly string[]).includes(value)) rule.category = value as QosRuleConfig['category'];
    else return `"${part}" is not dscp=, proto=tcp|udp|icmp, ports=1,2, hosts=a,b or category=${QOS_CATEGORIES.join('|')}`;
  }
  return rule;
}
