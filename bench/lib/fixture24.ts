/**
 * A fixture /proc + /sys tree with 24 Ethernet interfaces whose counters advance like a busy machine's
 * (built on the tests' makeFixtureTree): call advance() before each poll.
 */
import type { CounterValues } from '../../test/helpers/fixture-tree.js';
import { formatProcNetDev, makeFixtureTree, type FixtureTree } from '../../test/helpers/fixture-tree.js';
import { prng } from './measure.js';

export const INTERFACE_COUNT = 24;
export const INTERFACE_NAMES: readonly string[] = Array.from({ length: INTERFACE_COUNT }, (_, i) => `eth${i}`);

export interface AdvancingTree {
  tree: FixtureTree;
  names: readonly string[];
  /** Adds `seconds` worth of traffic to every interface and rewrites <proc>/net/dev. */
  advance(seconds?: number): void;
  cleanup(): void;
}

export function makeAdvancingTree(seed = 1): AdvancingTree {
  const random = prng(seed);
  const tree = makeFixtureTree({
    interfaces: {
      lo: { type: 772, flags: 0x9, virtual: true, speed: null, operstate: 'unknown', address: '00:00:00:00:00:00' },
      ...Object.fromEntries(INTERFACE_NAMES.map((name) => [name, { speed: 10_000 }])),
    },
    defaultRouteV4: ['eth0'],
    bootId: '0f5c1d3e-bench-4a7b-9c2d-000000000024',
    btimeSec: Math.floor(Date.now() / 1000) - 86_400,
  });
  // Counters that have run a while: 12–14 digit byte counts, like a server up for weeks.
  const state = INTERFACE_NAMES.map((_, i) => ({
    base: 2_000 + Math.floor(random() * 50_000_000 * (i < 4 ? 1 : 0.05)),
    counters: {
      rxBytes: BigInt(1_000_000_000_000 + i * 7_919_000_000),
      txBytes: BigInt(400_000_000_000 + i * 3_331_000_000),
      rxPackets: BigInt(900_000_000 + i * 1_000_003),
      txPackets: BigInt(500_000_000 + i * 700_001),
      rxErrors: 0n,
      txErrors: 0n,
      rxDrops: BigInt(i),
      txDrops: 0n,
      rxMulticast: 1000n,
    } satisfies CounterValues,
  }));
  const write = () => tree.writeNetDev(formatProcNetDev([['lo', { rxBytes: 1234n, txBytes: 1234n }], ...state.map((s, i): [string, CounterValues] => [INTERFACE_NAMES[i]!, s.counters])]));
  write();
  return {
    tree,
    names: INTERFACE_NAMES,
    advance(seconds = 1) {
      for (const s of state) {
        const rx = Math.floor(s.base * seconds * (0.5 + random()));
        const tx = Math.floor(rx * (0.1 + random() * 0.5));
        s.counters.rxBytes += BigInt(rx);
        s.counters.txBytes += BigInt(tx);
        s.counters.rxPackets += BigInt(Math.ceil(rx / 900));
        s.counters.txPackets += BigInt(Math.ceil(tx / 600));
        if (random() < 0.01) s.counters.rxDrops += 1n;
      }
      write();
    },
    cleanup: () => tree.cleanup(),
  };
}
