/** Issue #13: pending samples wait packed in typed arrays; what comes out for the commit is what went in. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { COUNTER_FIELDS, type RawCounters } from '../../src/collector/counter-source.js';
import { PackedSamples } from '../../src/collector/packed-samples.js';
import type { TrafficSample } from '../../src/storage/traffic-repo.js';

const counters = (v: (i: number) => bigint): RawCounters => Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, v(i)])) as unknown as RawCounters;
const sample = (name: string, startSec: number, c: RawCounters): TrafficSample => ({ interfaceName: name, startSec, endSec: startSec + 1, counters: c });

test('packed samples come back exactly, in order, across growth and reuse', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.record({ name: fc.constantFrom('eth0', 'wlan0', 'veth-a'), start: fc.integer({ min: 0, max: 2 ** 40 }), c: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 8, maxLength: 8 }) }), { maxLength: 150 }), { minLength: 1, maxLength: 4 }),
      (rounds) => {
        const packed = new PackedSamples();
        for (const round of rounds) {
          const polls = round.map((s) => sample(s.name, s.start, counters((i) => s.c[i]!)));
          // Pushed poll by poll, in pieces, as the collector does.
          for (let i = 0; i < polls.length; i += 24) packed.push(polls.slice(i, i + 24));
          assert.equal(packed.length, polls.length);
          assert.deepEqual(packed.take(), polls);
          assert.equal(packed.length, 0);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('a counter no 64-bit column holds is refused with its interface named, and nothing of that push is held', () => {
  const packed = new PackedSamples();
  packed.push([sample('eth0', 10, counters(() => 5n))]);
  for (const bad of [-1n, 1n << 64n]) {
    assert.throws(() => packed.push([sample('eth1', 11, counters(() => 7n)), sample('wlan0', 11, counters((i) => (i === 3 ? bad : 1n)))]), (err: Error) => err instanceof RangeError && err.message.includes('wlan0'));
  }
  assert.deepEqual(packed.take(), [sample('eth0', 10, counters(() => 5n))]);
});
