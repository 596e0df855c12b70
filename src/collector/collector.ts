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
import { COUNTER_FIELDS, type CounterReading, type CounterSource, type RawCounters } from './counter-source.js';
import { MAX_STORED_DELTA, computeDeltas, isZeroDelta, type CounterState, type InterfaceDelta, type InterfaceState } from './deltas.js';
import { settleWithin, startBudget } from '../shared/deadline.js';
import { createAlignedTimer, systemClock, type Clock } from './scheduler.js';
import { createWriteBuffer } from './write-buffer.js';

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
  /** Called after every commit with the samples it stored (for all-time totals, alerts, sync). */
  onSamples?: (samples: readonly TrafficSample[]) => void;
  /**
   * Called with every poll's reading and its deltas from the previous reading (taken at prevTimeMs, null for
   * a baseline), before they are stored: the live view publishes them instead of reading again (issue #13).
   */
  onReading?: (reading: CounterReading, deltas: readonly InterfaceDelta[], prevTimeMs: number | null) => void;
  /**
   * Timer polls are committed together once this many seconds have passed since the last commit (issue #13);
   * 0 (the default) commits every poll. A manual poll, stop and shutdown always commit.
   */
  commitEverySec?: number;
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
  /** Polls not yet committed (answers include them: readers flush first). */
  pendingPolls: number;
  commits: number;
  /** Durations of the last polls in µs (read + parse + deltas + write), newest last. */
  recentDurationsUs: readonly number[];
}

/**
 * An interface's counters from a link message (rtnetlink RTM_NEWLINK / RTM_DELLINK, link-events.ts): the
 * last ones the kernel had for a device going down or away, which no poll will ever read again.
 */
export interface LinkCounters {
  ifindex: number;
  /** The device's name in the message (IFLA_IFNAME), when it has one. */
  name: string | null;
  counters: RawCounters;
  /** RTM_DELLINK: the device left this namespace (deleted, or moved to another namespace). */
  gone: boolean;
  /** Wall-clock and monotonic ms when the message was received. */
  timeMs: number;
  monoMs: number;
}

export interface Collector {
  start(intervalSec: number): void;
  stop(): void;
  setInterval(intervalSec: number): void;
  /**
   * Polls now (also when stopped) and commits it with whatever is pending, unless `commit: false` (then it
   * waits like a timer poll). Never throws: a failed poll is logged and reported.
   */
  pollNow(options?: { commit?: boolean }): Promise<PollResult | null>;
  /**
   * Stops the timer, takes a last poll so nothing pending is lost, commits and closes the run. With timeoutMs,
   * waits at most that long in all (a poll that doesn't finish in time leaves its traffic in the counter
   * state, counted at the next start).
   */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  /** Commits the polls that wait for the next commit (before a read that must include them). */
  flush(): void;
  /**
   * Counts the traffic an interface carried between the last reading and a link message's counters, through
   * the same delta rules, state and write path as a poll (so it is counted once, also across a restart).
   * Chained with the polls; never throws.
   */
  noteLinkCounters(link: LinkCounters): Promise<void>;
  stats(): CollectorStats;
}

/** How long the last state of an interface replaced by a re-created one is kept for its late DELLINK. */
const REPLACED_KEEP_MS = 60_000;

/** Each counter's larger value: a link message of a device being unlinked lacks some (see applyLinkCounters). */
function maxCounters(a: RawCounters, b: RawCounters): RawCounters {
  let out: RawCounters | null = null;
  for (const f of COUNTER_FIELDS) {
    if (b[f] > a[f]) {
      out ??= { ...a };
      out[f] = b[f];
    }
  }
  return out ?? a;
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
  let intervalSec = 30;
  let polls = 0;
  let failedPolls = 0;
  let lastPollAtMs: number | null = null;
  let lastError: string | null = null;
  let startedAtMs: number | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const durations: number[] = [];
  const timer = createAlignedTimer(() => poll(false).then(() => undefined), clock);
  const writes = createWriteBuffer({
    db: deps.db,
    traffic: deps.traffic,
    state: deps.state,
    runs: deps.runs,
    now: () => clock.now(),
    commitEveryMs: (deps.commitEverySec ?? 0) * 1000,
    committedState: deps.state.load(),
    onCommit: deps.onSamples,
    gaps: deps.gaps,
  });

  async function pollOnce(commitNow: boolean): Promise<PollResult> {
    const t0 = process.hrtime.bigint();
    const reading = await deps.source.readCounters();
    const readMonoMs = monotonicMs();
    for (const f of reading.failures) deps.logger.warn({ interface: f.name, err: f.error }, 'reading an interface failed; the others were read');
    // After a reboot, the traffic since boot is spread from the boot time, not from our last reading.
    const state = writes.state();
    const rebooted = state !== null && state.bootId !== null && reading.bootId !== null && state.bootId !== reading.bootId;
    const bootTimeMs = rebooted ? await deps.source.readBootTimeMs().catch(() => null) : null;
    const stateMonoMs = writes.stateMonoMs();
    const monotonicElapsedMs = stateMonoMs === null || rebooted ? null : readMonoMs - stateMonoMs;
    const result = computeDeltas(state, reading, { speedMbps: deps.speedMbps, bootTimeMs, monotonicElapsedMs });
    rememberReplaced(state, result.deltas, stateMonoMs);
    try {
      deps.onReading?.(reading, result.deltas, state?.timeMs ?? null);
    } catch (err) {
      // What listens to readings never fails a poll.
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a reading listener failed; the poll goes on');
    }
    const { samples, gaps, spanStartMs } = samplesOf(result.deltas, reading.timeMs);
    if (result.clockWentBack) deps.logger.warn('the clock went back; bytes kept, no rate for this sample');
    // The state advances on disk only with the commit of these samples (write-buffer.ts).
    writes.add({ samples, gaps, state: result.next, spanStartSec: toSeconds(spanStartMs), pollSec: toSeconds(reading.timeMs), monoMs: readMonoMs }, commitNow);
    const durationUs = Number(process.hrtime.bigint() - t0) / 1000;
    durations.push(durationUs);
    if (durations.length > DURATION_WINDOW) durations.shift();
    polls++;
    lastPollAtMs = reading.timeMs;
    lastError = null;
    return { atMs: reading.timeMs, baseline: result.baseline, samples, durationUs };
  }

  /** The samples and gaps of a reading's deltas (monitored interfaces only), logged as the rules say. */
  function samplesOf(deltas: readonly InterfaceDelta[], readingTimeMs: number): { samples: TrafficSample[]; gaps: CounterGap[]; spanStartMs: number } {
    const monitored = deps.monitored();
    const samples: TrafficSample[] = [];
    const gaps: CounterGap[] = [];
    let spanStartMs = readingTimeMs;
    for (const d of deltas) {
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
        const pollSec = toSeconds(readingTimeMs);
        gaps.push({ interfaceName: d.name, startSec: pollSec, endSec: pollSec, reason: 'unstorable', detail: { problem, counters: countersText(d.counters) } });
        deps.logger.warn({ interface: d.name, problem }, 'a delta that cannot be stored: nothing counted for this interval, the new reading is the baseline; the other interfaces are stored');
        continue;
      }
      samples.push(sample);
    }
    return { samples, gaps, spanStartMs };
  }

  /**
   * Interfaces a poll found re-created (new ifindex), by their old ifindex: their last state, for a DELLINK
   * of the old device that is handled only after that poll (the event loop ran the poll first). Not persisted:
   * after a restart such a message is not counted (bytes lost, never counted twice).
   */
  const replaced = new Map<number, { name: string; entry: InterfaceState; timeMs: number; monoMs: number | null }>();

  function rememberReplaced(prev: CounterState | null, deltas: readonly InterfaceDelta[], prevMonoMs: number | null): void {
    for (const [ifindex, r] of replaced) if (clock.now() - r.timeMs > REPLACED_KEEP_MS || replaced.size > 64) replaced.delete(ifindex);
    if (prev === null) return;
    for (const d of deltas) {
      if (d.reason !== 'recreated') continue;
      const entry = prev.interfaces.get(d.name);
      if (entry === undefined || entry.ifindex === null) continue;
      replaced.set(entry.ifindex, { name: d.name, entry, timeMs: entry.seenAtMs ?? prev.timeMs, monoMs: entry.seenAtMs === undefined ? prevMonoMs : null });
    }
  }

  function applyLinkCounters(link: LinkCounters): void {
    const state = writes.state();
    if (state === null) return;
    // The ifindex is the device: its name may have changed since the last poll (the history keeps the old one).
    // An ifindex can be reused: a remembered (vanished) device may share it with a present one. The entry
    // of the message's name wins, then a present one, then a remembered one.
    let name: string | null = null;
    let entry: InterfaceState | undefined;
    const named = link.name === null ? undefined : state.interfaces.get(link.name);
    if (link.name !== null && named?.ifindex === link.ifindex) {
      name = link.name;
      entry = named;
    } else {
      for (const [n, s] of state.interfaces) {
        if (s.ifindex !== link.ifindex || (entry !== undefined && s.seenAtMs !== undefined)) continue;
        name = n;
        entry = s;
        if (s.seenAtMs === undefined) break;
      }
    }
    let sinceMs: number;
    let sinceMonoMs: number | null;
    const old = name === null ? replaced.get(link.ifindex) : undefined;
    if (name !== null && entry !== undefined) {
      sinceMs = entry.seenAtMs ?? state.timeMs;
      sinceMonoMs = entry.seenAtMs === undefined ? writes.stateMonoMs() : null;
    } else if (old !== undefined) {
      ({ name, entry } = old);
      sinceMs = old.timeMs;
      sinceMonoMs = old.monoMs;
      replaced.delete(link.ifindex);
    } else {
      return; // not a device we have a reading of: the next poll counts it from zero, as any new one
    }
    // A counter below the last reading is one the message does not carry (a veth's rx once its pair is
    // unlinked reads 0): it keeps its value and counts nothing, rather than pass for a reset.
    const counters = maxCounters(entry.counters, link.counters);
    if (counters === entry.counters && !(link.gone && old === undefined && entry.seenAtMs === undefined)) return;
    const prev: CounterState = { timeMs: sinceMs, bootId: state.bootId, interfaces: new Map([[name, { ifindex: link.ifindex, counters: entry.counters }]]) };
    const reading: CounterReading = { timeMs: link.timeMs, bootId: state.bootId, interfaces: [{ name, ifindex: link.ifindex, counters }], failures: [] };
    const result = computeDeltas(prev, reading, { speedMbps: deps.speedMbps, monotonicElapsedMs: sinceMonoMs === null ? null : link.monoMs - sinceMonoMs });
    const { samples, gaps, spanStartMs } = samplesOf(result.deltas, link.timeMs);
    let next = state;
    if (old === undefined) {
      // Same state otherwise (other interfaces keep the poll's reading); a device that left is remembered
      // with these counters, as last read now: back with the same ifindex it carries on from them.
      const interfaces = new Map(state.interfaces);
      interfaces.set(name, link.gone ? { ifindex: link.ifindex, counters, seenAtMs: link.timeMs } : { ifindex: link.ifindex, counters });
      next = { timeMs: state.timeMs, bootId: state.bootId, interfaces };
    }
    if (samples.length > 0) deps.logger.info({ interface: name, ifindex: link.ifindex, gone: link.gone }, 'counted the traffic up to a link message');
    // A device that went away commits at once: its counters exist nowhere else any more.
    writes.add({ samples, gaps, state: next, spanStartSec: toSeconds(Math.min(spanStartMs, link.timeMs)), pollSec: toSeconds(Math.max(link.timeMs, state.timeMs)), monoMs: writes.stateMonoMs() }, link.gone);
    if (link.gone && !timer.running) closeRun();
  }

  function poll(commitNow: boolean): Promise<PollResult | null> {
    // Polls are chained: a manual poll and a timer tick never interleave.
    const run = chain.then(() => pollOnce(commitNow)).catch((err: unknown) => {
      failedPolls++;
      lastError = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ err: lastError }, 'poll failed; the collector goes on');
      return null;
    });
    chain = run;
    return run;
  }

  function closeRun(): void {
    writes.closeRun();
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
    async pollNow(options = {}) {
      const commit = options.commit ?? true;
      const result = await poll(commit);
      // Stopped: a committed manual poll is a run of its own; an uncommitted one waits in the open run.
      if (!timer.running && commit) closeRun();
      return result;
    },
    async shutdown(options = {}) {
      timer.stop();
      const left = startBudget(options.timeoutMs ?? Infinity);
      // A poll in flight finishes first (polls never interleave); then the last one.
      if (await settleWithin(chain, left())) {
        if (!(await settleWithin(poll(true), left()))) deps.logger.warn('the last poll did not finish in time; its traffic is counted at the next start');
      } else {
        deps.logger.warn('a poll was still running at shutdown; its traffic is counted at the next start');
      }
      closeRun();
      startedAtMs = null;
    },
    flush() {
      writes.flush();
    },
    noteLinkCounters(link) {
      const run = chain.then(() => applyLinkCounters(link)).catch((err: unknown) => {
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err), ifindex: link.ifindex }, 'counting a link message failed; the next poll counts from the last committed reading');
      });
      chain = run;
      return run;
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
        pendingPolls: writes.pendingPolls,
        commits: writes.commits,
        recentDurationsUs: durations,
      };
    },
  };
}
