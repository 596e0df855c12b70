import { describe, expect, it } from 'vitest';
import type { ApiDevice, ApiDevicesResponse } from '$shared/api-types';
import { DEFAULT_USAGE_PREFS, deviceOptions, interfaceChoices, parseUsagePrefs, resolveDevice, serializeUsagePrefs } from './usage-prefs';

const LOCAL = '0f8e6a52-1c1e-4c1e-9a53-000000000001';
const NAS = '0f8e6a52-1c1e-4c1e-9a53-000000000002';
const PI = '0f8e6a52-1c1e-4c1e-9a53-000000000003';

function device(id: string, name: string, isLocal: boolean, interfaces: string[]): ApiDevice {
  return { id, name, timezone: 'UTC', is_local: isLocal, last_seen: null, interfaces, month: { rx_bytes: 1, tx_bytes: 1, total_bytes: 2 } };
}

function devices(configured: boolean, list: ApiDevice[]): ApiDevicesResponse {
  return {
    sync: { configured, state: configured ? 'ok' : 'disabled', target: null, last_success: null, last_error: null, outage_since: null },
    month: { label: '2026-11', start_date: '2026-11-01', end_date: '2026-12-01' },
    devices: list,
    all: { rx_bytes: 0, tx_bytes: 0, total_bytes: 0 },
  };
}

describe('parseUsagePrefs', () => {
  it('falls back to the defaults for nothing, junk or wrong types', () => {
    expect(parseUsagePrefs(null)).toEqual(DEFAULT_USAGE_PREFS);
    expect(parseUsagePrefs('{not json')).toEqual(DEFAULT_USAGE_PREFS);
    expect(parseUsagePrefs('{"chartPeriod":"year","interfaceName":5,"device":""}')).toEqual(DEFAULT_USAGE_PREFS);
  });

  it('round-trips what was stored', () => {
    const prefs = { chartPeriod: 'month' as const, interfaceName: 'eth0', device: 'all' };
    expect(parseUsagePrefs(serializeUsagePrefs(prefs))).toEqual(prefs);
  });
});

describe('deviceOptions', () => {
  it('offers no picker without sync', () => {
    expect(deviceOptions(devices(false, [device(LOCAL, 'vm', true, ['eth0'])]))).toBeNull();
    expect(deviceOptions(null)).toBeNull();
  });

  it('offers no picker when sync lists this device alone', () => {
    expect(deviceOptions(devices(true, [device(LOCAL, 'vm', true, ['eth0'])]))).toBeNull();
  });

  it('offers this device, the others by name, and all devices', () => {
    const options = deviceOptions(devices(true, [device(LOCAL, 'vm', true, ['eth0']), device(PI, 'pi', false, []), device(NAS, 'nas', false, [])]));
    expect(options).toEqual([
      { value: 'local', label: 'This device (vm)' },
      { value: NAS, label: 'nas' },
      { value: PI, label: 'pi' },
      { value: 'all', label: 'All devices' },
    ]);
  });
});

describe('resolveDevice', () => {
  const options = deviceOptions(devices(true, [device(LOCAL, 'vm', true, []), device(NAS, 'nas', false, [])]));

  it('keeps a remembered device the picker still offers (ids in any case)', () => {
    expect(resolveDevice(NAS.toUpperCase(), options)).toBe(NAS);
    expect(resolveDevice('all', options)).toBe('all');
  });

  it('falls back to this device for a device that is gone, or without a picker', () => {
    expect(resolveDevice(PI, options)).toBe('local');
    expect(resolveDevice('all', null)).toBe('local');
  });
});

describe('interfaceChoices', () => {
  const list = devices(true, [device(LOCAL, 'vm', true, ['eth0']), device(NAS, 'nas', false, ['enp3s0', 'eth0'])]);

  it('offers this device’s monitored interfaces', () => {
    expect(interfaceChoices('local', ['eth0', 'wlan0'], list)).toEqual(['eth0', 'wlan0']);
  });

  it('offers another device’s total interfaces', () => {
    expect(interfaceChoices(NAS, ['wlan0'], list)).toEqual(['enp3s0', 'eth0']);
  });

  it('offers every device’s interfaces once for all devices', () => {
    expect(interfaceChoices('all', ['wlan0'], list)).toEqual(['enp3s0', 'eth0', 'wlan0']);
  });
});
