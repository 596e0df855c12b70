/**
 * What the Usage view remembers between visits (localStorage, its own key): the bar chart's period, the
 * interface (null: the total, the server's default) and the device. Also the device picker's choices,
 * which exist only when GET /api/devices lists other devices through sync.
 */
import type { ApiDevicesResponse } from '$shared/api-types';
import type { UsageChartPeriod } from '../charts/usage-bars';
import { parseStoredObject } from './stored-object';

export interface UsagePrefs {
  chartPeriod: UsageChartPeriod;
  /** null: the total. */
  interfaceName: string | null;
  /** 'local', 'all' or a device id. */
  device: string;
}

export const USAGE_PREFS_KEY = 'netpulse.usage.v1';

export const DEFAULT_USAGE_PREFS: UsagePrefs = { chartPeriod: 'day', interfaceName: null, device: 'local' };

export function parseUsagePrefs(raw: string | null): UsagePrefs {
  const s = parseStoredObject(raw);
  if (s === null) return { ...DEFAULT_USAGE_PREFS };
  return {
    chartPeriod: s.chartPeriod === 'month' || s.chartPeriod === 'day' ? s.chartPeriod : DEFAULT_USAGE_PREFS.chartPeriod,
    interfaceName: typeof s.interfaceName === 'string' && s.interfaceName !== '' ? s.interfaceName : null,
    device: typeof s.device === 'string' && s.device !== '' ? s.device : DEFAULT_USAGE_PREFS.device,
  };
}

export function serializeUsagePrefs(prefs: UsagePrefs): string {
  return JSON.stringify(prefs);
}

export interface DeviceOption {
  value: string;
  label: string;
}

/**
 * The device picker's options — "This device", every other device, "All devices" — or null when it has
 * nothing to offer: sync not configured, or no other device listed (PostgreSQL unreachable, or alone).
 */
export function deviceOptions(devices: ApiDevicesResponse | null): DeviceOption[] | null {
  if (!devices?.sync.configured) return null;
  const others = devices.devices.filter((d) => !d.is_local);
  if (others.length === 0) return null;
  const local = devices.devices.find((d) => d.is_local);
  return [
    { value: 'local', label: local ? `This device (${local.name})` : 'This device' },
    ...[...others].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })).map((d) => ({ value: d.id, label: d.name })),
    { value: 'all', label: 'All devices' },
  ];
}

/** The device to ask for: the remembered one while the picker offers it, else this device. */
export function resolveDevice(choice: string, options: readonly DeviceOption[] | null): string {
  if (options === null) return 'local';
  return options.some((o) => o.value === choice.toLowerCase()) ? choice.toLowerCase() : 'local';
}

/**
 * The interfaces the picker offers for a device: this device's monitored ones; another device's total
 * interfaces; for all devices, every device's, once each.
 */
export function interfaceChoices(device: string, monitored: readonly string[], devices: ApiDevicesResponse | null): string[] {
  if (device === 'local') return [...monitored];
  const list = device === 'all' ? (devices?.devices ?? []) : (devices?.devices.filter((d) => d.id === device) ?? []);
  const names = new Set<string>(device === 'all' ? monitored : []);
  for (const d of list) for (const name of d.interfaces) names.add(name);
  return [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}
