/**
 * Samples waiting for the commit, packed into typed arrays (issue #13). Held as objects, the samples of ten
 * polls (240 objects with 8 BigInts each at 1 s polling of 24 interfaces) lived long enough for V8 to promote
 * them to the old generation, which then grew by that garbage until its next full collection. Here they
 * are numbers in arrays allocated once; the sample objects are made again only for the commit, and die young.
 */
import type { RawCounters } from './counter-source.js';
import type { TrafficSample } from '../storage/traffic-repo.js';

const FIELDS = 8;

const MAX_U64 = (1n << 64n) - 1n;
const fitsU64 = (v: bigint): boolean => v >= 0n && v <= MAX_U64;
const fits = (c: RawCounters): boolean =>
  fitsU64(c.rxBytes) && fitsU64(c.txBytes) && fitsU64(c.rxPackets) && fitsU64(c.txPackets) && fitsU64(c.rxErrors) && fitsU64(c.txErrors) && fitsU64(c.rxDrops) && fitsU64(c.txDrops);

export class PackedSamples {
  private names: string[] = [];
  /** startSec, endSec per sample. */
  private spans = new Float64Array(0);
  /** The counters in COUNTER_FIELDS order, FIELDS per sample. */
  private counters = new BigUint64Array(0);
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** Holds the samples; each counter must be in 0..2^64-1 (stored samples are 0..2^63-1), else it throws and holds none. */
  push(samples: readonly TrafficSample[]): void {
    for (const s of samples) {
      if (!fits(s.counters)) throw new RangeError(`a counter of ${s.interfaceName} is outside 0..2^64-1: not held`);
    }
    if (this.n + samples.length > this.names.length) this.grow(this.n + samples.length);
    for (const s of samples) {
      const i = this.n++;
      const c = s.counters;
      const at = i * FIELDS;
      this.names[i] = s.interfaceName;
      this.spans[2 * i] = s.startSec;
      this.spans[2 * i + 1] = s.endSec;
      this.counters[at] = c.rxBytes;
      this.counters[at + 1] = c.txBytes;
      this.counters[at + 2] = c.rxPackets;
      this.counters[at + 3] = c.txPackets;
      this.counters[at + 4] = c.rxErrors;
      this.counters[at + 5] = c.txErrors;
      this.counters[at + 6] = c.rxDrops;
      this.counters[at + 7] = c.txDrops;
    }
  }

  /** Every held sample as objects, in the order pushed; the store is empty afterwards (its arrays are kept). */
  take(): TrafficSample[] {
    const out: TrafficSample[] = new Array<TrafficSample>(this.n);
    for (let i = 0; i < this.n; i++) {
      const at = i * FIELDS;
      const k = this.counters;
      const counters: RawCounters = { rxBytes: k[at]!, txBytes: k[at + 1]!, rxPackets: k[at + 2]!, txPackets: k[at + 3]!, rxErrors: k[at + 4]!, txErrors: k[at + 5]!, rxDrops: k[at + 6]!, txDrops: k[at + 7]! };
      out[i] = { interfaceName: this.names[i]!, startSec: this.spans[2 * i]!, endSec: this.spans[2 * i + 1]!, counters };
    }
    this.clear();
    return out;
  }

  private clear(): void {
    this.names.fill('', 0, this.n);
    this.n = 0;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.names.length, 64);
    while (capacity < needed) capacity *= 2;
    const spans = new Float64Array(2 * capacity);
    spans.set(this.spans.subarray(0, 2 * this.n));
    const counters = new BigUint64Array(FIELDS * capacity);
    counters.set(this.counters.subarray(0, FIELDS * this.n));
    this.spans = spans;
    this.counters = counters;
    this.names.length = capacity;
    this.names.fill('', this.n);
  }
}
