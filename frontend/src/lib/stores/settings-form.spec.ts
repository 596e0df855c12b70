import { describe, expect, it } from 'vitest';
import type { ApiInterface } from '$shared/api-types';
import { checkInterval, sameSelection, sortInterfaces } from './settings-form';

describe('checkInterval', () => {
  it('accepts a whole number inside the range', () => {
    expect(checkInterval('30', 1, 3600)).toEqual({ ok: true, seconds: 30 });
    expect(checkInterval(1, 1, 3600)).toEqual({ ok: true, seconds: 1 });
  });

  it('rejects an empty field', () => {
    expect(checkInterval(' ', 1, 3600).ok).toBe(false);
  });

  it('rejects a fraction', () => {
    expect(checkInterval('2.5', 1, 3600)).toEqual({ ok: false, reason: 'Use a whole number of seconds.' });
  });

  it('rejects a value outside the range and names the range', () => {
    expect(checkInterval('3601', 1, 3600)).toEqual({ ok: false, reason: 'Use a value between 1 and 3600 seconds.' });
    expect(checkInterval('0', 1, 3600).ok).toBe(false);
  });
});

describe('sameSelection', () => {
  it('ignores order', () => {
    expect(sameSelection(['eth0', 'wlan0'], ['wlan0', 'eth0'])).toBe(true);
  });

  it('sees an added or removed name', () => {
    expect(sameSelection(['eth0'], ['eth0', 'wlan0'])).toBe(false);
    expect(sameSelection(['eth0', 'docker0'], ['eth0', 'wlan0'])).toBe(false);
  });
});

describe('sortInterfaces', () => {
  const nic = (name: string, extra: Partial<ApiInterface> = {}): ApiInterface => ({
    name,
    kind: 'ethernet',
    is_up: true,
    oper_state: 'up',
    addresses: [],
    mac: null,
    mtu: 1500,
    speed: null,
    is_virtual: false,
    is_primary: false,
    monitored: false,
    counters: null,
    ...extra,
  });

  it('puts the primary first, virtual after physical and loopback last', () => {
    const sorted = sortInterfaces([
      nic('lo', { kind: 'loopback', is_virtual: true }),
      nic('docker0', { kind: 'bridge', is_virtual: true }),
      nic('eth1'),
      nic('wlan0', { kind: 'wireless', is_primary: true }),
    ]);
    expect(sorted.map((n) => n.name)).toEqual(['wlan0', 'eth1', 'docker0', 'lo']);
  });

  it('orders names with numbers naturally', () => {
    expect(sortInterfaces([nic('eth10'), nic('eth2')]).map((n) => n.name)).toEqual(['eth2', 'eth10']);
  });
});
