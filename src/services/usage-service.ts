/**
 * Usage accounting (issue #5, after PacketBuddy and vnStat): day, month and year totals of one interface or
 * of the "total", in the configured time zone, with billing months that start on day N (1–28) at local
 * midnight, and the vnStat estimate of the current period (so far × length / elapsed).
 *
 * Everything is built from calendar days: the day tier (traffic_1d) already holds local days, a month or a
 * year is a run of them. Periods are computed on civil dates ("day numbers", days since 1970-01-01), and
 * only turned into instants at the edges, with zonedDayStart — so a DST day is 23 or 25 hours long, and a
 * +05:30 zone's day starts at 18:30 UTC, without any special case here.
 *
 * The "total" is PacketBuddy's inclusive sum over physical-looking interfaces: those with stored traffic
 * whose kind is ethernet, wireless or other. Loopback, container, tunnel, bridge and virtual interfaces are
 * left out: their traffic also crosses (or never leaves) a physical one, so counting them would count it
 * twice. NETPULSE_USAGE_INTERFACES replaces the rule (Beszel's NICS syntax: `-name` excludes, `*` globs).
 */
import { classifyInterface } from '../collector/classify.js';
import { applyInterfaceFilter, matchesPattern } from '../collector/interface-filter.js';
import type { InterfaceKind, InterfaceMeta } from '../collector/counter-source.js';
import type { ByteUnits } from '../config/config.js';
import { zonedDate, zonedDayStart, zonedParts } from '../shared/zoned-time.js';
import type { TrafficRepo } from '../storage/traffic-repo.js';

export type UsagePeriod = 'day' | 'month' | 'year';
export const USAGE_PERIODS: readonly UsagePeriod[] = ['day', 'month', 'year'];

/** Kinds summed into the total by default. */
export const TOTAL_KINDS: ReadonlySet<InterfaceKind> = new Set<InterfaceKind>(['ethernet', 'wireless', 'other']);

/** The current period gets an estimate only once this much of it has passed (vnStat waits too). */
export const ESTIMATE_MIN_ELAPSED_SEC = 3600;

const DAY_MS = 86_400_000;
const MAX_SEC = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------------------
// Civil dates

export interface CivilDate {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
}

/** Days since 1970-01-01 of a calendar date; month and day may overflow (month 13 is next January). */
export function dayNumberOf(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / DAY_MS);
}

export function civilOfDayNumber(n: number): CivilDate {
  const d = new Date(n * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function isoDateOf(n: number): string {
  const c = civilOfDayNumber(n);
  return `${String(c.year).padStart(4, '0')}-${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}`;
}

export function dayNumberOfIso(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m === null) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return dayNumberOf(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The local calendar day (as a day number) that contains the instant. */
export function localDayNumber(tsSec: number, timeZone: string): number {
  const p = zonedParts(tsSec, timeZone);
  return dayNumberOf(p.year, p.month, p.day);
}

/** Local midnight (unix seconds) of a day number in the zone. */
export function dayStartSec(dayNumber: number, timeZone: string): number {
  const c = civilOfDayNumber(dayNumber);
  return zonedDayStart(c.year, c.month, c.day, timeZone);
}

// ---------------------------------------------------------------------------------------------------------
// Periods

/** A period as calendar days [start, end) with its label: 2025-03-15, 2025-03 (the month it starts in), 2025. */
export interface PeriodDays {
  start: number;
  end: number;
  label: string;
}

/**
 * The period that contains a day. A billing month starting on day N runs from the N-th of one month to the
 * N-th of the next; the month it is labelled with is the one it starts in. Years are calendar years (as in
 * vnStat; the month start day does not move them).
 */
export function periodContaining(day: number, period: UsagePeriod, monthStartDay: number): PeriodDays {
  if (period === 'day') return { start: day, end: day + 1, label: isoDateOf(day) };
  const c = civilOfDayNumber(day);
  if (period === 'year') return { start: dayNumberOf(c.year, 1, 1), end: dayNumberOf(c.year + 1, 1, 1), label: String(c.year).padStart(4, '0') };
  const month = c.day >= monthStartDay ? c.month : c.month - 1;
  const start = dayNumberOf(c.year, month, monthStartDay);
  const s = civilOfDayNumber(start);
  return { start, end: dayNumberOf(s.year, s.month + 1, monthStartDay), label: `${String(s.year).padStart(4, '0')}-${String(s.month).padStart(2, '0')}` };
}

/** The `limit` periods up to and including the one that contains nowSec, newest first. */
export function recentPeriods(opts: { period: UsagePeriod; monthStartDay: number; timeZone: string; nowSec: number; limit: number }): PeriodDays[] {
  const out: PeriodDays[] = [];
  let p = periodContaining(localDayNumber(opts.nowSec, opts.timeZone), opts.period, opts.monthStartDay);
  while (out.length < opts.limit) {
    out.push(p);
    p = periodContaining(p.start - 1, opts.period, opts.monthStartDay);
  }
  return out;
}

/**
 * vnStat's estimate of a period's total: what passed so far, scaled to the whole period. null until
 * ESTIMATE_MIN_ELAPSED_SEC has passed (an hour's traffic says little about a month).
 */
export function estimateTotal(soFar: bigint, elapsedSec: number, lengthSec: number): bigint | null {
  if (elapsedSec < ESTIMATE_MIN_ELAPSED_SEC) return null;
  if (elapsedSec >= lengthSec) return soFar;
  return (soFar * BigInt(Math.round(lengthSec))) / BigInt(Math.round(elapsedSec));
}

// ---------------------------------------------------------------------------------------------------------
// Rows

/** One calendar day's bytes (summed over the interfaces asked for). */
export interface DayTotal {
  /** YYYY-MM-DD, local to the device that counted it. */
  day: string;
  rxBytes: bigint;
  txBytes: bigint;
}

export interface UsageRow {
  label: string;
  /** First day and the day after the last, YYYY-MM-DD. */
  startDate: string;
  endDate: string;
  /** Local midnights, unix seconds. */
  startSec: number;
  endSec: number;
  rxBytes: bigint;
  txBytes: bigint;
  /** The period that contains now. */
  current: boolean;
  /** Only on the current period (null before ESTIMATE_MIN_ELAPSED_SEC): the period's projected totals. */
  estimate: { rxBytes: bigint; txBytes: bigint } | null;
}

/** Where day totals come from: this instance's SQLite, or PostgreSQL for other devices. */
export interface DaySource {
  /** Day totals for days in [fromDay, toDay) (YYYY-MM-DD). */
  days(fromDay: string, toDay: string): Promise<DayTotal[]>;
  /** The first day with stored traffic, or null when there is none. */
  oldestDay(): Promise<string | null>;
}

/** Several sources as one (this instance's local days plus the other devices' from PostgreSQL). */
export function combineDaySources(sources: readonly DaySource[]): DaySource {
  return {
    async days(fromDay, toDay) {
      return (await Promise.all(sources.map((s) => s.days(fromDay, toDay)))).flat();
    },
    async oldestDay() {
      const all = (await Promise.all(sources.map((s) => s.oldestDay()))).filter((d): d is string => d !== null);
      return all.length === 0 ? null : all.sort()[0]!;
    },
  };
}

/**
 * Sums days into periods (newest first). Periods that end before the oldest stored day are left out: no
 * data, not zero traffic. The current period always stays, with its estimate.
 */
export function fillUsageRows(periods: readonly PeriodDays[], days: readonly DayTotal[], opts: { timeZone: string; nowSec: number; oldestDay: string | null }): UsageRow[] {
  const today = localDayNumber(opts.nowSec, opts.timeZone);
  const oldest = opts.oldestDay === null ? today : Math.min(today, dayNumberOfIso(opts.oldestDay));
  const kept = periods.filter((p, i) => i === 0 || p.end > oldest);
  const rows: UsageRow[] = kept.map((p) => ({
    label: p.label,
    startDate: isoDateOf(p.start),
    endDate: isoDateOf(p.end),
    startSec: dayStartSec(p.start, opts.timeZone),
    endSec: dayStartSec(p.end, opts.timeZone),
    rxBytes: 0n,
    txBytes: 0n,
    current: p.start <= today && today < p.end,
    estimate: null,
  }));
  for (const d of days) {
    const n = dayNumberOfIso(d.day);
    const i = kept.findIndex((p) => p.start <= n && n < p.end);
    if (i < 0) continue;
    rows[i]!.rxBytes += d.rxBytes;
    rows[i]!.txBytes += d.txBytes;
  }
  for (const r of rows) {
    if (!r.current) continue;
    const elapsed = opts.nowSec - r.startSec;
    const length = r.endSec - r.startSec;
    const rx = estimateTotal(r.rxBytes, elapsed, length);
    const tx = estimateTotal(r.txBytes, elapsed, length);
    r.estimate = rx === null || tx === null ? null : { rxBytes: rx, txBytes: tx };
  }
  return rows;
}

/** Rows of one kind of period from a day source, newest first. */
export async function usageRows(
  source: DaySource,
  opts: { period: UsagePeriod; monthStartDay: number; timeZone: string; nowSec: number; limit: number },
): Promise<UsageRow[]> {
  const periods = recentPeriods(opts);
  const from = periods.at(-1)!.start;
  const to = periods[0]!.end;
  const [days, oldestDay] = await Promise.all([source.days(isoDateOf(from), isoDateOf(to)), source.oldestDay()]);
  return fillUsageRows(periods, days, { timeZone: opts.timeZone, nowSec: opts.nowSec, oldestDay });
}

/** vnStat's summary: today, yesterday, this month (with its estimate), last month, all time. */
export interface UsageSummary {
  today: UsageRow;
  yesterday: UsageRow | null;
  thisMonth: UsageRow;
  lastMonth: UsageRow | null;
  allTime: { rxBytes: bigint; txBytes: bigint; since: string | null };
}

export async function usageSummary(source: DaySource, opts: { monthStartDay: number; timeZone: string; nowSec: number }): Promise<UsageSummary> {
  const [days, months, oldestDay] = await Promise.all([
    usageRows(source, { ...opts, period: 'day', limit: 2 }),
    usageRows(source, { ...opts, period: 'month', limit: 2 }),
    source.oldestDay(),
  ]);
  const all = oldestDay === null ? [] : await source.days(oldestDay, isoDateOf(localDayNumber(opts.nowSec, opts.timeZone) + 2));
  const allTime = { rxBytes: 0n, txBytes: 0n, since: oldestDay };
  for (const d of all) {
    allTime.rxBytes += d.rxBytes;
    allTime.txBytes += d.txBytes;
  }
  return { today: days[0]!, yesterday: days[1] ?? null, thisMonth: months[0]!, lastMonth: months[1] ?? null, allTime };
}

// ---------------------------------------------------------------------------------------------------------
// The total's interfaces

export { matchesPattern };

/**
 * The interfaces the total sums, out of those with stored traffic. Without a filter: the TOTAL_KINDS. With
 * one: its plain entries (if any) pick the interfaces instead of the kinds, and `-` entries are taken away.
 */
export function selectTotalInterfaces(names: Iterable<string>, kindOf: (name: string) => InterfaceKind, filter: readonly string[] | null): string[] {
  return applyInterfaceFilter(names, filter, (n) => TOTAL_KINDS.has(kindOf(n)));
}

/** An interface's kind from its name alone (for interfaces that are gone but have stored traffic). */
export function kindFromName(name: string): InterfaceKind {
  return classifyInterface({ name, linkType: null, isLoopback: false, isWireless: false, isBridge: false, isTunTap: false, isVirtual: false });
}

// ---------------------------------------------------------------------------------------------------------
// Units

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 1234567890n → "1.23 GB" (decimal) or "1.15 GiB" (binary). Exact below 1000 (1024) bytes. */
export function formatBytes(bytes: bigint | number, units: ByteUnits, digits = 2): string {
  const base = units === 'binary' ? 1024 : 1000;
  const names = units === 'binary' ? BINARY_UNITS : DECIMAL_UNITS;
  let value = Number(bytes);
  let i = 0;
  while (Math.abs(value) >= base && i < names.length - 1) {
    value /= base;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${value.toFixed(digits)} ${names[i]}`;
}

const SIZE_FACTORS: Record<string, bigint> = {
  b: 1n,
  kb: 10n ** 3n,
  mb: 10n ** 6n,
  gb: 10n ** 9n,
  tb: 10n ** 12n,
  pb: 10n ** 15n,
  kib: 2n ** 10n,
  mib: 2n ** 20n,
  gib: 2n ** 30n,
  tib: 2n ** 40n,
  pib: 2n ** 50n,
};

/** "1 TB", "500GB", "1.5 TiB", "1000000" → bytes (GB is 10^9, GiB 2^30); null when not a size. */
export function parseByteSize(text: string): bigint | null {
  const m = /^\s*(\d{1,15})(?:\.(\d{1,6}))?\s*([kmgtp]i?b|b)?\s*$/i.exec(text);
  if (m === null) return null;
  const factor = SIZE_FACTORS[(m[3] ?? 'b').toLowerCase()];
  if (factor === undefined) return null;
  const fraction = m[2] ?? '';
  const scaled = BigInt(m[1]! + fraction) * factor;
  return scaled / 10n ** BigInt(fraction.length);
}

// ---------------------------------------------------------------------------------------------------------
// The service (this instance's data)

export interface UsageServiceDeps {
  traffic: TrafficRepo;
  timezone: string;
  /** The effective billing month start day (NETPULSE_MONTH_START_DAY, else the stored setting, else 1). */
  monthStartDay: () => number;
  /** Where that day comes from (for the API). */
  monthStartDaySource?: () => 'env' | 'config' | 'default';
  /** NETPULSE_USAGE_INTERFACES, or null for the default kinds. */
  interfaceFilter: readonly string[] | null;
  /** Interface metadata (kinds); the counter source's listInterfaces. */
  listInterfaces: () => Promise<InterfaceMeta[]>;
  now: () => number;
}

export interface UsageService {
  readonly timezone: string;
  monthStartDay(): number;
  monthStartDaySource(): 'env' | 'config' | 'default';
  /** Interfaces with stored day totals. */
  storedInterfaces(): string[];
  /** The interfaces the total sums (see the file comment). */
  totalInterfaces(): Promise<string[]>;
  /** This instance's day totals of the given interfaces. */
  daySource(interfaces: readonly string[]): DaySource;
  /** Rows of one kind of period for an interface, or the total when interfaceName is null. */
  rows(q: { period: UsagePeriod; interfaceName: string | null; limit: number }): Promise<{ interfaces: string[]; rows: UsageRow[] }>;
  summary(interfaceName: string | null): Promise<{ interfaces: string[]; summary: UsageSummary }>;
  /** Called after each stored poll with the interfaces that had traffic: new ones join the candidates. */
  noteInterfaces(names: Iterable<string>): void;
}

const KIND_REFRESH_MS = 5 * 60_000;
const STORED_REFRESH_MS = 60_000;

export function createUsageService(deps: UsageServiceDeps): UsageService {
  const tz = deps.timezone;
  let kinds = new Map<string, InterfaceKind>();
  let kindsAt = -Infinity;
  let stored: Set<string> | null = null;
  let storedAt = -Infinity;

  async function refreshKinds(): Promise<void> {
    if (deps.now() - kindsAt < KIND_REFRESH_MS) return;
    kindsAt = deps.now();
    try {
      kinds = new Map((await deps.listInterfaces()).map((m) => [m.name, m.kind]));
    } catch {
      // Keep what we had; names decide for the rest.
    }
  }

  function storedInterfaces(): string[] {
    if (stored === null || deps.now() - storedAt > STORED_REFRESH_MS) {
      stored = new Set(deps.traffic.sumByInterface('traffic_1d', null, 0, MAX_SEC).map((r) => r.interface_name));
      storedAt = deps.now();
    }
    return [...stored].sort();
  }

  function daySource(interfaces: readonly string[]): DaySource {
    return {
      async days(fromDay, toDay) {
        if (interfaces.length === 0) return [];
        const fromSec = dayStartSec(dayNumberOfIso(fromDay), tz);
        const toSec = dayStartSec(dayNumberOfIso(toDay), tz);
        return deps.traffic.sumByBucket('traffic_1d', interfaces, fromSec, toSec).map((b) => ({
          day: zonedDate(Number(b.bucket_start), tz),
          rxBytes: BigInt(b.rx_bytes),
          txBytes: BigInt(b.tx_bytes),
        }));
      },
      async oldestDay() {
        if (interfaces.length === 0) return null;
        const first = deps.traffic.sumByBucket('traffic_1d', interfaces, 0, MAX_SEC)[0];
        return first === undefined ? null : zonedDate(Number(first.bucket_start), tz);
      },
    };
  }

  async function totalInterfaces(): Promise<string[]> {
    await refreshKinds();
    return selectTotalInterfaces(storedInterfaces(), (n) => kinds.get(n) ?? kindFromName(n), deps.interfaceFilter);
  }

  async function interfacesFor(interfaceName: string | null): Promise<string[]> {
    return interfaceName === null ? totalInterfaces() : [interfaceName];
  }

  return {
    timezone: tz,
    monthStartDay: deps.monthStartDay,
    monthStartDaySource: deps.monthStartDaySource ?? (() => 'default'),
    storedInterfaces,
    totalInterfaces,
    daySource,
    async rows({ period, interfaceName, limit }) {
      const interfaces = await interfacesFor(interfaceName);
      const rows = await usageRows(daySource(interfaces), { period, limit, monthStartDay: deps.monthStartDay(), timeZone: tz, nowSec: Math.floor(deps.now() / 1000) });
      return { interfaces, rows };
    },
    async summary(interfaceName) {
      const interfaces = await interfacesFor(interfaceName);
      const summary = await usageSummary(daySource(interfaces), { monthStartDay: deps.monthStartDay(), timeZone: tz, nowSec: Math.floor(deps.now() / 1000) });
      return { interfaces, summary };
    },
    noteInterfaces(names) {
      if (stored === null) return;
      for (const n of names) stored.add(n);
    },
  };
}

/**
 * The usage service as the configuration describes it: the server and `netpulse usage` build it the same way.
 * monthStartDay is the stored/env billing-day setting (alerts-service's createMonthStartDaySetting).
 */
export function createConfiguredUsageService(deps: {
  traffic: UsageServiceDeps['traffic'];
  config: { timezone: string; usage: { interfaces: UsageServiceDeps['interfaceFilter'] } };
  monthStartDay: { get: UsageServiceDeps['monthStartDay']; source: UsageServiceDeps['monthStartDaySource'] };
  source: { listInterfaces(): Promise<InterfaceMeta[]> };
  now: () => number;
}): UsageService {
  return createUsageService({
    traffic: deps.traffic,
    timezone: deps.config.timezone,
    monthStartDay: deps.monthStartDay.get,
    monthStartDaySource: deps.monthStartDay.source,
    interfaceFilter: deps.config.usage.interfaces,
    listInterfaces: () => deps.source.listInterfaces(),
    now: deps.now,
  });
}
