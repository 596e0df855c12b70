/** The settings form's rules, kept out of the component so they can be tested. */
import type { ApiInterface } from '$shared/api-types';

export type IntervalCheck = { ok: true; seconds: number } | { ok: false; reason: string };

/** The interval field: a whole number of seconds within the server's range. */
export function checkInterval(text: string | number, minSeconds: number, maxSeconds: number): IntervalCheck {
  const trimmed = String(text).trim();
  if (trimmed === '') return { ok: false, reason: 'Enter how many seconds between reads.' };
  const seconds = Number(trimmed);
  if (!Number.isFinite(seconds) || !Number.isInteger(seconds)) return { ok: false, reason: 'Use a whole number of seconds.' };
  if (seconds < minSeconds || seconds > maxSeconds) {
    return { ok: false, reason: `Use a value between ${minSeconds} and ${maxSeconds} seconds.` };
  }
  return { ok: true, seconds };
}

/** Whether two selections hold the same names, in any order. */
export function sameSelection(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((name) => set.has(name));
}

/** Primary first, then physical before virtual, loopback last, then by name. */
export function sortInterfaces(interfaces: readonly ApiInterface[]): ApiInterface[] {
  const rank = (nic: ApiInterface): number => (nic.is_primary ? 0 : nic.kind === 'loopback' ? 3 : nic.is_virtual ? 2 : 1);
  return [...interfaces].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, undefined, { numeric: true }));
}
