/**
 * The poll loop: read every interface's counters, turn them into deltas, and store the monitored
 * interfaces' deltas together with the new counter state in one transaction, so that a crash at any point
 * (even kill -9) leaves the database where the next start counts every byte once.
 */
import type { Logger } from '../shared/logger.js';
import type { Db } from '../storage/db.js';
import type { CounterGap, GapsRepo } from '../storage/gaps-repo.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import type { StateRepo } from '../storage/state-repo.js';
import type { TrafficRepo, TrafficSample } from '../storage/traffic-repo.js';
import { COUNTER_FIELDS, type CounterSource, type RawCounters } from './counter-source.js';
import { MAX_STORED_DELTA, computeDeltas, isZeroDelta, type CounterState, type InterfaceDelta } from './deltas.js';
import { settleWithin, startBudget } from '../shared/deadline.js';
import { createAlignedTimer, systemClock, type Clock } from './scheduler.js';

export interface CollectorDeps {
  db: Db;
  source: CounterSource;
  traffic: TrafficRepo;
  state: StateRepo;
  runs: RunsRepo;
  /** The interfaces whose deltas are stored. */
  monitored: () => ReadonlySet<string>;
  /** Link speeds (Mbit/s) for plausibility checks; null when unknown. */
  speedMbps: (name: string) => number | null;
  logger: Logger;
  clock?: Clock;
  /** Where intervals that could not be counted are marked (counter_gaps); none recorded when absent. */
  gaps?: GapsRepo;
  /** Monotonic milliseconds (default performance.now): the time links really had between two polls. */
  monotonicMs?: () => number;
  /** Called after every stored poll (for all-time totals, alerts, sync). */
  onSamples?: (samples: readonly TrafficSample[]) => void;
}

export interface PollResult {
  atMs: number;
  baseline: boolean;
  samples: TrafficSample[];
  durationUs: number;
}

export interface CollectorStats {
  running: boolean;
  intervalSec: number;
  polls: number;
  failedPolls: number;
  skippedTicks: number;
  lastPollAtMs: number | null;
  nextPollAtMs: number | null;
  lastError: string | null;
  startedAtMs: number | null;
  /** Durations of the last polls in µs (read + parse + deltas + write), newest last. */
  recentDurationsUs: readonly number[];
}

export interface Collector {
  start(intervalSec: number): void;
  stop(): void;
  setInterval(intervalSec: number): void;
  /** Polls now (also when stopped). Never throws: a failed poll is logged and reported. */
  pollNow(): Promise<PollResult | null>;
  /**
   * Stops the timer, takes a last poll so nothing pending is lost, and closes the run. With timeoutMs, waits
   * at most that long in all (a poll that doesn't finish in time leaves its traffic in the counter state,
   * counted at the next start).
   */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  stats(): CollectorStats;
}

const DURATION_WINDOW = 120;

/** Unix seconds of a sample's time (floored: a sample never lands in a second that hasn't begun). */
export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

const countersText = (c: RawCounters): Record<string, string> => Object.fromEntries(COUNTER_FIELDS.map((f) => [f, c[f].toString()]));

/**
 * Why a sample cannot go into the transaction, or null when it can: everything a write could trip on is
 * checked before it, so that one interface's odd delta never fails the poll for the others.
 */
export function unstorableReason(s: TrafficSample): string | null {
  if (!Number.isSafeInteger(s.startSec) || !Number.isSafeInteger(s.endSec) || s.startSec > s.endSec || s.startSec < 0) return `bad span ${s.startSec}..${s.endSec}`;
  for (const f of COUNTER_FIELDS) {
    const v = s.counters[f];
    if (typeof v !== 'bigint' || v < 0n || v > MAX_STORED_DELTA) return `${f} ${String(v)} is outside 0..2^63-1`;
  }
  return null;
}

/** The gap an implausible delta leaves, and the warning's fields. */
function gapOf(d: InterfaceDelta): CounterGap {
  const r = d.rejected!;
  return {
    interfaceName: d.name,
    startSec: toSeconds(d.startMs),
    endSec: toSeconds(d.endMs),
    reason: 'implausible',
    detail: { field: r.field, delta: r.delta.toString(), limit: r.limit.toString(), previous: r.previous === null ? null : countersText(r.previous), current: countersText(r.current) },
  };
}
export function createCollector(deps: CollectorDeps): Collector {
  const clock = deps.clock ?? systemClock;
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());
  let state: CounterState | null = deps.state.load();
  /** Monotonic time of the reading `state` holds, when this process made it (null after a load). */
  let stateMonoMs: number | null = null;
  let runId: number | null = null;
  let intervalSec = 30;
  let polls = 0;
  let failedPolls = 0;
  let lastPollAtMs: number | null = null;
  let lastError: string | null = null;
  let startedAtMs: number | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const durations: number[] = [];
  const timer = createAlignedTimer(() => poll().then(() => undefined), clock);

  /** Samples, counter state and run coverage in one transaction; returns the run id (null → new run). */
  const persist = deps.db.transaction((samples: TrafficSample[], gaps: CounterGap[], next: CounterState, spanStartSec: number, pollSec: number): number => {
    deps.traffic.write(samples);
    if (gaps.length > 0) deps.gaps?.record(gaps);
    deps.state.save(next);
    if (runId === null) return deps.runs.begin(Math.min(spanStartSec, pollSec), pollSec);
    deps.runs.touch(runId, pollSec);
    return runId;
  });

  async function pollOnce(): Promise<PollResult> {
    const t0 = process.hrtime.bigint();
    const reading = await deps.source.readCounters();
    const readMonoMs = monotonicMs();
    for (const f of reading.failures) deps.logger.warn({ interface: f.name, err: f.error }, 'reading an interface failed; the others were read');
    // After a reboot, the traffic since boot is spread from the boot time, not from our last reading.
    const rebooted = state !== null && state.bootId !== null && reading.bootId !== null && state.bootId !== reading.bootId;
    const bootTimeMs = rebooted ? await deps.source.readBootTimeMs().catch(() => null) : null;
    const monotonicElapsedMs = stateMonoMs === null || rebooted ? null : readMonoMs - stateMonoMs;
    const result = computeDeltas(state, reading, { speedMbps: deps.speedMbps, bootTimeMs, monotonicElapsedMs });
    const monitored = deps.monitored();
    const samples: TrafficSample[] = [];
    const gaps: CounterGap[] = [];
    let spanStartMs = reading.timeMs;
    for (const d of result.deltas) {
      if (!monitored.has(d.name)) continue;
      spanStartMs = Math.min(spanStartMs, d.startMs);
      if (d.reason === 'implausible') {
        // The new reading is the baseline (result.next holds it): nothing counted, one warning, a marked gap.
        const gap = gapOf(d);
        gaps.push(gap);
        deps.logger.warn({ interface: d.name, spanMs: d.endMs - d.startMs, ...gap.detail }, 'counters jumped beyond what the link can carry (reset to big values or a glitch): nothing counted for this interval, the new reading is the baseline');
        continue;
      }
      if (d.reason !== 'counted') deps.logger.info({ interface: d.name, reason: d.reason }, 'counter discontinuity handled');
      if (d.suspect) deps.logger.warn({ interface: d.name, rxBytes: String(d.counters.rxBytes), txBytes: String(d.counters.txBytes), spanMs: d.endMs - d.startMs }, 'traffic above the link speed: kept, but suspect');
      if (isZeroDelta(d.counters)) continue;
      const sample: TrafficSample = { interfaceName: d.name, startSec: toSeconds(d.startMs), endSec: toSeconds(d.endMs), counters: d.counters };
      const problem = unstorableReason(sample);
      if (problem !== null) {
        const pollSec = toSeconds(reading.timeMs);
        gaps.push({ interfaceName: d.name, startSec: pollSec, endSec: pollSec, reason: 'unstorable', detail: { problem, counters: countersText(d.counters) } });
        deps.logger.warn({ interface: d.name, problem }, 'a delta that cannot be stored: nothing counted for this interval, the new reading is the baseline; the other interfaces are stored');
        continue;
      }
      samples.push(sample);
    }
    if (result.clockWentBack) deps.logger.warn('the clock went back; bytes kept, no rate for this sample');
    runId = persist(samples, gaps, result.next, toSeconds(spanStartMs), toSeconds(reading.timeMs));
    // Committed: the state repo may skip the rows that stay the same at the next poll.
    deps.state.markCommitted();
    state = result.next;
    stateMonoMs = readMonoMs;
    const durationUs = Number(process.hrtime.bigint() - t0) / 1000;
    durations.push(durationUs);
    if (durations.length > DURATION_WINDOW) durations.shift();
    polls++;
    lastPollAtMs = reading.timeMs;
    lastError = null;
    if (samples.length > 0) deps.onSamples?.(samples);
    return { atMs: reading.timeMs, baseline: result.baseline, samples, durationUs };
  }

  function poll(): Promise<PollResult | null> {
    // Polls are chained: a manual poll and a timer tick never interleave.
    const run = chain.then(pollOnce).catch((err: unknown) => {
      failedPolls++;
      lastError = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ err: lastError }, 'poll failed; the collector goes on');
      return null;
    });
    chain = run;
    return run;
  }

  function closeRun(): void {
    if (runId !== null && lastPollAtMs !== null) deps.runs.end(runId, toSeconds(lastPollAtMs));
    runId = null;
  }

  return {
    start(sec) {
      intervalSec = sec;
      if (startedAtMs === null) startedAtMs = clock.now();
      timer.start(sec * 1000);
    },
    stop() {
      timer.stop();
      startedAtMs = null;
      closeRun();
    },
    setInterval(sec) {
      intervalSec = sec;
      if (timer.running) timer.start(sec * 1000);
    },
    async pollNow() {
      const result = await poll();
      if (!timer.running) closeRun();
      return result;
    },
    async shutdown(options = {}) {
      timer.stop();
      const left = startBudget(options.timeoutMs ?? Infinity);
      // A poll in flight finishes first (polls never interleave); then the last one.
      if (await settleWithin(chain, left())) {
        if (!(await settleWithin(poll(), left()))) deps.logger.warn('the last poll did not finish in time; its traffic is counted at the next start');
      } else {
        deps.logger.warn('a poll was still running at shutdown; its traffic is counted at the next start');
      }
      closeRun();
      startedAtMs = null;
    },
    stats() {
      return {
        running: timer.running,
        intervalSec,
        polls,
        failedPolls,
        skippedTicks: timer.skippedTicks,
        lastPollAtMs,
        nextPollAtMs: timer.nextTickAt,
        lastError,
        startedAtMs,
        recentDurationsUs: durations,
      };
    },
  };
}
