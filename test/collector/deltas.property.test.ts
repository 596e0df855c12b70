/**
 * Issue #8: a property-based test of the delta maths and of the collector on a real SQLite file. fast-check
 * generates runs of many steps over three interfaces; the model knows the true traffic of every step and
 * drives the kernel counters with it: 32- and 64-bit wraps in any counter (each counter has its own width
 * and may start near its wrap point), resets to small and to huge values, interfaces vanishing and coming
 * back (same or new ifindex), Net-Pulse killed between two steps and restarted on the same database,
 * reboots (new boot id), clock steps back and forward, read failures of one interface.
 *
 * For every run: every poll stores; each interface's stored total equals the true traffic of its exact
 * steps (growth, wraps, restarts, returns, reboots) and exceeds it by at most the plausible amount of its
 * reset/replacement steps; no stored value reaches 2^63; the minute, hour and day tiers sum to the raw rows.
 *
 * Seeded and replayable: NETPULSE_PROPERTY_SEED=<seed> (and NETPULSE_PROPERTY_PATH=<path> from a failure)
 * replays a run; NETPULSE_PROPERTY_RUNS scales the number of runs. A failure prints the seed, the path and the
 * shrunk case.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { createCollector } from '../../src/collector/collector.js';
import { COUNTER_FIELDS, type CounterField, type CounterReading, type CounterSource, type RawCounters } from '../../src/collector/counter-source.js';
import { computeDeltas, MAX_STORED_DELTA, TWO_POW_32, TWO_POW_64, type CounterState } from '../../src/collector/deltas.js';
import { silentLogger } from '../../src/shared/logger.js';
import { COLUMN_OF } from '../../src/storage/counter-columns.js';
import { createRunsRepo } from '../../src/storage/runs-repo.js';
import { createStateRepo } from '../../src/storage/state-repo.js';
import { createTrafficRepo } from '../../src/storage/traffic-repo.js';
import { makeStore } from '../helpers/store.js';

const NAMES = ['eth0', 'eth1', 'wlan0'] as const;
const SPEED_MBPS = 1000;
/** What the link may carry per second: SUSPECT_FACTOR (2) × 1 Gbit/s; packets, errors, drops: that / 64 bytes. */
const BYTES_PER_SEC_LIMIT = 250_000_000n;
const COUNTS_PER_SEC_LIMIT = BYTES_PER_SEC_LIMIT / 64n;
/** Per step and interface at most this many bytes: a clock step (no monotonic time after a restart) can't make it implausible. */
const MAX_STEP_BYTES = 60_000_000;

type Action = 'grow' | 'fail' | 'reset' | 'huge' | 'vanish' | 'return-same' | 'return-new';
type Counters = Record<CounterField, bigint>;

interface StepSpec {
  elapsedMs: number;
  clockStepMs: number;
  restart: boolean;
  reboot: boolean;
  actions: Action[];
  traffic: { bytes: number; packets: number; errors: number; side: number }[];
  /** Per interface: a random value for resets/replacements. */
  noise: bigint[];
}

interface IfaceModel {
  name: string;
  ifindex: number;
  present: boolean;
  counters: Counters;
  widths: Record<CounterField, 32 | 64>;
  /** Traffic the counters carry that Net-Pulse has not read yet (failed reads). */
  pending: Counters;
  failsInARow: number;
  /** Gone longer than Net-Pulse remembers a vanished interface: its return counts as new, not exactly. */
  forgotten: boolean;
  /** Wall time of the last reading that had it (the span a reset's plausible amount is judged over). */
  readAtMs: number;
  /** Sum of traffic that must be stored exactly. */
  exact: Counters;
  /** The most that inexact steps (reset, replacement) may have added. */
  allowance: Counters;
}

const zero = (): Counters => Object.fromEntries(COUNTER_FIELDS.map((f) => [f, 0n])) as Counters;
const isBytes = (f: CounterField) => f === 'rxBytes' || f === 'txBytes';
const modulo = (w: 32 | 64) => (w === 32 ? TWO_POW_32 : TWO_POW_64);

const initialArb = fc.record({
  widths: fc.array(fc.constantFrom<32 | 64>(32, 64), { minLength: 8, maxLength: 8 }),
  starts: fc.array(fc.oneof(fc.constant<'small'>('small'), fc.constant<'near'>('near'), fc.constant<'mid'>('mid')), { minLength: 8, maxLength: 8 }),
  offsets: fc.array(fc.bigInt({ min: 0n, max: 200_000_000n }), { minLength: 8, maxLength: 8 }),
});

const stepArb: fc.Arbitrary<StepSpec> = fc.record({
  elapsedMs: fc.integer({ min: 1000, max: 30_000 }),
  clockStepMs: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -86_400_000, max: 86_400_000 }) }),
  restart: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  reboot: fc.oneof({ weight: 25, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  actions: fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.constant<Action>('grow') },
      { weight: 1, arbitrary: fc.constant<Action>('fail') },
      { weight: 1, arbitrary: fc.constant<Action>('reset') },
      { weight: 1, arbitrary: fc.constant<Action>('huge') },
      { weight: 1, arbitrary: fc.constant<Action>('vanish') },
      { weight: 1, arbitrary: fc.constant<Action>('return-same') },
      { weight: 1, arbitrary: fc.constant<Action>('return-new') },
    ),
    { minLength: NAMES.length, maxLength: NAMES.length },
  ),
  traffic: fc.array(
    fc.record({ bytes: fc.integer({ min: 0, max: MAX_STEP_BYTES }), packets: fc.integer({ min: 0, max: 1000 }), errors: fc.integer({ min: 0, max: 5 }), side: fc.integer({ min: 0, max: MAX_STEP_BYTES }) }),
    { minLength: NAMES.length, maxLength: NAMES.length },
  ),
  noise: fc.array(fc.bigInt({ min: 0n, max: TWO_POW_64 - 1n }), { minLength: NAMES.length, maxLength: NAMES.length }),
});

const runArb = fc.record({ initial: fc.array(initialArb, { minLength: NAMES.length, maxLength: NAMES.length }), steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }) });

/** The true traffic of one interface in one step (bytes >= 64 per packet, like real frames). */
function trafficOf(t: StepSpec['traffic'][number]): Counters {
  const packets = BigInt(Math.min(t.packets, Math.floor(t.bytes / 64)));
  const txPackets = BigInt(Math.min(t.packets, Math.floor(t.side / 64)));
  return { rxBytes: BigInt(t.bytes), txBytes: BigInt(t.side), rxPackets: packets, txPackets, rxErrors: BigInt(t.errors), txErrors: 0n, rxDrops: BigInt(t.errors % 2), txDrops: 0n };
}

function startValue(width: 32 | 64, start: 'small' | 'near' | 'mid', offset: bigint, field: CounterField): bigint {
  const m = modulo(width);
  const scale = isBytes(field) ? offset : offset / 1000n;
  if (start === 'small') return scale;
  if (start === 'near') return m - 1n - scale;
  return (m / 3n + scale) % m;
}

/** Adds traffic to the counters, each wrapping at its own width. */
function advance(c: Counters, traffic: Counters, widths: IfaceModel['widths']): Counters {
  const out = zero();
  for (const f of COUNTER_FIELDS) out[f] = (c[f] + traffic[f]) % modulo(widths[f]);
  return out;
}

function add(a: Counters, b: Counters): Counters {
  const out = zero();
  for (const f of COUNTER_FIELDS) out[f] = a[f] + b[f];
  return out;
}

function allowanceOf(spanMs: number): Counters {
  const sec = BigInt(Math.ceil(Math.max(1000, spanMs) / 1000));
  const out = zero();
  for (const f of COUNTER_FIELDS) out[f] = (isBytes(f) ? BYTES_PER_SEC_LIMIT : COUNTS_PER_SEC_LIMIT) * sec;
  return out;
}

/**
 * The world of one run: the kernel's counters, the wall clock, the monotonic clock and the boot, advanced
 * step by step; each step says which traffic must be stored exactly and what may be added at most.
 */
function createWorld(initial: readonly { widths: (32 | 64)[]; starts: ('small' | 'near' | 'mid')[]; offsets: bigint[] }[]) {
  let wallMs = 1_800_000_000_000;
  let monoMs = 5_000_000;
  let bootNo = 1;
  let bootTimeMs: number | null = null;
  let nextIfindex = 10;
  let failures: string[] = [];
  let lastPollWallMs = wallMs;
  const ifaces: IfaceModel[] = NAMES.map((name, i) => {
    const init = initial[i]!;
    const widths = Object.fromEntries(COUNTER_FIELDS.map((f, k) => [f, init.widths[k]!])) as IfaceModel['widths'];
    const counters = Object.fromEntries(COUNTER_FIELDS.map((f, k) => [f, startValue(init.widths[k]!, init.starts[k]!, init.offsets[k]!, f)])) as Counters;
    return { name, ifindex: nextIfindex++, present: true, counters, widths, pending: zero(), failsInARow: 0, forgotten: false, readAtMs: wallMs, exact: zero(), allowance: zero() };
  });

  function reading(): CounterReading {
    return {
      timeMs: wallMs,
      bootId: `boot-${bootNo}`,
      interfaces: ifaces.filter((m) => m.present && !failures.includes(m.name)).map((m) => ({ name: m.name, ifindex: m.ifindex, counters: { ...m.counters } as RawCounters })),
      failures: failures.map((name) => ({ name, error: 'EIO (test)' })),
    };
  }

  function apply(step: StepSpec): void {
    const wallBefore = wallMs;
    monoMs += step.elapsedMs;
    wallMs += step.elapsedMs + step.clockStepMs;
    failures = [];
    if (step.reboot) {
      bootNo++;
      bootTimeMs = wallBefore + Math.floor(step.elapsedMs / 2);
    }
    ifaces.forEach((m, i) => {
      const span = Math.max(step.elapsedMs, wallMs - Math.min(lastPollWallMs, m.readAtMs));
      const traffic = trafficOf(step.traffic[i]!);
      let action = step.actions[i]!;
      if (action === 'fail' && m.failsInARow >= 2) action = 'grow';
      if (step.reboot) {
        // Every counter starts again at zero at boot; an absent interface comes back as a new one.
        m.counters = { ...traffic };
        m.pending = zero();
        m.failsInARow = 0;
        if (!m.present) {
          m.ifindex = nextIfindex++;
          m.present = action === 'return-same' || action === 'return-new';
          if (!m.present) m.counters = zero();
        }
        if (m.present) m.exact = add(m.exact, traffic);
        return;
      }
      if (!m.present) {
        // Net-Pulse remembers a vanished interface for a day (wall clock), checked at every reading.
        if (wallMs - m.readAtMs > 24 * 3600 * 1000) m.forgotten = true;
        if (action === 'return-same' && m.forgotten) {
          m.present = true;
          m.counters = advance(m.counters, traffic, m.widths);
          m.allowance = add(m.allowance, allowanceOf(span));
          m.pending = zero();
        } else if (action === 'return-same') {
          m.present = true;
          m.counters = advance(m.counters, traffic, m.widths);
          m.exact = add(m.exact, add(m.pending, traffic));
          m.pending = zero();
        } else if (action === 'return-new') {
          m.present = true;
          m.ifindex = nextIfindex++;
          // Whatever it had not been read for is gone with the old device.
          if (COUNTER_FIELDS.some((f) => m.pending[f] > 0n)) m.allowance = add(m.allowance, allowanceOf(span));
          m.pending = zero();
          for (const f of COUNTER_FIELDS) m.widths[f] = 64;
          m.counters = { ...traffic };
          m.exact = add(m.exact, traffic);
        }
        return;
      }
      switch (action) {
        case 'grow':
        case 'return-same':
        case 'return-new':
          m.counters = advance(m.counters, traffic, m.widths);
          m.exact = add(m.exact, add(m.pending, traffic));
          m.pending = zero();
          m.failsInARow = 0;
          break;
        case 'fail':
          m.counters = advance(m.counters, traffic, m.widths);
          m.pending = add(m.pending, traffic);
          m.failsInARow++;
          failures.push(m.name);
          break;
        case 'reset': {
          // Restarted from zero some time in the step, then carried part of the traffic.
          for (const f of COUNTER_FIELDS) m.counters[f] = traffic[f] / 2n;
          m.allowance = add(m.allowance, allowanceOf(span));
          m.pending = zero();
          m.failsInARow = 0;
          break;
        }
        case 'huge': {
          // Replaced by a device with big counters (same ifindex), or a driver glitch.
          const base = (1n << 62n) + (step.noise[i]! % (TWO_POW_64 - (1n << 62n) - 1n));
          for (const f of COUNTER_FIELDS) {
            m.widths[f] = 64;
            m.counters[f] = (base + traffic[f]) % TWO_POW_64;
          }
          m.allowance = add(m.allowance, allowanceOf(span));
          m.pending = zero();
          m.failsInARow = 0;
          break;
        }
        case 'vanish':
          m.present = false;
          m.forgotten = false;
          m.failsInARow = 0;
          break;
      }
    });
    lastPollWallMs = wallMs;
    for (const m of ifaces) if (m.present && !failures.includes(m.name)) m.readAtMs = wallMs;
  }

  return {
    ifaces,
    reading,
    apply,
    monotonicMs: () => monoMs,
    bootTimeMs: () => bootTimeMs,
  };
}

type World = ReturnType<typeof createWorld>;

function assertWithinModel(world: World, stored: (name: string) => Counters, context: string): void {
  for (const m of world.ifaces) {
    const got = stored(m.name);
    for (const f of COUNTER_FIELDS) {
      assert.ok(got[f] >= m.exact[f] - 0n || m.allowance[f] > 0n, `${context}: ${m.name} ${f} stored ${got[f]} < exact ${m.exact[f]}`);
      assert.ok(got[f] <= m.exact[f] + m.allowance[f], `${context}: ${m.name} ${f} stored ${got[f]} > exact ${m.exact[f]} + allowance ${m.allowance[f]}`);
      if (m.allowance[f] === 0n) assert.equal(got[f], m.exact[f], `${context}: ${m.name} ${f} (no reset in the run) stored exactly the true traffic`);
    }
  }
}

function fcParams(defaultRuns: number): fc.Parameters<unknown> {
  const seed = process.env.NETPULSE_PROPERTY_SEED;
  const p: fc.Parameters<unknown> = { numRuns: Number(process.env.NETPULSE_PROPERTY_RUNS ?? defaultRuns), seed: seed === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(seed) };
  if (process.env.NETPULSE_PROPERTY_PATH !== undefined) p.path = process.env.NETPULSE_PROPERTY_PATH;
  return p;
}

function announce(t: TestContext, params: fc.Parameters<unknown>): void {
  t.diagnostic(`fast-check seed ${params.seed} (replay: NETPULSE_PROPERTY_SEED=${params.seed}); a failure prints the path and the shrunk case`);
}

test('computeDeltas over random runs: exact for growth, wraps, restarts, returns and reboots; at most the plausible amount for resets', (t) => {
  const params = fcParams(1000);
  announce(t, params);
  fc.assert(
    fc.property(runArb, ({ initial, steps }) => {
      const world = createWorld(initial);
      const totals = new Map<string, Counters>(NAMES.map((n) => [n, zero()]));
      let state: CounterState | null = computeDeltas(null, world.reading()).next;
      let lastMono: number | null = world.monotonicMs();
      for (const [k, step] of steps.entries()) {
        world.apply(step);
        const r = computeDeltas(state, world.reading(), {
          speedMbps: () => SPEED_MBPS,
          bootTimeMs: world.bootTimeMs(),
          monotonicElapsedMs: step.restart || step.reboot || lastMono === null ? null : world.monotonicMs() - lastMono,
        });
        for (const d of r.deltas) {
          for (const f of COUNTER_FIELDS) {
            assert.ok(d.counters[f] >= 0n && d.counters[f] <= MAX_STORED_DELTA, `step ${k}: ${d.name} ${f} = ${d.counters[f]}`);
            totals.get(d.name)![f] += d.counters[f];
          }
        }
        state = r.next;
        lastMono = world.monotonicMs();
      }
      assertWithinModel(world, (n) => totals.get(n)!, 'deltas');
    }),
    params,
  );
});

test('the collector over random runs on a real SQLite file: every poll stores, totals follow the true traffic, tiers sum to raw', (t) => {
  const params = fcParams(40);
  announce(t, params);
  // One database file for every run (opening and migrating one costs more than a run); emptied before each.
  // No fsync per commit: what is tested is what the collector writes, not the disk's durability.
  const shared = makeStore(t);
  shared.db.pragma('synchronous = OFF');
  const tables = (shared.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'traffic%' OR name IN ('counter_state', 'collector_state', 'collector_runs', 'counter_gaps'))").all() as { name: string }[]).map((r) => r.name);
  return fc.assert(
    fc.asyncProperty(runArb, async ({ initial, steps }) => {
      for (const table of tables) shared.db.exec(`DELETE FROM ${table}`);
      const store = { db: shared.db, traffic: createTrafficRepo(shared.db, { timezone: 'UTC' }), state: createStateRepo(shared.db), runs: createRunsRepo(shared.db) };
      {
        const world = createWorld(initial);
        const source: CounterSource = {
          readCounters: () => Promise.resolve(world.reading()),
          listInterfaces: () => Promise.resolve([]),
          readBootTimeMs: () => Promise.resolve(world.bootTimeMs()),
        };
        const make = () =>
          createCollector({
            db: store.db,
            source,
            traffic: store.traffic,
            state: store.state,
            runs: store.runs,
            monitored: () => new Set(NAMES),
            speedMbps: () => SPEED_MBPS,
            logger: silentLogger,
            monotonicMs: world.monotonicMs,
          });
        let collector = make();
        assert.notEqual(await collector.pollNow(), null, 'the baseline poll stored');
        for (const [k, step] of steps.entries()) {
          world.apply(step);
          // Killed between two steps (no last poll) and started again on the same database; a reboot restarts it too.
          if (step.restart || step.reboot) collector = make();
          const r = await collector.pollNow();
          assert.notEqual(r, null, `step ${k}: the poll stored (${collector.stats().lastError})`);
        }
        const stored = (name: string): Counters => {
          const row = store.db.prepare(`SELECT ${COUNTER_FIELDS.map((f) => `COALESCE(SUM(${COLUMN_OF[f]}), 0) AS ${f}`).join(', ')} FROM traffic_data WHERE interface_name = ?`).safeIntegers(true).get(name) as Counters;
          return row;
        };
        assertWithinModel(world, stored, 'collector');
        for (const tier of ['traffic_1m', 'traffic_1h', 'traffic_1d']) {
          for (const name of NAMES) {
            const sums = store.db.prepare(`SELECT ${COUNTER_FIELDS.map((f) => `COALESCE(SUM(${COLUMN_OF[f]}), 0) AS ${f}`).join(', ')} FROM ${tier} WHERE interface_name = ?`).safeIntegers(true).get(name) as Counters;
            assert.deepEqual(sums, stored(name), `${tier} of ${name} sums to the raw samples`);
          }
        }
        const max = store.db.prepare(`SELECT MAX(${COUNTER_FIELDS.map((f) => `MAX(${COLUMN_OF[f]})`).join(', ')}) AS m FROM traffic_data`).safeIntegers(true).get() as { m: bigint | null };
        assert.ok((max.m ?? 0n) <= MAX_STORED_DELTA);
      }
    }),
    params,
  );
});
