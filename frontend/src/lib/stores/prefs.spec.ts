import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFS, parsePrefs, resolveInterface, serializePrefs } from './prefs';
import { routeFromHash } from './route';

describe('parsePrefs', () => {
  it('gives the defaults when nothing is stored', () => {
    expect(parsePrefs(null)).toEqual(DEFAULT_PREFS);
  });

  it('gives the defaults for text that is not JSON', () => {
    expect(parsePrefs('{oops')).toEqual(DEFAULT_PREFS);
  });

  it('reads back what it wrote', () => {
    const prefs = { rateUnit: 'bytes', prefixSystem: 'iec', windowHours: 168, groupMinutes: 60, interfaceName: null } as const;
    expect(parsePrefs(serializePrefs(prefs))).toEqual(prefs);
  });

  it('replaces a window that is not on the ladder with the default', () => {
    expect(parsePrefs('{"windowHours":5}').windowHours).toBe(DEFAULT_PREFS.windowHours);
  });

  it('fits a stored grouping that is too fine for the stored window', () => {
    expect(parsePrefs('{"windowHours":8760,"groupMinutes":1}').groupMinutes).toBe(1440);
  });
});

describe('resolveInterface', () => {
  it('keeps a stored choice that is still monitored', () => {
    expect(resolveInterface('wlan0', ['eth0', 'wlan0'], 'eth0')).toBe('wlan0');
  });

  it('keeps the total when the total was chosen', () => {
    expect(resolveInterface(null, ['eth0', 'wlan0'], 'eth0')).toBeNull();
  });

  it('falls back to the primary interface when nothing was chosen', () => {
    expect(resolveInterface(undefined, ['eth0', 'wlan0'], 'wlan0')).toBe('wlan0');
  });

  it('falls back to the primary interface when the chosen one is no longer monitored', () => {
    expect(resolveInterface('docker0', ['eth0'], 'eth0')).toBe('eth0');
  });

  it('shows the total when the primary interface is not monitored', () => {
    expect(resolveInterface(undefined, ['wlan0', 'eth1'], 'eth0')).toBeNull();
  });
});

describe('routeFromHash', () => {
  it('reads the settings route with or without a slash', () => {
    expect(routeFromHash('#/settings')).toBe('settings');
    expect(routeFromHash('#settings')).toBe('settings');
  });

  it('reads anything else as the dashboard', () => {
    expect(routeFromHash('')).toBe('dashboard');
    expect(routeFromHash('#/')).toBe('dashboard');
    expect(routeFromHash('#/nope')).toBe('dashboard');
  });
});
