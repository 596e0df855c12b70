/**
 * Commits less often than the collector polls (issue #13). Each poll's samples (packed) and the newest
 * counter state wait here; one transaction writes every pending sample, the newest counter state and the run's coverage
 * at once, every `commitEveryMs` (and whenever someone reads: see flushBeforeReads, and at stop/shutdown).
 *
 * The crash rule is unchanged: the stored counter state only ever advances in the same transaction as the
 * samples it accounts for, so a kill -9 between commits loses nothing — the next start finds the last
 * committed state and counts what the kernel counted since, as it does after any downtime. Pending polls
 * are simply re-counted from the kernel, once.
 */
import type { Db } from '../storage/db.js';
import type { CounterGap, GapsRepo } from '../storage/gaps-repo.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import type { StateRepo } from '../storage/state-repo.js';
import type { TrafficRepo, TrafficSample } from '../storage/traffic-repo.js';
import type { CounterState } from './deltas.js';
import { PackedSamples } from './packed-samples.js';

export interface PendingPoll {
  samples: readonly TrafficSample[];
  /** The counter state after this poll (what the next start must resume from once it is committed). */
  state: CounterState;
  /** Earliest start of any delta of this poll (Unix seconds): where a new run's coverage begins. */
  spanStartSec: number;
  pollSec: number;
  /** Intervals this poll could not count (issue #8), marked in the same transaction as its samples. */
  gaps: readonly CounterGap[];
  /** Monotonic time of the reading `state` holds (null: not made by this process). */
  monoMs: number | null;
}

export interface WriteBuffer {
  /** Holds a poll; commits everything pending when `commit` is true or the commit interval has passed. */
  add(poll: PendingPoll, commit?: boolean): void;
  /**
   * Commits what is pending in one transaction (nothing when nothing is pending). When that fails the pending
   * polls are dropped, as a crash would drop them, and state() goes back to the committed state: the next
   * poll counts them again from the kernel. Then it throws.
   */
  flush(): void;
  /** Commits what is pending and closes the run (the collector stopped). */
  closeRun(): void;
  /** The counter state the next poll's deltas start from: the newest pending poll's, else the committed one. */
  state(): CounterState | null;
  /** Monotonic time of the reading state() holds; null when that reading was loaded from the database. */
  stateMonoMs(): number | null;
  readonly pendingPolls: number;
  readonly commits: number;
}

export function createWriteBuffer(deps: {
  db: Db;
  traffic: TrafficRepo;
  state: StateRepo;
  runs: RunsRepo;
  /** Where intervals that could not be counted are marked (counter_gaps); none recorded when absent. */
  gaps?: GapsRepo | undefined;
  now: () => number;
  commitEveryMs: number;
  /** The counter state the database holds (StateRepo.load()). */
  committedState: CounterState | null;
  /** Called after each commit with every sample it stored. */
  onCommit?: ((samples: readonly TrafficSample[]) => void) | undefined;
}): WriteBuffer {
  /**
   * What the pending polls add up to, without an object per poll (issue #13): held as objects until the commit,
   * ten polls' samples and counter states (25 interfaces of 8 BigInts each) lived long enough for V8 to promote
   * them to the old generation, which grew by that garbage until its next full collection. Only the newest
   * state is written, so only it is kept; the samples wait packed.
   */
  const samples = new PackedSamples();
  let pending: { polls: number; state: CounterState; monoMs: number | null; spanStartSec: number; pollSec: number; gaps: CounterGap[] } | null = null;
  let committedState = deps.committedState;
  let committedMonoMs: number | null = null;
  let runId: number | null = null;
  let lastCommitMs = -Infinity;
  let commits = 0;
  /** The newest poll the database holds (where a closed run ends). */
  let committedPollSec: number | null = null;

  /** Every pending sample, counter state and run coverage in one transaction; returns the run id. */
  const persist = deps.db.transaction((held: NonNullable<typeof pending>, stored: readonly TrafficSample[]): number => {
    deps.traffic.write(stored);
    if (held.gaps.length > 0) deps.gaps?.record(held.gaps);
    deps.state.save(held.state);
    if (runId === null) return deps.runs.begin(Math.min(held.pollSec, held.spanStartSec), held.pollSec);
    deps.runs.touch(runId, held.pollSec);
    return runId;
  });

  function flush(): void {
    if (pending === null) return;
    const held = pending;
    pending = null;
    const stored = samples.take();
    // On failure nothing is kept: the polls are counted again from the kernel, from the committed state.
    runId = persist(held, stored);
    // Committed: the state repo may skip the rows that stay the same at the next commit.
    deps.state.markCommitted();
    committedState = held.state;
    committedMonoMs = held.monoMs;
    committedPollSec = held.pollSec;
    lastCommitMs = deps.now();
    commits++;
    if (stored.length > 0) deps.onCommit?.(stored);
  }

  return {
    add(poll, commit = false) {
      samples.push(poll.samples); // throws, holding nothing of this poll, for a counter no column can hold
      if (pending === null) {
        pending = { polls: 1, state: poll.state, monoMs: poll.monoMs, spanStartSec: poll.spanStartSec, pollSec: poll.pollSec, gaps: [...poll.gaps] };
      } else {
        pending.polls++;
        pending.state = poll.state;
        pending.monoMs = poll.monoMs;
        pending.spanStartSec = Math.min(pending.spanStartSec, poll.spanStartSec);
        pending.pollSec = poll.pollSec;
        for (const g of poll.gaps) pending.gaps.push(g);
      }
      // A baseline commits at once: without a stored state a restart would have nothing to count from.
      if (commit || committedState === null || deps.now() - lastCommitMs >= deps.commitEveryMs) flush();
    },
    flush,
    closeRun() {
      try {
        flush();
      } finally {
        if (runId !== null && committedPollSec !== null) deps.runs.end(runId, committedPollSec);
        runId = null;
      }
    },
    state() {
      return pending !== null ? pending.state : committedState;
    },
    stateMonoMs() {
      return pending !== null ? pending.monoMs : committedMonoMs;
    },
    get pendingPolls() {
      return pending?.polls ?? 0;
    },
    get commits() {
      return commits;
    },
  };
}

/**
 * The repo as readers see it: every method but the named writers first commits what the collector holds,
 * so an answer always includes the newest polls. A failed commit is reported and the read goes on with what
 * the database holds (the polls stay pending for the next commit).
 */
export function flushBeforeReads<T extends object>(repo: T, flush: () => void, writers: readonly (keyof T)[], onError: (err: unknown) => void): T {
  const skip = new Set<PropertyKey>(writers);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(repo, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || skip.has(key)) return value;
      let fn = wrapped.get(key);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          try {
            flush();
          } catch (err) {
            onError(err);
          }
          return method.apply(target, args);
        };
        wrapped.set(key, fn);
      }
      return fn;
    },
  });
}
