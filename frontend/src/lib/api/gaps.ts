/**
 * GET /api/traffic/gaps (issue #8): intervals whose traffic could not be counted, for the chart to mark.
 * Pure: the path and the parser; the request goes through the one client (./client).
 */
import { ParseError } from './parse';

export interface TrafficGap {
  interfaceName: string;
  startMs: number;
  endMs: number;
  reason: 'implausible' | 'unstorable';
}

export function gapsPath(windowHours: number, interfaceName: string | null): string {
  const params = new URLSearchParams({ time_window_hours: String(windowHours) });
  if (interfaceName !== null) params.set('interface', interfaceName);
  return `/api/traffic/gaps?${params.toString()}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function time(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new ParseError(`${path}${key}`, 'an ISO 8601 time');
  return ms;
}

export function parseGaps(json: unknown): TrafficGap[] {
  if (!isRecord(json) || !Array.isArray(json.data)) throw new ParseError('data', 'a list');
  return json.data.map((v, i) => {
    const p = `data[${i}].`;
    if (!isRecord(v)) throw new ParseError(`data[${i}]`, 'an object');
    if (typeof v.interface !== 'string') throw new ParseError(`${p}interface`, 'a string');
    if (v.reason !== 'implausible' && v.reason !== 'unstorable') throw new ParseError(`${p}reason`, 'implausible or unstorable');
    return { interfaceName: v.interface, startMs: time(v, 'start', p), endMs: time(v, 'end', p), reason: v.reason };
  });
}
