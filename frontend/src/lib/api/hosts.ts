/**
 * The Hosts page's side of the API (issue #9): parsers of /api/flows/status and /api/hosts, the paths, and
 * each host's share of the bytes. Pure; the requests go through the one client (./client).
 */
import type { ApiHost, ApiHostsResponse, FlowsPart, FlowsStatus } from '$shared/flows-status';
import { ParseError } from './parse';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(o: Record<string, unknown>, key: string, path: string, check: (v: unknown) => v is T, expected: string): T {
  const v = o[key];
  if (!check(v)) throw new ParseError(`${path}${key}`, expected);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

function part(v: unknown, path: string): FlowsPart {
  if (!isRecord(v)) throw new ParseError(path, 'an object');
  return { on: field(v, 'on', `${path}.`, isBool, 'true or false'), reason: field(v, 'reason', `${path}.`, isString, 'a string') };
}

export function parseFlowsStatus(json: unknown): FlowsStatus {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  const parts = json.parts;
  if (!isRecord(parts)) throw new ParseError('parts', 'an object');
  const mode = json.mode;
  if (mode !== null && mode !== 'router' && mode !== 'host') throw new ParseError('mode', 'router, host or null');
  return {
    enabled: field(json, 'enabled', '', isBool, 'true or false'),
    mode,
    parts: { hosts: part(parts.hosts, 'parts.hosts'), flows: part(parts.flows, 'parts.flows'), classify: part(parts.classify, 'parts.classify') },
  };
}

function host(v: unknown, i: number): ApiHost {
  const p = `data[${i}].`;
  if (!isRecord(v)) throw new ParseError(`data[${i}]`, 'an object');
  const addresses = v.addresses;
  if (!Array.isArray(addresses) || !addresses.every(isString)) throw new ParseError(`${p}addresses`, 'a list of strings');
  return {
    id: field(v, 'id', p, isString, 'a string'),
    addresses,
    mac: field(v, 'mac', p, isNullableString, 'a string or null'),
    name: field(v, 'name', p, isNullableString, 'a string or null'),
    name_source: v.name_source === undefined ? null : field(v, 'name_source', p, isNullableString, 'a string or null'),
    rx_bytes: field(v, 'rx_bytes', p, isCount, 'a count'),
    tx_bytes: field(v, 'tx_bytes', p, isCount, 'a count'),
    rx_packets: field(v, 'rx_packets', p, isCount, 'a count'),
    tx_packets: field(v, 'tx_packets', p, isCount, 'a count'),
  };
}

export function parseHosts(json: unknown): ApiHostsResponse {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  if (json.mode !== 'router' && json.mode !== 'host') throw new ParseError('mode', 'router or host');
  if (!Array.isArray(json.data)) throw new ParseError('data', 'a list');
  return { mode: json.mode, data: json.data.map(host) };
}

export function hostsPath(windowHours: number, limit = 50): string {
  return `/api/hosts?${new URLSearchParams({ time_window_hours: String(windowHours), limit: String(limit) }).toString()}`;
}

export function hostTrafficPath(id: string, windowHours: number, groupMinutes: number): string {
  return `/api/hosts/${encodeURIComponent(id)}/traffic?${new URLSearchParams({ time_window_hours: String(windowHours), group_minutes: String(groupMinutes) }).toString()}`;
}

export interface HostShare {
  host: ApiHost;
  totalBytes: number;
  /** Share of all listed hosts' bytes, 0–100. */
  percent: number;
  /** What people see: the name, else the first address. */
  label: string;
}

export function hostShares(hosts: readonly ApiHost[]): HostShare[] {
  const total = hosts.reduce((s, h) => s + h.rx_bytes + h.tx_bytes, 0);
  return hosts.map((h) => {
    const totalBytes = h.rx_bytes + h.tx_bytes;
    return { host: h, totalBytes, percent: total > 0 ? (totalBytes / total) * 100 : 0, label: h.name ?? h.addresses[0] ?? h.id };
  });
}
