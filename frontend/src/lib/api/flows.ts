/**
 * The Flows page's side of the API (issue #9): parsers of /api/flows, of the /api/flows/live events and of
 * /api/traffic/categories, their paths, and the pure table logic — live rows merged with a rate each,
 * ended flows kept newest first, sorting, filtering by host and category, and a cap on the rows the
 * browser holds. The requests go through the one client (./client); the stream through ./live.
 */
import { TRAFFIC_CATEGORIES, type TrafficCategory } from '$shared/traffic-categories';
import { ParseError } from './parse';

export interface ApiFlow {
  protocol: string;
  src_address: string;
  src_port: number;
  dst_address: string;
  dst_port: number;
  /** Bytes the initiator sent (orig) and received (reply), at L3 as conntrack counts them. */
  orig_bytes: number;
  reply_bytes: number;
  orig_packets: number;
  reply_packets: number;
  category: TrafficCategory;
  domain: string | null;
  started_at: string;
  ended_at: string | null;
  /** The LAN side of the flow (NETPULSE_LAN_CIDRS), else its source. */
  host: string;
}

export interface ApiFlowLiveEvent {
  timestamp: string;
  /** Active flows in all; `flows` holds at most the server's busiest 200. */
  active: number;
  flows: ApiFlow[];
  ended: ApiFlow[];
}

export interface ApiCategoryTraffic {
  category: TrafficCategory;
  bytes: number;
  orig_bytes: number;
  reply_bytes: number;
  packets: number;
  flows: number;
}

export interface ApiCategoriesResponse {
  time_window_hours: number;
  start: string;
  end: string;
  host: string | null;
  data: ApiCategoryTraffic[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isCategory = (v: unknown): v is TrafficCategory => typeof v === 'string' && (TRAFFIC_CATEGORIES as readonly string[]).includes(v);
const isTimestamp = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));

function field<T>(o: Record<string, unknown>, key: string, path: string, check: (v: unknown) => v is T, expected: string): T {
  const v = o[key];
  if (!check(v)) throw new ParseError(`${path}${key}`, expected);
  return v;
}

function list<T>(o: Record<string, unknown>, key: string, path: string, item: (v: unknown, path: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ParseError(`${path}${key}`, 'a list');
  return v.map((x, i) => item(x, `${path}${key}[${i}]`));
}

function flow(v: unknown, path: string): ApiFlow {
  if (!isRecord(v)) throw new ParseError(path, 'an object');
  const p = `${path}.`;
  return {
    protocol: field(v, 'protocol', p, isString, 'a string'),
    src_address: field(v, 'src_address', p, isString, 'a string'),
    src_port: field(v, 'src_port', p, isPort, 'a port'),
    dst_address: field(v, 'dst_address', p, isString, 'a string'),
    dst_port: field(v, 'dst_port', p, isPort, 'a port'),
    orig_bytes: field(v, 'orig_bytes', p, isCount, 'a count'),
    reply_bytes: field(v, 'reply_bytes', p, isCount, 'a count'),
    orig_packets: field(v, 'orig_packets', p, isCount, 'a count'),
    reply_packets: field(v, 'reply_packets', p, isCount, 'a count'),
    category: field(v, 'category', p, isCategory, `one of ${TRAFFIC_CATEGORIES.join(', ')}`),
    domain: field(v, 'domain', p, isNullableString, 'a string or null'),
    started_at: field(v, 'started_at', p, isTimestamp, 'a timestamp'),
    ended_at: v.ended_at === null ? null : field(v, 'ended_at', p, isTimestamp, 'a timestamp or null'),
    host: field(v, 'host', p, isString, 'a string'),
  };
}

/** GET /api/flows. */
export function parseFlows(json: unknown): { data: ApiFlow[] } {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  return { data: list(json, 'data', '', flow) };
}

/** One event of GET /api/flows/live. */
export function parseFlowLiveEvent(json: unknown): ApiFlowLiveEvent {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  return {
    timestamp: field(json, 'timestamp', '', isTimestamp, 'a timestamp'),
    active: field(json, 'active', '', isCount, 'a count'),
    flows: list(json, 'flows', '', flow),
    ended: list(json, 'ended', '', flow),
  };
}

/** GET /api/traffic/categories. */
export function parseCategoryTraffic(json: unknown): ApiCategoriesResponse {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  return {
    time_window_hours: field(json, 'time_window_hours', '', isCount, 'a number'),
    start: field(json, 'start', '', isTimestamp, 'a timestamp'),
    end: field(json, 'end', '', isTimestamp, 'a timestamp'),
    host: field(json, 'host', '', isNullableString, 'a string or null'),
    data: list(json, 'data', '', (v, path) => {
      if (!isRecord(v)) throw new ParseError(path, 'an object');
      const p = `${path}.`;
      return {
        category: field(v, 'category', p, isCategory, `one of ${TRAFFIC_CATEGORIES.join(', ')}`),
        bytes: field(v, 'bytes', p, isCount, 'a count'),
        orig_bytes: field(v, 'orig_bytes', p, isCount, 'a count'),
        reply_bytes: field(v, 'reply_bytes', p, isCount, 'a count'),
        packets: field(v, 'packets', p, isCount, 'a count'),
        flows: field(v, 'flows', p, isCount, 'a count'),
      };
    }),
  };
}

export type FlowState = 'active' | 'recent';

export function flowsPath(state: FlowState, host: string | null, limit: number): string {
  const params = new URLSearchParams({ state, limit: String(limit) });
  if (host !== null) params.set('host', host);
  return `/api/flows?${params.toString()}`;
}

export const FLOWS_LIVE_PATH = '/api/flows/live';

export function categoriesPath(windowHours: number, host: string | null): string {
  const params = new URLSearchParams({ time_window_hours: String(windowHours) });
  if (host !== null) params.set('host', host);
  return `/api/traffic/categories?${params.toString()}`;
}

/** A flow on the page: the API's row, its identity, its total and its rate since the previous sighting. */
export interface FlowRow extends ApiFlow {
  key: string;
  totalBytes: number;
  /** Bytes a second (both ways) between the last two sightings; null until it was seen twice. */
  rateBytesPerSec: number | null;
  /** When this row's bytes were read (the event's timestamp), ms. */
  seenAtMs: number;
}

/** The 5-tuple and the start: conntrack reuses a tuple for a later flow, whose start differs. */
export function flowKey(f: ApiFlow): string {
  return `${f.protocol}|${f.src_address}|${f.src_port}|${f.dst_address}|${f.dst_port}|${f.started_at}`;
}

export function toRow(f: ApiFlow, seenAtMs: number, previous?: FlowRow): FlowRow {
  const totalBytes = f.orig_bytes + f.reply_bytes;
  let rateBytesPerSec: number | null = null;
  if (previous !== undefined && seenAtMs > previous.seenAtMs && totalBytes >= previous.totalBytes) {
    rateBytesPerSec = ((totalBytes - previous.totalBytes) * 1000) / (seenAtMs - previous.seenAtMs);
  } else if (previous !== undefined) {
    rateBytesPerSec = previous.rateBytesPerSec;
  }
  return { ...f, key: flowKey(f), totalBytes, rateBytesPerSec, seenAtMs };
}

/** The rows of an answer of GET /api/flows (no rate yet: each was seen once). */
export function rowsFromList(flows: readonly ApiFlow[], seenAtMs: number, cap: number): FlowRow[] {
  return capRows(flows.map((f) => toRow(f, seenAtMs)), cap);
}

/**
 * The active rows after a live event: exactly the event's flows (a flow missing from it ended or fell out
 * of the busiest), each with its rate against the row it had before; at most `cap`, busiest kept.
 */
export function mergeActive(previous: readonly FlowRow[], event: ApiFlowLiveEvent, cap: number): FlowRow[] {
  const atMs = Date.parse(event.timestamp);
  const before = new Map(previous.map((r) => [r.key, r]));
  return capRows(event.flows.map((f) => toRow(f, atMs, before.get(flowKey(f)))), cap);
}

/** Ended flows, newest first, without repeats, at most `cap`: the event's `ended` put before the previous rows. */
export function mergeEnded(previous: readonly FlowRow[], ended: readonly ApiFlow[], atMs: number, cap: number): FlowRow[] {
  const seen = new Set<string>();
  const out: FlowRow[] = [];
  const incoming = [...ended].sort((a, b) => Date.parse(b.ended_at ?? b.started_at) - Date.parse(a.ended_at ?? a.started_at));
  for (const r of [...incoming.map((f) => toRow(f, atMs)), ...previous]) {
    if (seen.has(r.key)) continue;
    seen.add(r.key);
    out.push(r);
    if (out.length >= cap) break;
  }
  return out;
}

/** At most `cap` rows: the busiest (most bytes) are kept, in their order. */
export function capRows(rows: FlowRow[], cap: number): FlowRow[] {
  if (rows.length <= cap) return rows;
  const keep = new Set(sortFlows(rows, 'bytes', 'desc').slice(0, cap).map((r) => r.key));
  return rows.filter((r) => keep.has(r.key));
}

export type FlowSortKey = 'bytes' | 'rate' | 'started';
export type SortDirection = 'asc' | 'desc';

/** A sorted copy; ties by key so the order holds still between events. A row without a rate sorts as 0. */
export function sortFlows(rows: readonly FlowRow[], by: FlowSortKey, direction: SortDirection): FlowRow[] {
  const value = (r: FlowRow): number => (by === 'bytes' ? r.totalBytes : by === 'rate' ? (r.rateBytesPerSec ?? 0) : Date.parse(r.started_at));
  const sign = direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => sign * (value(a) - value(b)) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface FlowFilter {
  /** null: every host. A flow matches when its LAN side (host) or either address is this one. */
  host: string | null;
  /** null: every category. */
  category: TrafficCategory | null;
}

export function filterFlows(rows: readonly FlowRow[], filter: FlowFilter): FlowRow[] {
  return rows.filter(
    (r) =>
      (filter.host === null || r.host === filter.host || r.src_address === filter.host || r.dst_address === filter.host) &&
      (filter.category === null || r.category === filter.category),
  );
}

/** The hosts to choose from: every LAN side seen, plus the chosen one (so it stays listed while it is quiet). */
export function hostChoices(rows: readonly FlowRow[], chosen: string | null): string[] {
  const hosts = new Set(rows.map((r) => r.host));
  if (chosen !== null) hosts.add(chosen);
  return [...hosts].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** "10.0.0.5:443", "[2001:db8::1]:443"; the port is left out for protocols without ports (0). */
export function endpoint(address: string, port: number): string {
  const a = address.includes(':') ? `[${address}]` : address;
  return port === 0 ? address : `${a}:${port}`;
}

/** The category chart's bars: every category with bytes, busiest first. */
export function categoryBars(data: readonly ApiCategoryTraffic[]): ApiCategoryTraffic[] {
  return data.filter((c) => c.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.category.localeCompare(b.category));
}
