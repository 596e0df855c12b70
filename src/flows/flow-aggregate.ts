/**
 * The flow table: conntrack entries (from dumps and DESTROY events) turned into tracked flows with labels,
 * byte deltas that count every byte once, the recently ended flows, and per-hour history rows
 * (host × category × domain). Pure: entries and times in, rows out; no socket, no database.
 *
 * Counting rules (the same as an interface counter's):
 * - the first dump is the baseline: flows already open then count from what they had (their earlier bytes
 *   were either counted by a previous run or passed before Net-Pulse watched);
 * - a flow first seen later counts from zero: all its bytes are new, including one that opened and closed
 *   between two dumps and is known only from its DESTROY event;
 * - a flow that vanished from a dump without an event (created before the event listener existed) ends
 *   with the bytes of its last dump;
 * - a counter smaller than the last one seen (someone zeroed it) counts as a reset.
 */
import type { TrafficCategory } from '../shared/traffic-categories.js';
import type { Classifier } from './categories.js';
import { protocolName, type CtEntry, type FlowProtocol } from './conntrack-codec.js';
import { flowKey } from './packet.js';

export interface Flow {
  /** conntrack id + tuple: unique for the life of the entry. */
  uid: string;
  /** The original-direction 5-tuple key (see flowKey). */
  key: string;
  ctId: number;
  entry: CtEntry;
  protocol: FlowProtocol;
  /** The LAN side of the flow (router: the client; host: this machine's address), for per-host history. */
  host: string;
  origBytes: bigint;
  replyBytes: bigint;
  origPackets: bigint;
  replyPackets: bigint;
  category: TrafficCategory;
  domain: string | null;
  /** The domain is a DNS answer for the server's address, not the flow's own server name. */
  domainFromAddress: boolean;
  startedAtMs: number;
  endedAtMs: number | null;
  lastSeenMs: number;
  /** What has been added to history already. */
  counted: { origBytes: bigint; replyBytes: bigint; origPackets: bigint; replyPackets: bigint };
}

export interface HourRow {
  bucketStartSec: number;
  host: string;
  category: TrafficCategory;
  /** '' when no name is known. */
  domain: string;
  origBytes: bigint;
  replyBytes: bigint;
  origPackets: bigint;
  replyPackets: bigint;
  /** Flows that ended in this hour. */
  flows: number;
}

export interface FlowTableOptions {
  classifier: () => Classifier;
  isLan: (address: string) => boolean;
  /** A domain for a server address (from DNS answers), or null. */
  domainOfAddress?: (address: string, nowMs: number) => string | null;
  maxActive?: number;
  maxRecent?: number;
  /** Labels from the packet path that arrive before their flow is seen (bounded, by tuple key). */
  maxPendingLabels?: number;
  pendingLabelTtlMs?: number;
}

const ZERO = { origBytes: 0n, replyBytes: 0n, origPackets: 0n, replyPackets: 0n };
const HOUR_SEC = 3600;

export function entryKey(e: CtEntry): string {
  return flowKey(e.orig.protoNum, e.orig.src, e.orig.srcPort, e.orig.dst, e.orig.dstPort);
}

export class FlowTable {
  private readonly active = new Map<string, Flow>();
  private readonly byKey = new Map<string, Flow>();
  private readonly recent: Flow[] = [];
  private readonly pending = new Map<string, HourRow>();
  private readonly pendingLabels = new Map<string, { domain: string; atMs: number }>();
  private baselineTaken = false;
  private readonly maxActive: number;
  private readonly maxRecent: number;
  private readonly maxPendingLabels: number;
  private readonly pendingLabelTtlMs: number;
  /** Flows not tracked because the table was full (their bytes are not counted: said by status()). */
  untracked = 0;
  /** Flows that ended without a DESTROY event (vanished between dumps). */
  endedWithoutEvent = 0;

  constructor(private readonly options: FlowTableOptions) {
    this.maxActive = options.maxActive ?? 32_768;
    this.maxRecent = options.maxRecent ?? 2_000;
    this.maxPendingLabels = options.maxPendingLabels ?? 4_096;
    this.pendingLabelTtlMs = options.pendingLabelTtlMs ?? 120_000;
  }

  get activeCount(): number {
    return this.active.size;
  }

  get hasBaseline(): boolean {
    return this.baselineTaken;
  }

  /** One dump: every entry now in the table. Flows missing from it have ended. Returns the flows first seen. */
  applyDump(entries: readonly CtEntry[], nowMs: number): Flow[] {
    const baseline = !this.baselineTaken;
    this.baselineTaken = true;
    const seen = new Set<string>();
    const created: Flow[] = [];
    for (const e of entries) {
      const uid = `${e.id}|${entryKey(e)}`;
      seen.add(uid);
      let f = this.active.get(uid);
      if (f === undefined) {
        const made = this.track(e, uid, nowMs, baseline);
        if (made === null) continue;
        f = made;
        created.push(f);
      }
      this.update(f, e, nowMs);
    }
    for (const [uid, f] of this.active) {
      if (!seen.has(uid)) {
        this.endedWithoutEvent++;
        this.end(f, nowMs);
      }
    }
    return created;
  }

  /** A DESTROY event: the entry's final counters. Returns the ended flow (null when it was never tracked and is not countable). */
  applyDestroy(e: CtEntry, nowMs: number): Flow | null {
    const uid = `${e.id}|${entryKey(e)}`;
    let f = this.active.get(uid);
    if (f === undefined) {
      // Opened and closed between two dumps (or before the first): all its bytes are new.
      const made = this.track(e, uid, nowMs, false);
      if (made === null) return null;
      f = made;
    }
    this.update(f, e, nowMs);
    const endMs = e.stopNs !== null && e.stopNs > 0n ? Number(e.stopNs / 1_000_000n) : nowMs;
    this.end(f, endMs);
    return f;
  }

  /** A name seen on the packet path (TLS SNI) for the flow with this orig tuple key. Returns the flow when it is tracked. */
  label(key: string, domain: string, nowMs: number): Flow | null {
    const f = this.byKey.get(key);
    if (f !== undefined) {
      this.setDomain(f, domain);
      return f;
    }
    this.pendingLabels.delete(key);
    this.pendingLabels.set(key, { domain, atMs: nowMs });
    while (this.pendingLabels.size > this.maxPendingLabels) this.pendingLabels.delete(this.pendingLabels.keys().next().value!);
    return null;
  }

  /** Re-labels every active flow (after the category table changed). */
  relabelAll(): void {
    for (const f of this.active.values()) f.category = this.options.classifier().classify({ protocol: f.protocol, dstPort: f.entry.orig.dstPort, domain: f.domain, domainFromAddress: f.domainFromAddress });
  }

  activeFlows(): Flow[] {
    return [...this.active.values()];
  }

  /** Ended flows, newest first. */
  recentFlows(): Flow[] {
    return [...this.recent].reverse();
  }

  /** The history rows gathered since the last take (the caller writes them; on failure, give them back). */
  takeHourRows(): HourRow[] {
    const rows = [...this.pending.values()];
    this.pending.clear();
    return rows;
  }

  /** Puts rows back after a failed write, so no byte is lost. */
  restoreHourRows(rows: readonly HourRow[]): void {
    for (const r of rows) this.addRow(r.bucketStartSec, r.host, r.category, r.domain, r, r.flows);
  }

  /** The rows not yet taken (for reads that must include the last minute). */
  peekHourRows(): HourRow[] {
    return [...this.pending.values()].map((r) => ({ ...r }));
  }

  private track(e: CtEntry, uid: string, nowMs: number, baseline: boolean): Flow | null {
    if (this.active.size >= this.maxActive) {
      this.untracked++;
      return null;
    }
    const key = entryKey(e);
    const isLan = this.options.isLan;
    const host = isLan(e.orig.src) ? e.orig.src : isLan(e.orig.dst) ? e.orig.dst : e.orig.src;
    const label = this.pendingLabels.get(key);
    if (label !== undefined) this.pendingLabels.delete(key);
    const fresh = label !== undefined && nowMs - label.atMs <= this.pendingLabelTtlMs;
    const domain = fresh ? label.domain : (this.options.domainOfAddress?.(e.orig.dst, nowMs) ?? null);
    const domainFromAddress = !fresh && domain !== null;
    const protocol = protocolName(e.orig.protoNum);
    const startedAtMs = e.startNs !== null && e.startNs > 0n ? Number(e.startNs / 1_000_000n) : nowMs;
    const f: Flow = {
      uid,
      key,
      ctId: e.id,
      entry: e,
      protocol,
      host,
      ...ZERO,
      category: this.options.classifier().classify({ protocol, dstPort: e.orig.dstPort, domain, domainFromAddress }),
      domain,
      domainFromAddress,
      startedAtMs,
      endedAtMs: null,
      lastSeenMs: nowMs,
      counted: baseline ? { origBytes: e.origBytes ?? 0n, replyBytes: e.replyBytes ?? 0n, origPackets: e.origPackets ?? 0n, replyPackets: e.replyPackets ?? 0n } : { ...ZERO },
    };
    this.active.set(uid, f);
    this.byKey.set(key, f);
    return f;
  }

  private setDomain(f: Flow, domain: string): void {
    f.domain = domain;
    f.domainFromAddress = false;
    f.category = this.options.classifier().classify({ protocol: f.protocol, dstPort: f.entry.orig.dstPort, domain });
  }

  private update(f: Flow, e: CtEntry, nowMs: number): void {
    f.entry = e;
    f.lastSeenMs = nowMs;
    f.origBytes = e.origBytes ?? f.origBytes;
    f.replyBytes = e.replyBytes ?? f.replyBytes;
    f.origPackets = e.origPackets ?? f.origPackets;
    f.replyPackets = e.replyPackets ?? f.replyPackets;
    const delta = (now: bigint, was: bigint) => (now >= was ? now - was : now);
    const d = {
      origBytes: delta(f.origBytes, f.counted.origBytes),
      replyBytes: delta(f.replyBytes, f.counted.replyBytes),
      origPackets: delta(f.origPackets, f.counted.origPackets),
      replyPackets: delta(f.replyPackets, f.counted.replyPackets),
    };
    f.counted = { origBytes: f.origBytes, replyBytes: f.replyBytes, origPackets: f.origPackets, replyPackets: f.replyPackets };
    if (d.origBytes + d.replyBytes + d.origPackets + d.replyPackets > 0n) this.addRow(hourOf(nowMs), f.host, f.category, f.domain ?? '', d, 0);
  }

  private end(f: Flow, endMs: number): void {
    f.endedAtMs = endMs;
    this.active.delete(f.uid);
    if (this.byKey.get(f.key) === f) this.byKey.delete(f.key);
    this.addRow(hourOf(endMs), f.host, f.category, f.domain ?? '', ZERO, 1);
    this.recent.push(f);
    if (this.recent.length > this.maxRecent) this.recent.splice(0, this.recent.length - this.maxRecent);
  }

  private addRow(bucketStartSec: number, host: string, category: TrafficCategory, domain: string, d: { origBytes: bigint; replyBytes: bigint; origPackets: bigint; replyPackets: bigint }, flows: number): void {
    const k = `${bucketStartSec}|${host}|${category}|${domain}`;
    const r = this.pending.get(k);
    if (r === undefined) {
      this.pending.set(k, { bucketStartSec, host, category, domain, origBytes: d.origBytes, replyBytes: d.replyBytes, origPackets: d.origPackets, replyPackets: d.replyPackets, flows });
      return;
    }
    r.origBytes += d.origBytes;
    r.replyBytes += d.replyBytes;
    r.origPackets += d.origPackets;
    r.replyPackets += d.replyPackets;
    r.flows += flows;
  }
}

export function hourOf(ms: number): number {
  const sec = Math.floor(ms / 1000);
  return sec - (sec % HOUR_SEC);
}
