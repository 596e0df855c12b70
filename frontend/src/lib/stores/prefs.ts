/**
 * What the dashboard remembers between visits (localStorage): rate unit and prefixes, the window and
 * grouping, and the interface chosen in the dropdown. Anything unreadable falls back to the default.
 */
import {
  DEFAULT_GROUP_MINUTES,
  DEFAULT_WINDOW_HOURS,
  GROUPING_LADDER_MINUTES,
  WINDOW_LADDER_HOURS,
  fitGrouping,
  isOnLadder,
} from '../charts/ladder';
import type { PrefixSystem, RateUnit } from '../format/units';
import { parseStoredObject } from './stored-object';

export interface Prefs {
  rateUnit: RateUnit;
  prefixSystem: PrefixSystem;
  windowHours: number;
  groupMinutes: number;
  /** The dropdown's choice: a name, null for the total, undefined when never chosen (→ primary). */
  interfaceName: string | null | undefined;
}

export const PREFS_KEY = 'netpulse.prefs.v1';

export const DEFAULT_PREFS: Prefs = {
  rateUnit: 'bits',
  prefixSystem: 'si',
  windowHours: DEFAULT_WINDOW_HOURS,
  groupMinutes: DEFAULT_GROUP_MINUTES,
  interfaceName: undefined,
};

export function parsePrefs(raw: string | null): Prefs {
  const s = parseStoredObject(raw);
  if (s === null) return { ...DEFAULT_PREFS };
  const windowHours =
    typeof s.windowHours === 'number' && isOnLadder(WINDOW_LADDER_HOURS, s.windowHours) ? s.windowHours : DEFAULT_PREFS.windowHours;
  const groupMinutes =
    typeof s.groupMinutes === 'number' && isOnLadder(GROUPING_LADDER_MINUTES, s.groupMinutes) ? s.groupMinutes : DEFAULT_PREFS.groupMinutes;
  return {
    rateUnit: s.rateUnit === 'bytes' || s.rateUnit === 'bits' ? s.rateUnit : DEFAULT_PREFS.rateUnit,
    prefixSystem: s.prefixSystem === 'iec' || s.prefixSystem === 'si' ? s.prefixSystem : DEFAULT_PREFS.prefixSystem,
    windowHours,
    groupMinutes: fitGrouping(windowHours, groupMinutes),
    interfaceName: typeof s.interfaceName === 'string' || s.interfaceName === null ? s.interfaceName : undefined,
  };
}

export function serializePrefs(prefs: Prefs): string {
  return JSON.stringify(prefs);
}

/**
 * The interface the dashboard shows: the stored choice while it is still monitored (or the total),
 * else the primary interface when it is monitored, else the total over all monitored interfaces.
 */
export function resolveInterface(
  choice: string | null | undefined,
  monitored: readonly string[],
  primary: string | null,
): string | null {
  if (choice === null) return null;
  if (choice !== undefined && monitored.includes(choice)) return choice;
  if (primary !== null && monitored.includes(primary)) return primary;
  return monitored.length === 1 ? monitored[0]! : null;
}
