/**
 * Calendar arithmetic in an IANA time zone with nothing but Intl: local midnights, days and months, across
 * DST changes and half-hour offsets. Times are unix seconds. No node:* imports (the frontend may use it).
 */

export interface ZonedParts {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function zonedParts(tsSec: number, timeZone: string): ZonedParts {
  const out: ZonedParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(new Date(tsSec * 1000))) {
    if (part.type in out) out[part.type as keyof ZonedParts] = Number(part.value);
  }
  return out;
}

/** The zone's offset from UTC at an instant, in seconds (east positive: Asia/Kolkata is +19800). */
export function zoneOffsetSec(tsSec: number, timeZone: string): number {
  const p = zonedParts(Math.floor(tsSec), timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000;
  return asUtc - Math.floor(tsSec);
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
 * `count` consecutive local day starts from the day that begins at firstDayStart (itself first). One Intl
 * call a day where the offset doesn't change (a local midnight plus 24 h is the next one then); the full
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
