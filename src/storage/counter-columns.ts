import { COUNTER_FIELDS, type CounterField, type RawCounters } from '../collector/counter-source.js';

/** Column names of the counters, in COUNTER_FIELDS order. */
export const COUNTER_COLUMNS = [
  'rx_bytes',
  'tx_bytes',
  'rx_packets',
  'tx_packets',
  'rx_errors',
  'tx_errors',
  'rx_drops',
  'tx_drops',
] as const;

export type CounterColumn = (typeof COUNTER_COLUMNS)[number];

export const COLUMN_OF: Record<CounterField, CounterColumn> = {
  rxBytes: 'rx_bytes',
  txBytes: 'tx_bytes',
  rxPackets: 'rx_packets',
  txPackets: 'tx_packets',
  rxErrors: 'rx_errors',
  txErrors: 'tx_errors',
  rxDrops: 'rx_drops',
  txDrops: 'tx_drops',
};

export type CounterRow = Record<CounterColumn, bigint>;

export function countersToParams(c: RawCounters): bigint[] {
  return COUNTER_FIELDS.map((f) => c[f]);
}

export function rowToCounters(row: Record<CounterColumn, bigint | number | string>): RawCounters {
  const out = {} as RawCounters;
  for (const f of COUNTER_FIELDS) out[f] = BigInt(row[COLUMN_OF[f]]);
  return out;
}

export const ZERO_COUNTERS: Readonly<RawCounters> = Object.freeze({
  rxBytes: 0n,
  txBytes: 0n,
  rxPackets: 0n,
  txPackets: 0n,
  rxErrors: 0n,
  txErrors: 0n,
  rxDrops: 0n,
  txDrops: 0n,
});

export function addCounters(a: RawCounters, b: RawCounters): RawCounters {
  const out = {} as RawCounters;
  for (const f of COUNTER_FIELDS) out[f] = a[f] + b[f];
  return out;
}
