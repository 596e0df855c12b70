/**
 * Per-host totals, the loop: read the netpulse table's sets, turn the element counters into per-host deltas,
 * and store them with the new element state in one transaction (a crash, even kill -9, leaves the database
 * where the next start counts every byte once). The table itself:
 * - at start, adopted when it is still there from this boot with the handle and fingerprint we stored (what
 *   passed while Net-Pulse was down is then counted once); counted first and then replaced when it is ours but
 *   its rules differ (a changed NETPULSE_LAN_CIDRS); otherwise created afresh (its elements count from zero);
 * - at stop, read one last time and deleted.
 * Each poll reads the elements over netlink when a set reader is given (src/flows/nft-netlink.ts, ~1 ms for
 * 500 elements), with the table's handle to notice a replaced table; the full libnftables listing (and its
 * fingerprint of the rules) is read at start and every `shapeCheckMs`. Without a reader, or once it fails,
 * every poll reads the full listing as before.
 */
import { computeHostDeltas } from './host-deltas.js';
import type { HostIdentity } from './host-identity.js';
import { hostIdOf } from './host-names.js';
import type { HostSample, HostsRepo, StoredHostState } from './hosts-repo.js';
import { DELETE_TABLE, LIST_TABLE, parseTableListing, type FlowsMode, type TableListing, type TablePlan } from './nft-plan.js';
import type { NftSetReader } from './nft-netlink.js';
import type { NftRunner } from './nft-seam.js';
import type { InterfaceState } from '../collector/deltas.js';
import type { Logger } from '../shared/logger.js';
import type { Db } from '../storage/db.js';
import type { RunsRepo } from '../storage/runs-repo.js';

export interface HostCounterDeps {
  db: Db;
  repo: HostsRepo;
  runs: RunsRepo;
  runner: NftRunner;
  plan: TablePlan;
  identity: HostIdentity;
  logger: Logger;
  now: () => number;
  bootId: string | null;
  /** The netlink reader for the polls in between shape checks; null/absent: every poll lists the table. */
  setReader?: NftSetReader | null;
  /** How often a poll reads the full listing to check the table's rules (fingerprint); default 60 s. */
  shapeCheckMs?: number;
}

export const SHAPE_CHECK_MS = 60_000;

export interface HostPollResult {
  atMs: number;
  hosts: number;
  elements: number;
  readUs: number;
}

export interface HostCounter {
  readonly mode: FlowsMode;
  /** 'adopted' | 'created' | 'replaced': what start found. */
  readonly startedAs: string;
  poll(): Promise<HostPollResult>;
  /** Last poll, then the table is deleted. */
  close(): Promise<void>;
  stats(): { polls: number; failedPolls: number; lastError: string | null; lastPollAtMs: number | null; elements: number; lastReadUs: number | null; reader: 'netlink' | 'listing'; readerReason: string | null };
}

const toSec = (ms: number) => Math.floor(ms / 1000);

function listTable(runner: NftRunner): TableListing | null {
  try {
    return parseTableListing(runner.run(LIST_TABLE));
  } catch {
    return null; // no such table
  }
}

export async function startHostCounter(deps: HostCounterDeps): Promise<HostCounter> {
  const { repo, runner, plan, logger } = deps;
  const stored = repo.loadState();
  let saved: ReadonlyMap<string, InterfaceState> | null = null;
  let state: StoredHostState;
  let startedAs: string;
  const existing = listTable(runner);
  const ours = existing !== null && stored !== null && stored.bootId === deps.bootId && stored.tableHandle === existing.handle && stored.mode === plan.mode;

  const runId = { current: null as number | null };
  const persist = deps.db.transaction((samples: HostSample[], next: StoredHostState, atSec: number, spanStartSec: number) => {
    repo.write(samples);
    repo.saveState(next, saved);
    if (runId.current === null) runId.current = deps.runs.begin(Math.min(spanStartSec, atSec), atSec);
    else deps.runs.touch(runId.current, atSec);
  });

  let polls = 0;
  let failedPolls = 0;
  let lastError: string | null = null;
  let lastPollAtMs: number | null = null;
  let lastReadUs: number | null = null;
  let elementCount = 0;
  let chain: Promise<unknown> = Promise.resolve();
  let setReader: NftSetReader | null = deps.setReader ?? null;
  let readerReason: string | null = setReader === null ? 'no netlink set reader' : null;
  const shapeCheckMs = deps.shapeCheckMs ?? SHAPE_CHECK_MS;
  let lastShapeCheckMs = -Infinity;

  /** Counts one listing against the state; the caller has the table's handle and fingerprint. */
  async function count(listing: TableListing, atMs: number): Promise<number> {
    const prev = { timeMs: state.timeMs, bootId: state.bootId, interfaces: state.elements };
    const result = computeHostDeltas(prev, listing.elements, atMs, deps.bootId);
    const unknown = result.deltas.some((d) => deps.identity.macOf(d.address) === null);
    if (unknown) await deps.identity.refreshNeighbours(true).catch(() => undefined);
    const nowSec = toSec(atMs);
    const samples: HostSample[] = [];
    let spanStartMs = atMs;
    const ids = new Set<string>();
    const assign = () => {
      for (const d of result.deltas) {
        const mac = deps.identity.macOf(d.address);
        const hostId = hostIdOf(d.address, mac);
        repo.touchHost(hostId, plan.mode, mac, nowSec);
        const before = repo.setAddress(d.address, hostId, nowSec);
        // An address first seen without a MAC was its own host; now that the device is known, it joins it.
        if (before !== null && before !== hostId && before.startsWith('ip-')) repo.mergeHost(before, hostId);
        ids.add(hostId);
        spanStartMs = Math.min(spanStartMs, d.startMs);
        samples.push({ hostId, startSec: toSec(d.startMs), endSec: toSec(d.endMs), rxBytes: d.rxBytes, txBytes: d.txBytes, rxPackets: d.rxPackets, txPackets: d.txPackets });
      }
    };
    const next: StoredHostState = { timeMs: atMs, bootId: deps.bootId, mode: plan.mode, tableHandle: listing.handle, fingerprint: listing.fingerprint, elements: result.next.interfaces };
    deps.db.transaction(() => {
      assign();
      persist(samples, next, nowSec, toSec(spanStartMs));
    })();
    saved = next.elements;
    state = next;
    elementCount = listing.elements.length;
    return ids.size;
  }

  function emptyState(atMs: number, listing: TableListing | null): StoredHostState {
    return { timeMs: atMs, bootId: deps.bootId, mode: plan.mode, tableHandle: listing?.handle ?? null, fingerprint: listing?.fingerprint ?? null, elements: new Map() };
  }

  if (ours && existing.fingerprint === stored.fingerprint) {
    state = stored;
    startedAs = 'adopted';
    await count(existing, deps.now());
  } else {
    if (ours) {
      // Ours from this boot, but its rules changed: count what it holds, then replace it.
      state = stored;
      await count(existing, deps.now()).catch((err: unknown) => logger.warn({ err }, 'hosts: counting the old table failed'));
    }
    runner.run(plan.script);
    const created = listTable(runner);
    if (created === null) throw new Error('the netpulse table is not there after creating it');
    startedAs = existing === null ? 'created' : 'replaced';
    // A new table: every element is new and counts from zero, from now.
    state = emptyState(deps.now(), created);
    deps.db.transaction(() => {
      repo.saveState(state, null);
      runId.current = deps.runs.begin(toSec(state.timeMs), toSec(state.timeMs));
    })();
    saved = state.elements;
  }
  lastShapeCheckMs = deps.now();
  logger.info({ mode: plan.mode, table: startedAs, via: runner.kind }, 'hosts: counting per host in nft table inet netpulse');

  /** The netlink read as a listing with the fingerprint of the last shape check; undefined: use the full listing. */
  async function readFast(): Promise<TableListing | null | undefined> {
    if (setReader === null || deps.now() - lastShapeCheckMs >= shapeCheckMs) return undefined;
    try {
      const r = await setReader.read();
      return r === null ? null : { handle: r.handle, fingerprint: state.fingerprint ?? '', elements: r.elements };
    } catch (err) {
      // Said once; from now on every poll reads the full listing, as without netlink.
      readerReason = `netlink set read failed: ${err instanceof Error ? err.message : String(err)}`;
      logger.warn({ reason: readerReason }, 'hosts: reading the sets over netlink failed; listing the table through nft from now on');
      setReader.close();
      setReader = null;
      return undefined;
    }
  }

  async function pollOnce(): Promise<HostPollResult> {
    const t0 = process.hrtime.bigint();
    let listing = await readFast();
    let atMs = deps.now();
    if (listing === undefined) {
      listing = parseTableListing(runner.run(LIST_TABLE));
      atMs = deps.now();
      lastShapeCheckMs = atMs;
    }
    lastReadUs = Number(process.hrtime.bigint() - t0) / 1000;
    if (listing === null) throw new Error('the netpulse table is gone');
    if (listing.handle !== state.tableHandle || listing.fingerprint !== state.fingerprint) {
      // Someone deleted or changed it: put ours back; its elements count from zero.
      logger.warn({ handle: listing.handle }, 'hosts: the netpulse table was changed from outside; re-creating it');
      runner.run(plan.script);
      const created = listTable(runner);
      state = emptyState(deps.now(), created);
      deps.db.transaction(() => repo.saveState(state, saved))();
      saved = state.elements;
      lastShapeCheckMs = deps.now();
      return { atMs, hosts: 0, elements: 0, readUs: lastReadUs };
    }
    const hosts = await count(listing, atMs);
    polls++;
    lastPollAtMs = atMs;
    lastError = null;
    return { atMs, hosts, elements: listing.elements.length, readUs: lastReadUs };
  }

  function poll(): Promise<HostPollResult> {
    const run = chain.then(pollOnce);
    chain = run.catch((err: unknown) => {
      failedPolls++;
      lastError = err instanceof Error ? err.message : String(err);
      logger.warn({ err: lastError }, 'hosts: poll failed; trying again next time');
    });
    return run;
  }

  let closed = false;
  return {
    mode: plan.mode,
    startedAs,
    poll,
    async close() {
      if (closed) return;
      closed = true;
      await chain;
      await poll().catch(() => undefined);
      setReader?.close();
      setReader = null;
      try {
        runner.run(DELETE_TABLE);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'hosts: deleting the netpulse table failed');
      }
      // The table is gone: a next start creates a new one, whose elements count from zero.
      const gone = { ...state, tableHandle: null, fingerprint: null };
      deps.db.transaction(() => {
        repo.saveState(gone, saved);
        if (runId.current !== null && lastPollAtMs !== null) deps.runs.end(runId.current, toSec(lastPollAtMs));
      })();
    },
    stats() {
      return { polls, failedPolls, lastError, lastPollAtMs, elements: elementCount, lastReadUs, reader: setReader === null ? 'listing' : 'netlink', readerReason };
    },
  };
}
