import type { RawCounters } from './counter-source.js';

/**
 * Parser for Linux /proc/net/dev. The kernel prints one line per interface:
 *
 *   "%6s: %7llu %7llu %4llu …"   (name right-aligned to 6, then 16 unsigned 64-bit counters)
 *
 *   rx: bytes packets errs drop fifo frame compressed multicast
 *   tx: bytes packets errs drop fifo colls carrier compressed
 *
 * Older kernels printed "%6s:%8llu", so a wide counter can be glued to the colon
 * ("  eth0:18446744073709551615 …"). The name is everything before the last ':' of the line (the
 * counters never contain one), with the alignment padding trimmed.
 *
 * A line is an interface when, after that colon, it holds exactly 16 unsigned decimal columns (ASCII
 * digits, none above 2^64-1) separated by whitespace, with optional whitespace around them; whitespace is
 * what a regular expression's \s matches. Lines are scanned by hand (no regular expression, no split): the
 * parser runs at every poll.
 */

/** One interface line: the name as printed (padding trimmed) and the eight counters Net-Pulse keeps. */
export interface NetDevEntry {
  readonly name: string;
  readonly counters: RawCounters;
}

const U64_MAX_DIGITS = '18446744073709551615';
/** Up to 15 digits a double holds exactly (< 2^53); longer runs go through BigInt(text). */
const SAFE_DIGITS = 15;
/** The columns kept, in RawCounters order: rx bytes, packets, errs, drop; tx bytes, packets, errs, drop. */
const KEPT_COLUMNS = [0, 1, 2, 3, 8, 9, 10, 11] as const;
const NOT_KEPT = -1;
/** Column number → its slot among the kept ones, or NOT_KEPT. */
const SLOT_OF_COLUMN: readonly number[] = Array.from({ length: 16 }, (_, column) => (KEPT_COLUMNS as readonly number[]).indexOf(column));

/** The characters a regular expression's \s matches (WhiteSpace and LineTerminator), as char codes. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * The kept columns of the line being parsed, in slot order: the value when it has at most 15 digits, else
 * LONG and the value in `long`. Reused from line to line (no allocation per column).
 */
interface ColumnValues {
  numbers: Float64Array;
  long: bigint[];
}

/** Marks a column of 16 to 20 digits in ColumnValues.numbers; never a column's value. */
const LONG = -1;

/**
 * Reads the 16 columns of text[from, end) and puts the 8 kept ones in `values`. False when the text is not
 * exactly 16 unsigned 64-bit decimal columns.
 */
function readColumns(text: string, from: number, end: number, values: ColumnValues): boolean {
  let i = from;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  for (let column = 0; column < 16; column++) {
    const start = i;
    let value = 0;
    let code = 0;
    while (i < end && (code = text.charCodeAt(i)) >= 0x30 && code <= 0x39) {
      value = value * 10 + (code - 0x30);
      i++;
    }
    const digits = i - start;
    if (digits === 0) return false;
    const slot = SLOT_OF_COLUMN[column] as number;
    if (digits <= SAFE_DIGITS) {
      if (slot !== NOT_KEPT) values.numbers[slot] = value;
    } else {
      // Leading zeros never occur in kernel output; a 20-digit value must not exceed 2^64-1.
      if (digits > U64_MAX_DIGITS.length) return false;
      if (digits === U64_MAX_DIGITS.length || slot !== NOT_KEPT) {
        const run = text.slice(start, i);
        if (digits === U64_MAX_DIGITS.length && run > U64_MAX_DIGITS) return false;
        if (slot !== NOT_KEPT) {
          values.numbers[slot] = LONG;
          values.long[slot] = BigInt(run);
        }
      }
    }
    // Columns are separated by whitespace; after the last one only whitespace may follow.
    const gap = i;
    while (i < end && ((code = text.charCodeAt(i)) === 0x20 || isSpace(code))) i++;
    if (column < 15 ? i === gap : i !== end) return false;
  }
  return true;
}

/** text[from, to) trimmed; null when empty or when whitespace remains inside (not a name). */
function readName(text: string, from: number, to: number): string | null {
  let start = from;
  let end = to;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return null;
  for (let i = start; i < end; i++) if (isSpace(text.charCodeAt(i))) return null;
  return text.slice(start, end);
}

/** One line of the text as last parsed. */
interface ParsedLine {
  /** The line as read, without its '\n'. */
  text: string;
  /** null when the line is not an interface line (headers, malformed lines). */
  entry: NetDevEntry | null;
  /** The kept columns' values where they have at most 15 digits, else LONG (in slot order). */
  values: readonly number[] | null;
}

function notAnInterface(text: string): ParsedLine {
  return { text, entry: null, values: null };
}

/**
 * The line text[from, end) (`line`), whose last colon is at `colon` (-1: none). `previous`, the line at the
 * same position last time, lends its bigints to the columns that kept their value when it is the same
 * interface's.
 */
function parseLine(text: string, from: number, end: number, colon: number, line: string, values: ColumnValues, previous: ParsedLine | undefined): ParsedLine {
  if (colon < 0) return notAnInterface(line);
  const name = readName(text, from, colon);
  if (name === null || !readColumns(text, colon + 1, end, values)) return notAnInterface(line);
  const same = previous !== undefined && previous.entry !== null && previous.entry.name === name ? previous : undefined;
  const before = same === undefined ? NO_VALUES : (same.values as readonly number[]);
  const counters = same === undefined ? NO_COUNTERS : (same.entry as NetDevEntry).counters;
  const n = values.numbers;
  return {
    text: line,
    entry: {
      name,
      counters: {
        rxBytes: keep(values, 0, before, counters.rxBytes),
        txBytes: keep(values, 4, before, counters.txBytes),
        rxPackets: keep(values, 1, before, counters.rxPackets),
        txPackets: keep(values, 5, before, counters.txPackets),
        rxErrors: keep(values, 2, before, counters.rxErrors),
        txErrors: keep(values, 6, before, counters.txErrors),
        rxDrops: keep(values, 3, before, counters.rxDrops),
        txDrops: keep(values, 7, before, counters.txDrops),
      },
    },
    values: [n[0] as number, n[1] as number, n[2] as number, n[3] as number, n[4] as number, n[5] as number, n[6] as number, n[7] as number],
  };
}

/** A kept column's bigint: the previous line's when the column kept its (up to 15-digit) value. */
function keep(values: ColumnValues, slot: number, before: readonly number[], previous: bigint): bigint {
  const value = values.numbers[slot] as number;
  if (value === LONG) return values.long[slot] as bigint;
  return value === before[slot] ? previous : BigInt(value);
}

/** No previous line: no value equals these, so every bigint is made (NO_COUNTERS' are never used). */
const NO_VALUES: readonly number[] = [LONG, LONG, LONG, LONG, LONG, LONG, LONG, LONG];
const NO_COUNTERS: RawCounters = { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n };

/**
 * A /proc/net/dev parser for repeated reads of the same file. It remembers the previous text line by line:
 * a line that reads exactly as the line at the same position did last time gives the same entry (the same
 * RawCounters object) again, without parsing or making a bigint; a changed line is parsed, and its columns
 * that kept their value reuse the previous bigints. The entries are exactly parseProcNetDev's.
 */
export interface ProcNetDevParser {
  /** The interface lines of `text` in file order, each name once (its first line); do not modify. */
  parse(text: string): readonly NetDevEntry[];
}

export function createProcNetDevParser(): ProcNetDevParser {
  let previousText: string | null = null;
  let previousLines: ParsedLine[] = [];
  let previousEntries: readonly NetDevEntry[] = [];
  const values: ColumnValues = { numbers: new Float64Array(KEPT_COLUMNS.length), long: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] };
  const seen = new Set<string>();

  return {
    parse(text) {
      if (text === previousText) return previousEntries;
      const lines: ParsedLine[] = [];
      const entries: NetDevEntry[] = [];
      seen.clear();
      // The first ':' at or after an earlier line's start (Infinity: none left). A line holds a colon only
      // when this lies before its end, and then the search back from its end stops within the line: the
      // searches cover the text about once, whatever its lines hold.
      let colonAhead = -1;
      let from = 0;
      for (let index = 0; from <= text.length; index++) {
        let end = text.indexOf('\n', from);
        if (end < 0) end = text.length;
        const lineText = text.slice(from, end);
        const before = previousLines[index];
        let line: ParsedLine;
        if (before !== undefined && before.text === lineText) {
          line = before;
        } else {
          if (colonAhead < from) {
            colonAhead = text.indexOf(':', from);
            if (colonAhead < 0) colonAhead = Infinity;
          }
          const colon = colonAhead < end ? text.lastIndexOf(':', end - 1) : -1;
          line = parseLine(text, from, end, colon, lineText, values, before);
        }
        lines.push(line);
        const entry = line.entry;
        if (entry !== null && !seen.has(entry.name)) {
          seen.add(entry.name);
          entries.push(entry);
        }
        from = end + 1;
      }
      previousText = text;
      previousLines = lines;
      previousEntries = entries;
      return entries;
    },
  };
}

/**
 * Reads the counters of every interface listed in the text of /proc/net/dev, in the order listed.
 * Lines that are not a name followed by 16 unsigned 64-bit integers are skipped, never thrown on; a
 * name listed twice keeps its first line. Names are returned as printed: checking them
 * (isValidInterfaceName) is the caller's job before they go near a path.
 */
export function parseProcNetDev(text: string): Map<string, RawCounters> {
  const result = new Map<string, RawCounters>();
  for (const { name, counters } of createProcNetDevParser().parse(text)) result.set(name, counters);
  return result;
}
