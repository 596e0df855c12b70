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
 */

/** 16 unsigned decimal columns (8 receive, 8 transmit), nothing else, after the name's colon. */
const COUNTER_COLUMNS = new RegExp(`^\\s*(\\d+)${'\\s+(\\d+)'.repeat(15)}\\s*$`);
const U64_MAX_DIGITS = '18446744073709551615';
const WHITESPACE = /\s/;

function exceedsU64(digits: string): boolean {
  // Leading zeros never occur in kernel output; a 20-digit value must not exceed 2^64-1.
  return digits.length > U64_MAX_DIGITS.length || (digits.length === U64_MAX_DIGITS.length && digits > U64_MAX_DIGITS);
}

/** Parses one interface line, or returns null when the line is not one (headers, malformed lines). */
function parseLine(line: string): [string, RawCounters] | null {
  const colon = line.lastIndexOf(':');
  if (colon < 0) return null;
  const name = line.slice(0, colon).trim();
  if (name === '' || WHITESPACE.test(name)) return null;
  const columns = COUNTER_COLUMNS.exec(line.slice(colon + 1));
  if (columns === null) return null;
  for (let i = 1; i <= 16; i++) if (exceedsU64(columns[i] as string)) return null;
  const at = (column: number): bigint => BigInt(columns[column + 1] as string);
  return [
    name,
    {
      rxBytes: at(0),
      rxPackets: at(1),
      rxErrors: at(2),
      rxDrops: at(3),
      txBytes: at(8),
      txPackets: at(9),
      txErrors: at(10),
      txDrops: at(11),
    },
  ];
}

/**
 * Reads the counters of every interface listed in the text of /proc/net/dev, in the order listed.
 * Lines that are not a name followed by 16 unsigned 64-bit integers are skipped, never thrown on; a
 * name listed twice keeps its first line. Names are returned as printed: checking them
 * (isValidInterfaceName) is the caller's job before they go near a path.
 */
export function parseProcNetDev(text: string): Map<string, RawCounters> {
  const result = new Map<string, RawCounters>();
  for (const line of text.split('\n')) {
    const parsed = parseLine(line);
    if (parsed !== null && !result.has(parsed[0])) result.set(parsed[0], parsed[1]);
  }
  return result;
}
