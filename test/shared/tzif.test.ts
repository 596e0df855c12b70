import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { offsetFnOf, parsePosixTz, parseTzif, posixOffsetAt, TzifError } from '../../src/shared/tzif.js';
import { zoneinfoAt } from '../../src/config/zoneinfo.js';
import { useZoneRules, zoneOffsetSec } from '../../src/shared/zoned-time.js';

const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0) => Date.UTC(y, m - 1, d, h, min, s) / 1000;

/** A TZif file as zic writes one (RFC 8536): a v1 block, and for version ≥ 2 a 64-bit block and the footer. */
function tzif(options: { version?: 0 | 2 | 3; transitions: number[]; types: number[]; indices: number[]; footer?: string; leap?: boolean }): Buffer {
  const { transitions, types, indices } = options;
  const chars = Buffer.from('LMT\0');
  const leapcnt = options.leap ? 1 : 0;
  const header = (version: number) => {
    const b = Buffer.alloc(44);
    b.write('TZif', 0, 'latin1');
    b[4] = version === 0 ? 0 : 0x30 + version;
    [0, 0, leapcnt, transitions.length, types.length, chars.length].forEach((n, i) => b.writeUInt32BE(n, 20 + i * 4));
    return b;
  };
  const block = (timeBytes: 4 | 8) => {
    const parts: Buffer[] = [];
    const times = Buffer.alloc(transitions.length * timeBytes);
    transitions.forEach((t, i) => (timeBytes === 8 ? times.writeBigInt64BE(BigInt(t), i * 8) : times.writeInt32BE(t, i * 4)));
    parts.push(times, Buffer.from(indices));
    for (const utoff of types) {
      const ttinfo = Buffer.alloc(6);
      ttinfo.writeInt32BE(utoff, 0);
      parts.push(ttinfo);
    }
    parts.push(chars);
    if (leapcnt) parts.push(Buffer.alloc(timeBytes + 4));
    return Buffer.concat(parts);
  };
  const version = options.version ?? 2;
  if (version === 0) return Buffer.concat([header(0), block(4)]);
  return Buffer.concat([header(version), block(4), header(version), block(8), Buffer.from(`\n${options.footer ?? ''}\n`)]);
}

describe('POSIX TZ rules (TZif footers)', () => {
  it('parses standard and daylight offsets east-positive, quoted names and the default daylight hour', () => {
    assert.deepEqual(parsePosixTz('<+0530>-5:30'), { stdOffsetSec: 19800, dst: null });
    assert.deepEqual(parsePosixTz('<-03>3'), { stdOffsetSec: -10800, dst: null });
    const berlin = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!;
    assert.equal(berlin.stdOffsetSec, 3600);
    assert.equal(berlin.dst!.offsetSec, 7200);
    assert.deepEqual(berlin.dst!.start, { kind: 'month', month: 3, week: 5, weekday: 0, timeSec: 7200 });
    assert.deepEqual(berlin.dst!.end, { kind: 'month', month: 10, week: 5, weekday: 0, timeSec: 10800 });
    assert.equal(parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0')!.dst!.offsetSec, 39600);
    assert.equal(parsePosixTz(''), null);
  });

  it('refuses what is not a TZ string, naming the part', () => {
    assert.throws(() => parsePosixTz('CET'), /no standard offset/);
    assert.throws(() => parsePosixTz('CET-1CEST'), /no daylight-time dates/);
    assert.throws(() => parsePosixTz('CET-1CEST,M13.5.0,M10.5.0'), /bad date rule "M13.5.0"/);
    assert.throws(() => parsePosixTz('CET-1CEST,J366,J300'), /Julian day 366/);
    assert.throws(() => parsePosixTz('X-1'), /no zone abbreviation/);
    assert.throws(() => parsePosixTz('CET-168'), /out of range/);
  });

  it('puts the EU changes on the last Sundays of March and October at 01:00 UTC', () => {
    const berlin = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!;
    assert.equal(posixOffsetAt(berlin, at(2031, 3, 30, 0, 59, 59)), 3600);
    assert.equal(posixOffsetAt(berlin, at(2031, 3, 30, 1)), 7200);
    assert.equal(posixOffsetAt(berlin, at(2031, 10, 26, 0, 59, 59)), 7200);
    assert.equal(posixOffsetAt(berlin, at(2031, 10, 26, 1)), 3600);
  });

  it('runs southern-hemisphere daylight time across the new year (Sydney, Lord Howe half hours)', () => {
    const sydney = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3')!;
    assert.equal(posixOffsetAt(sydney, at(2040, 1, 1)), 11 * 3600);
    assert.equal(posixOffsetAt(sydney, at(2040, 6, 1)), 10 * 3600);
    // First Sunday of October 2040 is the 7th: 02:00 AEST = 16:00 UTC on the 6th.
    assert.equal(posixOffsetAt(sydney, at(2040, 10, 6, 15, 59, 59)), 10 * 3600);
    assert.equal(posixOffsetAt(sydney, at(2040, 10, 6, 16)), 11 * 3600);
    const lordHowe = parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0')!;
    assert.equal(posixOffsetAt(lordHowe, at(2040, 1, 1)), 11 * 3600);
    assert.equal(posixOffsetAt(lordHowe, at(2040, 7, 1)), 10.5 * 3600);
  });

  it('reads Jn (no February 29), n (counting it), negative and over-24 h times, and daylight time all year', () => {
    // J60 is March 1 in every year; 59 (zero-based) is February 29 in a leap year.
    const julian1 = parsePosixTz('AAA0BBB,J60/0,J300/0')!;
    assert.equal(posixOffsetAt(julian1, at(2028, 2, 29, 23, 59, 59)), 0);
    assert.equal(posixOffsetAt(julian1, at(2028, 3, 1)), 3600);
    const julian0 = parsePosixTz('AAA0BBB,59/0,300/0')!;
    assert.equal(posixOffsetAt(julian0, at(2028, 2, 28, 23, 59, 59)), 0);
    assert.equal(posixOffsetAt(julian0, at(2028, 2, 29)), 3600);
    assert.equal(posixOffsetAt(julian0, at(2027, 3, 1)), 3600);
    // America/Nuuk: -02 with daylight time from the last Sunday of March at 22:00 the day before (-1 h).
    const nuuk = parsePosixTz('<-02>2<-01>,M3.5.0/-1,M10.5.0/0')!;
    assert.equal(posixOffsetAt(nuuk, at(2030, 3, 30, 23, 59, 59)), -7200);
    assert.equal(posixOffsetAt(nuuk, at(2030, 3, 31, 1)), -3600);
    const allYear = parsePosixTz('EST5EDT,0/0,J365/25')!;
    for (const t of [at(2030, 1, 1), at(2030, 1, 1, 5), at(2030, 7, 1), at(2030, 12, 31, 23)]) assert.equal(posixOffsetAt(allYear, t), -4 * 3600);
  });

  it('agrees with a day-by-day walk of the rule on random rules and instants', () => {
    const date = fc.oneof(
      fc.record({ kind: fc.constant('month' as const), month: fc.integer({ min: 1, max: 12 }), week: fc.integer({ min: 1, max: 5 }), weekday: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('julian1' as const), day: fc.integer({ min: 1, max: 365 }) }),
    );
    fc.assert(
      fc.property(date, date, fc.integer({ min: 0, max: 23 }), fc.integer({ min: -12, max: 12 }), fc.integer({ min: at(1990, 1, 1), max: at(2090, 1, 1) }), (start, end, hour, std, t) => {
        // Real rules keep their order every year: start and end well apart (a rule whose change dates cross from
        // one year to the next is read as its year's pair by POSIX, as a sequence of changes here).
        const approxDay = (d: typeof start) => (d.kind === 'month' ? (d.month - 1) * 30.4 + (d.week - 1) * 7 : d.day);
        const apart = Math.abs(approxDay(start) - approxDay(end));
        fc.pre(Math.min(apart, 365 - apart) >= 45);
        const text = (d: typeof start) => (d.kind === 'month' ? `M${d.month}.${d.week}.${d.weekday}` : `J${d.day}`);
        const rule = parsePosixTz(`<XXX>${-std}<YYY>,${text(start)}/${hour},${text(end)}/${hour}`)!;
        // Independent: the local calendar date of the instant in standard time, compared with each transition's date.
        const dayOf = (year: number, d: typeof start): number => {
          if (d.kind === 'julian1') {
            const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
            return Date.UTC(year, 0, 1) / 86400000 + d.day - 1 + (leap && d.day >= 60 ? 1 : 0);
          }
          const last = new Date(Date.UTC(year, d.month, 0)).getUTCDate();
          const days = [];
          for (let day = 1; day <= last; day++) if (new Date(Date.UTC(year, d.month - 1, day)).getUTCDay() === d.weekday) days.push(day);
          return Date.UTC(year, d.month - 1, days[Math.min(d.week, days.length) - 1]!) / 86400000;
        };
        const year = new Date((t + std * 3600) * 1000).getUTCFullYear();
        const startOf = (y: number) => dayOf(y, start) * 86400 + hour * 3600 - std * 3600;
        const endOf = (y: number) => dayOf(y, end) * 86400 + hour * 3600 - (std + 1) * 3600;
        const [startSec, endSec] = [startOf(year), endOf(year)];
        // Near a change (also one of the years either side, whose changes can fall across new year in UTC): the unit cases.
        if ([year - 1, year, year + 1].some((y) => Math.abs(t - startOf(y)) < 2 * 86400 || Math.abs(t - endOf(y)) < 2 * 86400)) return;
        const inDst = startSec < endSec ? t >= startSec && t < endSec : !(t >= endSec && t < startSec);
        assert.equal(posixOffsetAt(rule, t), (std + (inDst ? 1 : 0)) * 3600);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('TZif files', () => {
  it('gives the offset of the last transition at or before an instant, type 0 before the first, and the footer after the last', () => {
    const bytes = tzif({ transitions: [at(1990, 1, 1), at(2000, 1, 1)], types: [100, 3600, 7200], indices: [1, 2], footer: '<+03>-3' });
    const offset = offsetFnOf(parseTzif(bytes));
    assert.equal(offset(at(1980, 1, 1)), 100);
    assert.equal(offset(at(1990, 1, 1) - 1), 100);
    assert.equal(offset(at(1990, 1, 1)), 3600);
    assert.equal(offset(at(1999, 12, 31)), 3600);
    assert.equal(offset(at(2000, 1, 2)), 3 * 3600, 'after the last transition the footer decides');
  });

  it('a version 1 file (no footer) keeps its last offset for ever; a file of no transitions follows its footer', () => {
    assert.equal(offsetFnOf(parseTzif(tzif({ version: 0, transitions: [at(1990, 1, 1)], types: [0, -18000], indices: [1] })))(at(2100, 1, 1)), -18000);
    const ruleOnly = offsetFnOf(parseTzif(tzif({ transitions: [], types: [3600], indices: [], footer: 'CET-1CEST,M3.5.0,M10.5.0/3' })));
    assert.equal(ruleOnly(at(2030, 7, 1)), 7200);
    assert.equal(ruleOnly(at(2030, 1, 1)), 3600);
  });

  it('refuses a file that is not TZif, is cut short, counts leap seconds or has transitions out of order', () => {
    const good = tzif({ transitions: [at(1990, 1, 1)], types: [0, 3600], indices: [1], footer: '' });
    assert.throws(() => parseTzif(Buffer.from('not a zone file at all, but long enough to have a header of 44 bytes')), (e) => e instanceof TzifError && /no "TZif" magic/.test(e.message));
    assert.throws(() => parseTzif(good.subarray(0, 60)), /truncated/);
    assert.throws(() => parseTzif(good.subarray(0, good.length - 1)), /unterminated footer/);
    assert.throws(() => parseTzif(tzif({ transitions: [], types: [0], indices: [], leap: true })), /leap seconds/);
    assert.throws(() => parseTzif(tzif({ transitions: [at(2000, 1, 1), at(1990, 1, 1)], types: [0, 3600], indices: [1, 0] })), /not ascending/);
    assert.throws(() => parseTzif(tzif({ transitions: [at(2000, 1, 1)], types: [0], indices: [3] })), /time type 3 of 1/);
  });
});

const SYSTEM_ZONES = fs.existsSync('/usr/share/zoneinfo/Europe/Berlin') ? null : 'no /usr/share/zoneinfo (Debian package tzdata)';

describe('the system zoneinfo files against Intl', { skip: SYSTEM_ZONES ?? false }, () => {
  it('give the offsets Intl gives, for zones whose rules have not changed since 2000, hourly over 2000–2024 and yearly to 2100', () => {
    // Zones of every kind (DST north and south, half and quarter hours, none); both sides read the IANA database,
    // of possibly different releases, so only zones without recent changes are compared.
    const zones = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/St_Johns', 'Australia/Sydney', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'Etc/GMT+5'];
    const zoneinfo = zoneinfoAt('/usr/share/zoneinfo');
    useZoneRules(null);
    for (const zone of zones) {
      const ours = zoneinfo.rules(zone);
      assert.ok(ours, `${zone} is in the zoneinfo tree`);
      const intlOffset = (t: number) => zoneOffsetSec(t, zone); // no source given: Intl's answer
      for (let t = at(2000, 1, 1); t < at(2025, 1, 1); t += 3600) if (ours(t) !== intlOffset(t)) assert.fail(`${zone} at ${new Date(t * 1000).toISOString()}: ${ours(t)} s, Intl ${intlOffset(t)} s`);
      for (let y = 2025; y <= 2100; y++) for (const t of [at(y, 1, 15), at(y, 7, 15)]) assert.equal(ours(t), intlOffset(t), `${zone} in ${y}`);
    }
  });
});
