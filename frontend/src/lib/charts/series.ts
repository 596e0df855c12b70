/**
 * Traffic buckets → what the chart and the totals show. A bucket's rate is its bytes over its length
 * (the bucket still in progress: over the part that has passed). Null totals stay null: the chart
 * draws a gap there, never a zero.
 */
import type { ApiCollectorStatus, ApiTrafficResponse } from '$shared/api-types';

export interface RatePoint {
  /** Bucket start, ms since the epoch. */
  startMs: number;
  /** Seconds the rate is averaged over. */
  seconds: number;
  rxBytes: number | null;
  txBytes: number | null;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
}

export interface Peak {
  bytesPerSec: number;
  atMs: number;
}

export interface TrafficSeries {
  points: RatePoint[];
  startMs: number;
  endMs: number;
  bucketSeconds: number;
  rxBytes: number;
  txBytes: number;
  peakRx: Peak | null;
  peakTx: Peak | null;
  /** Buckets that hold data (either direction not null). */
  bucketsWithData: number;
}

export function buildTrafficSeries(response: ApiTrafficResponse): TrafficSeries {
  const endMs = Date.parse(response.end);
  const bucketMs = response.bucket_seconds * 1000;
  let rxBytes = 0;
  let txBytes = 0;
  let peakRx: Peak | null = null;
  let peakTx: Peak | null = null;
  let bucketsWithData = 0;

  const points = response.data.map((bucket): RatePoint => {
    const startMs = Date.parse(bucket.timestamp);
    const passedMs = Math.min(startMs + bucketMs, endMs) - startMs;
    // Averaged over the part of the bucket the collector covered (a bucket where it ran 5 minutes of 60 is
    // not a bucket of near-zero traffic), else over the part that has passed; at least one second, so a
    // bucket that began a moment ago cannot show an absurd rate.
    const passedSec = passedMs > 0 ? passedMs / 1000 : response.bucket_seconds;
    const seconds = Math.max(1, bucket.covered_seconds !== null && bucket.covered_seconds > 0 ? Math.min(bucket.covered_seconds, passedSec) : passedSec);
    const rxBytesPerSec = bucket.rx_bytes === null ? null : bucket.rx_bytes / seconds;
    const txBytesPerSec = bucket.tx_bytes === null ? null : bucket.tx_bytes / seconds;
    if (bucket.rx_bytes !== null) rxBytes += bucket.rx_bytes;
    if (bucket.tx_bytes !== null) txBytes += bucket.tx_bytes;
    if (bucket.rx_bytes !== null || bucket.tx_bytes !== null) bucketsWithData += 1;
    if (rxBytesPerSec !== null && (peakRx === null || rxBytesPerSec > peakRx.bytesPerSec)) peakRx = { bytesPerSec: rxBytesPerSec, atMs: startMs };
    if (txBytesPerSec !== null && (peakTx === null || txBytesPerSec > peakTx.bytesPerSec)) peakTx = { bytesPerSec: txBytesPerSec, atMs: startMs };
    return { startMs, seconds, rxBytes: bucket.rx_bytes, txBytes: bucket.tx_bytes, rxBytesPerSec, txBytesPerSec };
  });

  return {
    points,
    startMs: Date.parse(response.start),
    endMs,
    bucketSeconds: response.bucket_seconds,
    rxBytes,
    txBytes,
    peakRx,
    peakTx,
    bucketsWithData,
  };
}

/** Whether any bucket moved a byte: a window of zeros (or gaps) may mean "nothing collected yet". */
export function hasTraffic(series: TrafficSeries): boolean {
  return series.points.some((p) => (p.rxBytes ?? 0) > 0 || (p.txBytes ?? 0) > 0);
}

/** Why a chart has nothing to show, when that needs saying; null when the chart speaks for itself. */
export type EmptyReason =
  | { kind: 'waiting'; nextPollAtMs: number | null }
  | { kind: 'stopped'; lastError: string | null }
  | { kind: 'nothing-in-window' };

/**
 * Reads the collector status next to a chart without traffic. "Waiting" is the first minute of a new
 * install: at most the baseline read has happened (it stores no traffic) and nothing older is stored.
 */
export function explainEmptyChart(series: TrafficSeries, status: ApiCollectorStatus): EmptyReason | null {
  const startedMs = status.started_at === null ? Number.NaN : Date.parse(status.started_at);
  const firstDataMs = status.first_data_at === null ? null : Date.parse(status.first_data_at);
  const nothingOlder = firstDataMs === null || !(firstDataMs < startedMs - 2000);
  if (status.running && status.polls < 2 && nothingOlder) {
    return { kind: 'waiting', nextPollAtMs: status.next_poll_at === null ? null : Date.parse(status.next_poll_at) };
  }
  if (series.bucketsWithData > 0) return null;
  if (!status.running) return { kind: 'stopped', lastError: status.last_error };
  return { kind: 'nothing-in-window' };
}

/** The largest rate in the series (0 when there is none), to pick the axis unit. */
export function maxRate(series: TrafficSeries): number {
  let max = 0;
  for (const p of series.points) max = Math.max(max, p.rxBytesPerSec ?? 0, p.txBytesPerSec ?? 0);
  return max;
}

/**
 * Which points to draw as dots: a value with no drawn neighbour on either side would otherwise be
 * invisible (a line needs two points), e.g. the first bucket after the collector started.
 */
export function isolatedPoints(values: readonly (number | null)[]): boolean[] {
  return values.map((value, i) => value !== null && (values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null);
}
