/**
 * Time zone rules from a compiled zoneinfo file (TZif, RFC 8536), without Intl: the UTC offset of a zone at
 * any instant. Node's Intl answers the same question, but its first use with a time zone maps ICU's data
 * (≈ 8 MiB of RSS in a process that otherwise never touches it); the system's /usr/share/zoneinfo files hold
 * the same IANA rules in a few KiB each (issue #13). Pure: bytes in, rules out (the reading is the caller's).
 */

/** The UTC offset (seconds, east positive) of a zone at an instant (unix seconds). */
export type ZoneOffsetFn = (tsSec: number) => number;

/**
 * A POSIX TZ rule as a TZif footer carries it (RFC 8536 §3.3): standard time, and optionally daylight time
 * with the local times it starts and ends. Offsets are east positive (the TZ string writes them west positive).
 */
export interface PosixZoneRule {
  stdOffsetSec: number;
  dst: { offsetSec: number; start: PosixTransitionDate; end: PosixTransitionDate } | null;
}

/** Where in a year a transition falls, and at what local time (seconds from that day's midnight, may be < 0 or > 24 h). */
export type PosixTransitionDate =
  | { kind: 'julian1'; day: number; timeSec: number } // Jn: 1–365, February 29 never counted
  | { kind: 'julian0'; day: number; timeSec: number } // n: 0–365, February 29 counted in leap years
  | { kind: 'month'; month: number; week: number; weekday: number; timeSec: number }; // Mm.w.d

export class TzifError extends Error {}

/** Parses a TZ string's offset: [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536's extension). Seconds, as written. */
function parseClock(text: string, what: string): number {
  const m = /^([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?$/.exec(text);
  if (m === null) throw new TzifError(`bad ${what} "${text}"`);
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  const seconds = Number(m[4] ?? 0);
  if (hours > 167 || minutes > 59 || seconds > 59) throw new TzifError(`${what} "${text}" is out of range`);
  const total = hours * 3600 + minutes * 60 + seconds;
  return m[1] === '-' ? -total : total;
}

function parseTransitionDate(text: string): PosixTransitionDate {
  const [date, time] = text.split('/') as [string, string | undefined];
  const timeSec = time === undefined ? 7200 : parseClock(time, 'transition time');
  let m: RegExpExecArray | null;
  if ((m = /^J(\d{1,3})$/.exec(date)) !== null) {
    const day = Number(m[1]);
    if (day < 1 || day > 365) throw new TzifError(`Julian day ${day} is outside 1–365`);
    return { kind: 'julian1', day, timeSec };
  }
  if ((m = /^(\d{1,3})$/.exec(date)) !== null) {
    const day = Number(m[1]);
    if (day > 365) throw new TzifError(`day ${day} is outside 0–365`);
    return { kind: 'julian0', day, timeSec };
  }
  if ((m = /^M(\d{1,2})\.(\d)\.(\d)$/.exec(date)) !== null) {
    const [month, week, weekday] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) throw new TzifError(`bad date rule "${date}"`);
    return { kind: 'month', month, week, weekday, timeSec };
  }
  throw new TzifError(`bad date rule "${date}"`);
}

/**
 * Parses a POSIX TZ string as RFC 8536 allows in a footer: "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30",
 * "<-03>3". Null for an empty string (no rule: the file's last transition holds for ever).
 */
export function parsePosixTz(tz: string): PosixZoneRule | null {
  if (tz === '') return null;
  let rest = tz;
  const takeName = (): string => {
    const m = /^(<[A-Za-z0-9+-]{3,}>|[A-Za-z]{3,})/.exec(rest);
    if (m === null) throw new TzifError(`no zone abbreviation at "${rest}" in "${tz}"`);
    rest = rest.slice(m[1]!.length);
    return m[1]!;
  };
  const takeOffset = (): string | null => {
    const m = /^[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?/.exec(rest);
    if (m === null) return null;
    rest = rest.slice(m[0].length);
    return m[0];
  };
  takeName();
  const std = takeOffset();
  if (std === null) throw new TzifError(`no standard offset in "${tz}"`);
  // East positive; 0 - x, not -x, so that "UTC0" is +0, never -0.
  const stdOffsetSec = 0 - parseClock(std, 'offset');
  if (rest === '') return { stdOffsetSec, dst: null };
  takeName();
  const dstText = takeOffset();
  const offsetSec = dstText === null ? stdOffsetSec + 3600 : 0 - parseClock(dstText, 'offset');
  // POSIX leaves the dates of a rule-less daylight time to the implementation; zic always writes them.
  const rules = /^,([^,]+),([^,]+)$/.exec(rest);
  if (rules === null) throw new TzifError(`no daylight-time dates in "${tz}"`);
  return { stdOffsetSec, dst: { offsetSec, start: parseTransitionDate(rules[1]!), end: parseTransitionDate(rules[2]!) } };
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Local seconds (as if UTC) of a transition in a year. */
function localTransitionSec(year: number, date: PosixTransitionDate): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  let dayOfYear: number;
  if (date.kind === 'julian1') dayOfYear = date.day - 1 + (isLeap(year) && date.day >= 60 ? 1 : 0);
  else if (date.kind === 'julian0') dayOfYear = date.day;
  else {
    const first = new Date(Date.UTC(year, date.month - 1, 1));
    const daysInMonth = new Date(Date.UTC(year, date.month, 0)).getUTCDate();
    let day = 1 + ((date.weekday - first.getUTCDay() + 7) % 7) + (date.week - 1) * 7;
    while (day > daysInMonth) day -= 7;
    dayOfYear = (Date.UTC(year, date.month - 1, day) / 1000 - jan1) / 86400;
  }
  return jan1 + dayOfYear * 86400 + date.timeSec;
}

/** The offset a POSIX rule gives at an instant. */
export function posixOffsetAt(rule: PosixZoneRule, tsSec: number): number {
  const dst = rule.dst;
  if (dst === null) return rule.stdOffsetSec;
  const year = new Date((tsSec + rule.stdOffsetSec) * 1000).getUTCFullYear();
  // The transitions of the years around the instant, in UTC: the last one at or before it decides. A start is
  // written in standard time, an end in daylight time. On a tie the start wins (a rule of daylight time all
  // year, "EST5EDT,0/0,J365/25", ends one year at the instant it starts the next).
  let best = -Infinity;
  let bestIsDst = false;
  let earliest = Infinity;
  let earliestIsDst = false;
  for (let y = year - 1; y <= year + 1; y++) {
    for (const [at, isDst] of [
      [localTransitionSec(y, dst.end) - dst.offsetSec, false],
      [localTransitionSec(y, dst.start) - rule.stdOffsetSec, true],
    ] as const) {
      if (at <= tsSec && (at > best || (at === best && isDst))) {
        best = at;
        bestIsDst = isDst;
      }
      if (at < earliest) {
        earliest = at;
        earliestIsDst = isDst;
      }
    }
  }
  const inDst = best === -Infinity ? !earliestIsDst : bestIsDst;
  return inDst ? dst.offsetSec : rule.stdOffsetSec;
}

/** The parts of a TZif file that give offsets: transition times (ascending), the offset after each, the footer. */
export interface TzifRules {
  transitionsSec: Float64Array;
  offsetsSec: Int32Array;
  /** Offset before the first transition (time type 0). */
  initialOffsetSec: number;
  footer: PosixZoneRule | null;
}

/**
 * Reads a TZif file (versions 1–4). Files with leap-second records ("right/" zones) are refused: their times
 * count leap seconds, unix time does not.
 */
export function parseTzif(bytes: Uint8Array): TzifRules {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new TzifError(`truncated at byte ${pos} (needs ${n} more of ${bytes.length})`);
  };
  const header = () => {
    need(44);
    if (view.getUint32(pos) !== 0x545a6966) throw new TzifError('not a TZif file (no "TZif" magic)');
    const version = bytes[pos + 4]!;
    const counts = [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(pos + 20 + i * 4));
    pos += 44;
    const [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = counts as [number, number, number, number, number, number];
    if (typecnt === 0) throw new TzifError('no local time types');
    if (leapcnt > 0) throw new TzifError('the file counts leap seconds');
    return { version, isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt };
  };
  const block = (h: ReturnType<typeof header>, timeBytes: 4 | 8): Omit<TzifRules, 'footer'> => {
    const size = h.timecnt * timeBytes + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeBytes + 4) + h.isstdcnt + h.isutcnt;
    need(size);
    const transitionsSec = new Float64Array(h.timecnt);
    for (let i = 0; i < h.timecnt; i++) transitionsSec[i] = timeBytes === 8 ? Number(view.getBigInt64(pos + i * 8)) : view.getInt32(pos + i * 4);
    const indexAt = pos + h.timecnt * timeBytes;
    const typesAt = indexAt + h.timecnt;
    const typeOffset = (t: number) => {
      if (t >= h.typecnt) throw new TzifError(`time type ${t} of ${h.typecnt}`);
      return view.getInt32(typesAt + t * 6);
    };
    const offsetsSec = new Int32Array(h.timecnt);
    for (let i = 0; i < h.timecnt; i++) offsetsSec[i] = typeOffset(bytes[indexAt + i]!);
    for (let i = 1; i < h.timecnt; i++) if (!(transitionsSec[i]! > transitionsSec[i - 1]!)) throw new TzifError('transition times are not ascending');
    pos += size;
    return { transitionsSec, offsetsSec, initialOffsetSec: typeOffset(0) };
  };

  const first = header();
  const v1 = block(first, 4);
  if (first.version === 0) return { ...v1, footer: null };
  const v2 = block(header(), 8);
  need(1);
  if (bytes[pos] !== 0x0a) throw new TzifError('no footer');
  const end = bytes.indexOf(0x0a, pos + 1);
  if (end < 0) throw new TzifError('unterminated footer');
  const footer = parsePosixTz(new TextDecoder().decode(bytes.subarray(pos + 1, end)));
  return { ...v2, footer };
}

/** The offset of a zone at any instant from its TZif rules: the transitions, then the footer's rule after the last. */
export function offsetFnOf(rules: TzifRules): ZoneOffsetFn {
  const { transitionsSec: times, offsetsSec: offsets, initialOffsetSec, footer } = rules;
  const n = times.length;
  return (tsSec) => {
    if (n === 0 || tsSec < times[0]!) return n === 0 && footer !== null ? posixOffsetAt(footer, tsSec) : initialOffsetSec;
    if (tsSec >= times[n - 1]!) return footer !== null ? posixOffsetAt(footer, tsSec) : offsets[n - 1]!;
    let lo = 0;
    let hi = n - 1; // times[lo] <= ts < times[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= tsSec) lo = mid;
      else hi = mid;
    }
    return offsets[lo]!;
  };
}
