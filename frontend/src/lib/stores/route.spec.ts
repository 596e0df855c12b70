import { describe, expect, it } from 'vitest';
import { routeFromHash } from './route';

describe('routeFromHash', () => {
  it('reads the settings and usage routes with or without the slashes', () => {
    expect(routeFromHash('#/settings')).toBe('settings');
    expect(routeFromHash('#settings/')).toBe('settings');
    expect(routeFromHash('#/usage')).toBe('usage');
    expect(routeFromHash('#usage?x=1')).toBe('usage');
  });

  it('reads the flows route', () => {
    expect(routeFromHash('#/flows')).toBe('flows');
    expect(routeFromHash('#flows/')).toBe('flows');
    expect(routeFromHash('#/flowsx')).toBe('dashboard');
  });

  it('falls back to the dashboard for anything else', () => {
    expect(routeFromHash('')).toBe('dashboard');
    expect(routeFromHash('#/')).toBe('dashboard');
    expect(routeFromHash('#/usages')).toBe('dashboard');
  });
});
