import { describe, expect, it } from 'vitest';
import { hostShares, hostTrafficPath, hostsPath, parseFlowsStatus, parseHosts } from './hosts';
import { ParseError } from './parse';

const host = (id: string, rx: number, tx: number, name: string | null = null) => ({ id, addresses: ['10.0.0.5'], mac: null, name, name_source: null, rx_bytes: rx, tx_bytes: tx, rx_packets: 1, tx_packets: 1 });

describe('hosts API', () => {
  it('parses /api/hosts and refuses a row without counts', () => {
    const ok = parseHosts({ mode: 'router', data: [host('ip-10.0.0.5', 100, 50)] });
    expect(ok.data[0]!.rx_bytes).toBe(100);
    expect(() => parseHosts({ mode: 'router', data: [{ ...host('x', 1, 1), rx_bytes: 'lots' }] })).toThrow(ParseError);
    expect(() => parseHosts({ mode: 'switch', data: [] })).toThrow(/mode/);
  });

  it('parses /api/flows/status with the reason of each part', () => {
    const s = parseFlowsStatus({ enabled: false, mode: null, parts: { hosts: { on: false, reason: 'off' }, flows: { on: false, reason: 'off' }, classify: { on: false, reason: 'off' } } });
    expect(s.parts.hosts).toEqual({ on: false, reason: 'off' });
    expect(() => parseFlowsStatus({ enabled: true, mode: null, parts: {} })).toThrow(/parts.hosts/);
  });

  it('gives each host its share of all bytes and a label (name, else the address)', () => {
    const shares = hostShares([host('a', 300, 100, 'laptop'), host('b', 100, 0)]);
    expect(shares.map((s) => [s.label, s.percent])).toEqual([
      ['laptop', 80],
      ['10.0.0.5', 20],
    ]);
    expect(hostShares([host('a', 0, 0)])[0]!.percent).toBe(0);
  });

  it('builds the paths with the query', () => {
    expect(hostsPath(24)).toBe('/api/hosts?time_window_hours=24&limit=50');
    expect(hostTrafficPath('mac-02-00', 1, 5)).toBe('/api/hosts/mac-02-00/traffic?time_window_hours=1&group_minutes=5');
  });
});
