/**
 * startFlowTracking: flows and classification wired together — probe, nft table, conntrack dumps and
 * DESTROY events, NFLOG packets → labels → ct marks, history in SQLite — behind one object the API reads.
 * Loaded with `await import()` only when NETPULSE_FLOWS=on. Every piece that the kernel or the privileges
 * refuse is turned off alone and said in status(); nothing here stops the server.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Db } from '../storage/db.js';
import { CT_MARK_MASK, categoryFromMark, categoryMark, type TrafficCategory } from '../shared/traffic-categories.js';
import { DEFAULT_CATEGORY_TABLE, createClassifier, normalizeCategoryTable, type CategoryTable, type Classifier } from './categories.js';
import { createCidrMatcher } from './cidr.js';
import type { CtTuple } from './conntrack-codec.js';
import { openConntrack, switchOn, type Conntrack, type SysctlSwitch } from './conntrack.js';
import { DnsCache } from './dns.js';
import { FlowTable, hourOf, type Flow, type HourRow } from './flow-aggregate.js';
import { createFlowHistoryRepo, type CategoryTotal } from './flow-history-repo.js';
import { openNflog, type Nflog } from './nflog.js';
import { applyFlowsTable, buildFlowsRuleset, listRuleset, nftMissingReason, removeFlowsTable, rulesetUsesConntrack } from './nft-table.js';
import { PacketClassifier } from './packet-classifier.js';

export interface FlowTrackingDeps {
  config: Config;
  db: Db;
  logger: Logger;
  now: () => number;
  /** Replaces the kernel seam (tests of the service without root). */
  openConntrack?: () => Promise<Conntrack>;
  openNflog?: typeof openNflog;
  /** false: never touch nftables or sysctls (tests with a fake seam). */
  manageKernel?: boolean;
}

export interface FlowView {
  protocol: string;
  src_address: string;
  src_port: number;
  dst_address: string;
  dst_port: number;
  orig_bytes: bigint;
  reply_bytes: bigint;
  orig_packets: bigint;
  reply_packets: bigint;
  category: TrafficCategory;
  domain: string | null;
  started_at: string;
  ended_at: string | null;
  host: string;
}

export interface FlowTrackingStatus {
  flows: { on: boolean; reason: string | null };
  classify: { on: boolean; reason: string | null };
  conntrack: { activated_by_netpulse: boolean; accounting_switched_on: boolean; timestamps_switched_on: boolean; events_lost: number };
  nflog_group: number | null;
  dump: { interval_ms: number; last_cost_ms: number | null; last_entries: number; dumps: number; failures: number };
  active_flows: number;
  untracked_flows: number;
  ended_without_event: number;
  packets_classified: number;
  dns_cache_entries: number;
  marks_written: number;
  table: string | null;
}

export interface FlowLiveEvent {
  timestamp: string;
  active: number;
  flows: FlowView[];
  ended: FlowView[];
}

export interface FlowTracking {
  status(): FlowTrackingStatus;
  flows(options: { state: 'active' | 'recent'; host?: string; limit: number }): FlowView[];
  categoryTotals(fromSec: number, toSec: number, host: string | null): CategoryTotal[];
  categoryTable(): { table: CategoryTable; custom: boolean };
  setCategoryTable(table: CategoryTable | null): void;
  subscribe(listener: (event: FlowLiveEvent) => void): () => void;
  /** Runs a dump now (tests, and the first baseline). */
  dumpNow(): Promise<void>;
  /** Writes the pending history rows now. */
  flush(): void;
  close(): Promise<void>;
}

const CATEGORY_TABLE_KEY = 'flow_category_table';
const MAX_DUMP_INTERVAL_MS = 60_000;
/** A dump may take at most 1/500 of the time (0.2 % of a core). */
const DUMP_COST_SHARE = 500;
const FLUSH_EVERY_MS = 60_000;
const MAINTAIN_EVERY_MS = 60 * 60 * 1000;
const TOP_DOMAINS_PER_HOST = 20;
const LIVE_FLOWS = 200;
const MAX_MARK_QUEUE = 4096;

export function flowView(f: Flow): FlowView {
  return {
    protocol: f.protocol,
    src_address: f.entry.orig.src,
    src_port: f.entry.orig.srcPort,
    dst_address: f.entry.orig.dst,
    dst_port: f.entry.orig.dstPort,
    orig_bytes: f.origBytes,
    reply_bytes: f.replyBytes,
    orig_packets: f.origPackets,
    reply_packets: f.replyPackets,
    category: f.category,
    domain: f.domain,
    started_at: new Date(f.startedAtMs).toISOString(),
    ended_at: f.endedAtMs === null ? null : new Date(f.endedAtMs).toISOString(),
    host: f.host,
  };
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const isPermission = (err: unknown) => ['EPERM', 'EACCES'].includes((err as { code?: string }).code ?? '');

export async function startFlowTracking(deps: FlowTrackingDeps): Promise<FlowTracking> {
  const { config, db, logger, now } = deps;
  const manageKernel = deps.manageKernel ?? true;
  const log = logger.child({ part: 'flows' });
  const history = createFlowHistoryRepo(db);
  const readTable = (): { table: CategoryTable; custom: boolean } => {
    const row = db.prepare('SELECT value FROM configuration WHERE key = ?').get(CATEGORY_TABLE_KEY) as { value: string } | undefined;
    return row === undefined ? { table: DEFAULT_CATEGORY_TABLE, custom: false } : { table: JSON.parse(row.value) as CategoryTable, custom: true };
  };
  let classifier: Classifier = createClassifier(readTable().table);
  const dns = new DnsCache();
  const classifyWanted = config.flows.classify;
  const table = new FlowTable({
    classifier: () => classifier,
    isLan: createCidrMatcher(config.flows.lanCidrs.map((c) => c.text)),
    domainOfAddress: classifyWanted ? (address, nowMs) => dns.lookup(address, nowMs) : undefined,
  });

  const status: FlowTrackingStatus = {
    flows: { on: false, reason: null },
    classify: { on: false, reason: classifyWanted ? null : 'NETPULSE_CLASSIFY is off' },
    conntrack: { activated_by_netpulse: false, accounting_switched_on: false, timestamps_switched_on: false, events_lost: 0 },
    nflog_group: null,
    dump: { interval_ms: config.flows.dumpIntervalSec * 1000, last_cost_ms: null, last_entries: 0, dumps: 0, failures: 0 },
    active_flows: 0,
    untracked_flows: 0,
    ended_without_event: 0,
    packets_classified: 0,
    dns_cache_entries: 0,
    marks_written: 0,
    table: null,
  };

  // 1. conntrack over netlink: refused without CAP_NET_ADMIN.
  let ct: Conntrack | null = null;
  try {
    ct = await (deps.openConntrack ?? openConntrack)();
    await ct.dump();
  } catch (err) {
    ct?.close();
    ct = null;
    status.flows.reason = isPermission(err) ? 'no CAP_NET_ADMIN: conntrack over netlink refused (EPERM)' : `conntrack over netlink failed: ${errText(err)}`;
    status.classify = { on: false, reason: 'needs flows' };
    log.warn({ reason: status.flows.reason }, 'flows are off');
  }

  // 2. Labels → marks, one request at a time, bounded (declared first: packets may come as soon as NFLOG is bound).
  let nflog: Nflog | null = null;
  const markQueue: { tuple: CtTuple; zone: number; category: TrafficCategory }[] = [];
  let marking = false;
  const queueMark = (f: Flow) => {
    if (nflog === null || ct === null || f.category === 'unknown') return;
    if (categoryFromMark(f.entry.mark) === f.category) return;
    if (markQueue.length >= MAX_MARK_QUEUE) return;
    markQueue.push({ tuple: f.entry.orig, zone: f.entry.zone, category: f.category });
    f.entry = { ...f.entry, mark: ((f.entry.mark & ~CT_MARK_MASK) | categoryMark(f.category)) >>> 0 };
    void drainMarks();
  };
  const drainMarks = async () => {
    if (marking) return;
    marking = true;
    try {
      while (markQueue.length > 0 && ct !== null) {
        const m = markQueue.shift()!;
        try {
          if (await ct.setMark(m.tuple, categoryMark(m.category), CT_MARK_MASK, m.zone)) status.marks_written++;
        } catch (err) {
          log.debug({ err: errText(err) }, 'ct mark write failed');
        }
      }
    } finally {
      marking = false;
    }
  };

  const packets = new PacketClassifier({
    onDns: (m) => dns.add(m, now()),
    onServerName: (key, name) => {
      const f = table.label(key, name, now());
      if (f !== null) queueMark(f);
      else {
        // Not in the table yet (it appears at the next dump): mark it now from the packet's tuple.
        const [proto, src, sport, dst, dport] = key.split('|');
        const category = classifier.classify({ protocol: proto === '6' ? 'tcp' : 'udp', dstPort: Number(dport), domain: name });
        if (nflog !== null && ct !== null && category !== 'unknown' && markQueue.length < MAX_MARK_QUEUE) {
          markQueue.push({ tuple: { family: src!.includes(':') ? 6 : 4, protoNum: Number(proto), src: src!, srcPort: Number(sport), dst: dst!, dstPort: Number(dport) }, zone: 0, category });
          void drainMarks();
        }
      }
    },
  });

  // 3. Accounting, timestamps and the table (only what is missing).
  const switches: SysctlSwitch[] = [];
  let nftReason: string | null = null;
  if (ct !== null && manageKernel) {
    for (const name of ['net.netfilter.nf_conntrack_acct', 'net.netfilter.nf_conntrack_timestamp']) {
      try {
        switches.push(await switchOn(name));
      } catch (err) {
        log.warn({ sysctl: name, err: errText(err) }, 'cannot switch a conntrack sysctl on; flows may lack counters or times');
      }
    }
    status.conntrack.accounting_switched_on = switches.some((s) => s.name.endsWith('acct') && s.changed);
    status.conntrack.timestamps_switched_on = switches.some((s) => s.name.endsWith('timestamp') && s.changed);
    nftReason = await nftMissingReason();
    let activate = false;
    if (nftReason === null) {
      try {
        activate = !rulesetUsesConntrack(await listRuleset());
      } catch (err) {
        nftReason = isPermission(err) || /Operation not permitted/.test(errText(err)) ? 'no CAP_NET_ADMIN for nftables' : errText(err);
      }
    }
    if (classifyWanted && nftReason === null) {
      try {
        nflog = await (deps.openNflog ?? openNflog)((packet) => packets.handle(packet, now()));
      } catch (err) {
        status.classify = { on: false, reason: `NFLOG could not be bound: ${errText(err)}` };
      }
    } else if (classifyWanted) {
      status.classify = { on: false, reason: `needs nftables: ${nftReason}` };
    }
    const script = nftReason === null ? buildFlowsRuleset({ activateConntrack: activate, nflogGroup: nflog?.group ?? null }) : null;
    if (script !== null) {
      try {
        await applyFlowsTable(script);
        status.table = 'inet netpulse_flows';
        status.conntrack.activated_by_netpulse = activate;
      } catch (err) {
        log.warn({ err: errText(err) }, 'cannot add the flows nftables table');
        nflog?.close();
        nflog = null;
        if (classifyWanted) status.classify = { on: false, reason: `nftables table refused: ${errText(err)}` };
        if (activate) status.flows.reason = `conntrack is off in this namespace and the table that would turn it on was refused: ${errText(err)}`;
      }
    } else if (nftReason !== null) {
      log.warn({ reason: nftReason }, 'no nftables: flows only if something else keeps conntrack on; no classification');
    }
  } else if (ct !== null && classifyWanted && deps.openNflog !== undefined) {
    nflog = await deps.openNflog((packet) => packets.handle(packet, now()));
  }
  if (ct !== null) status.flows.on = true;
  if (nflog !== null) {
    status.classify = { on: true, reason: null };
    status.nflog_group = nflog.group;
  }

  // 4. Live subscribers.
  const listeners = new Set<(e: FlowLiveEvent) => void>();
  let endedSinceEvent: Flow[] = [];
  const publish = () => {
    if (listeners.size === 0) {
      endedSinceEvent = [];
      return;
    }
    const active = table.activeFlows();
    const busiest = active.sort((a, b) => Number(b.origBytes + b.replyBytes - (a.origBytes + a.replyBytes))).slice(0, LIVE_FLOWS);
    const event: FlowLiveEvent = { timestamp: new Date(now()).toISOString(), active: table.activeCount, flows: busiest.map(flowView), ended: endedSinceEvent.slice(-LIVE_FLOWS).map(flowView) };
    endedSinceEvent = [];
    for (const l of listeners) l(event);
  };
  let publishTimer: NodeJS.Timeout | null = null;
  const publishSoon = () => {
    publishTimer ??= setTimeout(() => {
      publishTimer = null;
      publish();
    }, 1000);
  };

  ct?.onDestroy((e) => {
    const f = table.applyDestroy(e, now());
    if (f !== null) {
      endedSinceEvent.push(f);
      publishSoon();
    }
  });

  // 5. The dump loop: its interval follows its cost.
  let dumpTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let dumping: Promise<void> | null = null;
  const dumpOnce = async () => {
    if (ct === null) return;
    const started = performance.now();
    try {
      const entries = await ct.dump();
      const created = table.applyDump(entries, now());
      for (const f of created) queueMark(f);
      status.dump.last_entries = entries.length;
      status.dump.dumps++;
    } catch (err) {
      status.dump.failures++;
      log.warn({ err: errText(err) }, 'conntrack dump failed; will try again');
    }
    const cost = performance.now() - started;
    status.dump.last_cost_ms = Math.round(cost * 100) / 100;
    status.dump.interval_ms = Math.min(MAX_DUMP_INTERVAL_MS, Math.max(config.flows.dumpIntervalSec * 1000, Math.ceil(cost * DUMP_COST_SHARE)));
    publish();
  };
  const dumpNow = async () => {
    dumping ??= dumpOnce().finally(() => (dumping = null));
    await dumping;
  };
  const schedule = () => {
    if (closed || ct === null) return;
    dumpTimer = setTimeout(() => {
      void dumpNow().finally(schedule);
    }, status.dump.interval_ms);
    dumpTimer.unref();
  };
  if (ct !== null) {
    await dumpNow(); // the baseline
    schedule();
  }

  // 6. History: written every minute; the closed hours folded to the top domains, names pruned.
  const flush = () => {
    const rows: HourRow[] = table.takeHourRows();
    if (rows.length === 0) return;
    try {
      history.add(rows);
    } catch (err) {
      table.restoreHourRows(rows);
      log.warn({ err: errText(err) }, 'writing flow history failed; kept for the next try');
    }
  };
  const maintain = () => {
    try {
      const nowSec = Math.floor(now() / 1000);
      history.foldHours(hourOf(now()), TOP_DOMAINS_PER_HOST);
      history.prune(nowSec - config.flows.retentionDays * 86400, nowSec - config.retention.hourDays * 86400);
    } catch (err) {
      log.warn({ err: errText(err) }, 'flow history upkeep failed; will try again');
    }
  };
  maintain();
  const flushTimer = setInterval(flush, FLUSH_EVERY_MS);
  flushTimer.unref();
  const maintainTimer = setInterval(maintain, MAINTAIN_EVERY_MS);
  maintainTimer.unref();

  log.info({ flows: status.flows, classify: status.classify, table: status.table, nflogGroup: status.nflog_group }, 'flow tracking started');

  const matchesHost = (f: Flow, host: string | undefined) => host === undefined || f.host === host || f.entry.orig.src === host || f.entry.orig.dst === host;
  return {
    status() {
      status.active_flows = table.activeCount;
      status.untracked_flows = table.untracked;
      status.ended_without_event = table.endedWithoutEvent;
      status.packets_classified = packets.stats.packets;
      status.dns_cache_entries = dns.size;
      status.conntrack.events_lost = ct?.eventsLost ?? 0;
      return structuredClone(status);
    },
    flows({ state, host, limit }) {
      const list = state === 'active' ? table.activeFlows().sort((a, b) => Number(b.origBytes + b.replyBytes - (a.origBytes + a.replyBytes))) : table.recentFlows();
      const out: FlowView[] = [];
      for (const f of list) {
        if (out.length >= limit) break;
        if (matchesHost(f, host)) out.push(flowView(f));
      }
      return out;
    },
    categoryTotals(fromSec, toSec, host) {
      const totals = new Map<string, CategoryTotal>();
      const add = (c: TrafficCategory, ob: bigint, rb: bigint, op: bigint, rp: bigint, n: bigint) => {
        const t = totals.get(c) ?? { category: c, origBytes: 0n, replyBytes: 0n, origPackets: 0n, replyPackets: 0n, flows: 0n };
        t.origBytes += ob;
        t.replyBytes += rb;
        t.origPackets += op;
        t.replyPackets += rp;
        t.flows += n;
        totals.set(c, t);
      };
      for (const r of history.categories(fromSec, toSec, host)) add(r.category, BigInt(r.origBytes), BigInt(r.replyBytes), BigInt(r.origPackets), BigInt(r.replyPackets), BigInt(r.flows));
      // The last minute, not yet written.
      for (const r of table.peekHourRows()) {
        if (r.bucketStartSec < fromSec - 3599 || r.bucketStartSec >= toSec || (host !== null && r.host !== host)) continue;
        add(r.category, r.origBytes, r.replyBytes, r.origPackets, r.replyPackets, BigInt(r.flows));
      }
      return [...totals.values()].sort((a, b) => Number(b.origBytes + b.replyBytes - (a.origBytes + a.replyBytes)));
    },
    categoryTable: readTable,
    setCategoryTable(next) {
      if (next === null) db.prepare('DELETE FROM configuration WHERE key = ?').run(CATEGORY_TABLE_KEY);
      else db.prepare('INSERT INTO configuration (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(CATEGORY_TABLE_KEY, JSON.stringify(normalizeCategoryTable(next)));
      classifier = createClassifier(readTable().table);
      table.relabelAll();
      for (const f of table.activeFlows()) queueMark(f);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dumpNow,
    flush,
    async close() {
      if (closed) return;
      closed = true;
      if (dumpTimer !== null) clearTimeout(dumpTimer);
      if (publishTimer !== null) clearTimeout(publishTimer);
      clearInterval(flushTimer);
      clearInterval(maintainTimer);
      await dumping?.catch(() => undefined);
      flush();
      listeners.clear();
      nflog?.close();
      ct?.close();
      ct = null;
      if (status.table !== null) await removeFlowsTable().catch((err: unknown) => log.warn({ err: errText(err) }, 'could not remove the flows nftables table'));
      for (const s of switches.reverse()) await s.restore();
    },
  };
}
