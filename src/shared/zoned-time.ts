/**
 * Calendar arithmetic in an IANA time zone: local midnights, days and months, across DST changes and
 * half-hour offsets. Times are unix seconds. No node:* imports: where the zone's rules come from is wired in
 * by whoever starts the process (useZoneRules: the system's zoneinfo files, src/config/zoneinfo.ts); without
 * them, or for a zone they lack, Intl answers.
 */
import type { ZoneOffsetFn } from './tzif.js';

export interface ZonedParts {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
  hour: number;
  minute: number;
  second: number;
}

/** Rules of a zone by name, or null when the source has none (Intl then answers). */
export type ZoneRulesSource = (timeZone: string) => ZoneOffsetFn | null;

let rulesSource: ZoneRulesSource | null = null;
const offsetFns = new Map<string, ZoneOffsetFn>();

/** The source of zones' rules from now on (null: Intl only). Forgets the zones looked up so far. */
export function useZoneRules(source: ZoneRulesSource | null): void {
  rulesSource = source;
  offsetFns.clear();
}

/** A zone's offsets from Intl (loads ICU's data on its first use: ≈ 8 MiB of RSS). */
function intlOffsetFn(timeZone: string): ZoneOffsetFn {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (tsSec) => {
    const t = Math.floor(tsSec);
    const p: ZonedParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of format.formatToParts(new Date(t * 1000))) {
      if (part.type in p) p[part.type as keyof ZonedParts] = Number(part.value);
    }
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000 - t;
  };
}

const utc: ZoneOffsetFn = () => 0;

function offsetFnFor(timeZone: string): ZoneOffsetFn {
  let f = offsetFns.get(timeZone);
  if (f === undefined) {
    f = timeZone === 'UTC' || timeZone === 'Etc/UTC' ? utc : (rulesSource?.(timeZone) ?? intlOffsetFn(timeZone));
    offsetFns.set(timeZone, f);
  }
  return f;
}

export function zonedParts(tsSec: number, timeZone: string): ZonedParts {
  const t = Math.floor(tsSec);
  const local = new Date((t + offsetFnFor(timeZone)(t)) * 1000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

/** The zone's offset from UTC at an instant, in seconds (east positive: Asia/Kolkata is +19800). */
export function zoneOffsetSec(tsSec: number, timeZone: string): number {
  return offsetFnFor(timeZone)(Math.floor(tsSec));
}

/**
 * The instant a local calendar day begins: local midnight, or the first instant after it where midnight
 * doesn't exist (zones that switch DST at 00:00). month may overflow (13 → January of the next year).
 */
export function zonedDayStart(year: number, month: number, day: number, timeZone: string): number {
  const naive = Date.UTC(year, month - 1, day) / 1000;
  const target = new Date(naive * 1000);
  let t = naive - zoneOffsetSec(naive, timeZone);
  t = naive - zoneOffsetSec(t, timeZone);
  // Land on the requested date at the earliest hour it has.
  for (let i = 0; i < 4; i++) {
    const p = zonedParts(t, timeZone);
    const got = Date.UTC(p.year, p.month - 1, p.day) / 1000;
    const want = Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), target.getUTCDate()) / 1000;
    if (got < want) t += 3600 - (p.minute * 60 + p.second);
    else if (got > want) t -= 3600;
    else if (p.hour !== 0 || p.minute !== 0 || p.second !== 0) {
      const back = t - (p.hour * 3600 + p.minute * 60 + p.second);
      const q = zonedParts(back, timeZone);
      if (Date.UTC(q.year, q.month - 1, q.day) / 1000 === want) t = back;
      else break;
    } else break;
  }
  return t;
}

/** Local midnight of the day that contains tsSec. */
export function startOfZonedDay(tsSec: number, timeZone: string): number {
  const p = zonedParts(tsSec, timeZone);
  return zonedDayStart(p.year, p.month, p.day, timeZone);
}

/** Local midnight of the day after the day that contains tsSec. */
export function startOfNextZonedDay(tsSec: number, timeZone: string): number {
  const p = zonedParts(tsSec, timeZone);
  return zonedDayStart(p.year, p.month, p.day + 1, timeZone);
}

/** Calendar date of an instant in the zone, as YYYY-MM-DD. */
export function zonedDate(tsSec: number, timeZone: string): string {
  const p = zonedParts(tsSec, timeZone);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/**
 * `count` consecutive local day starts from the day that begins at firstDayStart (itself first). One offset
 * look-up a day where the offset doesn't change (a local midnight plus 24 h is the next one then); the full
 * computation only around DST changes.
 */
export function consecutiveDayStarts(firstDayStart: number, count: number, timeZone: string): number[] {
  const starts: number[] = [];
  let t = firstDayStart;
  let offset = zoneOffsetSec(t, timeZone);
  for (let i = 0; i < count; i++) {
    starts.push(t);
    const candidate = t + 86400;
    const candidateOffset = zoneOffsetSec(candidate, timeZone);
    if ((t + offset) % 86400 === 0 && candidateOffset === offset) {
      t = candidate;
    } else {
      t = startOfNextZonedDay(t, timeZone);
      offset = zoneOffsetSec(t, timeZone);
    }
  }
  return starts;
}
