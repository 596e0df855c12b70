/**
 * The flow history in SQLite (migration 006): hour rows added up (an upsert per host × category × domain),
 * the per-category and per-host-domain reads, the top-N fold of a closed hour, and retention.
 */
import type { Db } from '../storage/db.js';
import type { TrafficCategory } from '../shared/traffic-categories.js';
import type { HourRow } from './flow-aggregate.js';

export interface CategoryTotal {
  category: TrafficCategory;
  origBytes: bigint;
  replyBytes: bigint;
  origPackets: bigint;
  replyPackets: bigint;
  flows: bigint;
}

export interface DomainTotal {
  host: string;
  category: TrafficCategory;
  domain: string;
  origBytes: bigint;
  replyBytes: bigint;
  flows: bigint;
}

export interface FlowHistoryRepo {
  add(rows: readonly HourRow[]): void;
  /** Totals per category for [fromSec, toSec), optionally one host. */
  categories(fromSec: number, toSec: number, host: string | null): CategoryTotal[];
  /** Busiest named domains for [fromSec, toSec), optionally one host. */
  domains(fromSec: number, toSec: number, host: string | null, limit: number): DomainTotal[];
  /** Keeps the top `topN` domains per host in each hour before `beforeSec` (not yet folded); the rest go to ''. */
  foldHours(beforeSec: number, topN: number): number;
  /** Drops names older than `namesBeforeSec` (their bytes stay under ''), and rows older than `rowsBeforeSec`. */
  prune(namesBeforeSec: number, rowsBeforeSec: number): number;
  rowCount(): number;
}

export function createFlowHistoryRepo(db: Db): FlowHistoryRepo {
  const upsert = db.prepare(`INSERT INTO flow_hourly (bucket_start, host, category, domain, orig_bytes, reply_bytes, orig_packets, reply_packets, flows)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(bucket_start, host, category, domain) DO UPDATE SET
      orig_bytes = orig_bytes + excluded.orig_bytes, reply_bytes = reply_bytes + excluded.reply_bytes,
      orig_packets = orig_packets + excluded.orig_packets, reply_packets = reply_packets + excluded.reply_packets,
      flows = flows + excluded.flows`);
  const addAll = db.transaction((rows: readonly HourRow[]) => {
    for (const r of rows) upsert.run(r.bucketStartSec, r.host, r.category, r.domain, r.origBytes, r.replyBytes, r.origPackets, r.replyPackets, r.flows);
  });
  const sums = 'SUM(orig_bytes) AS origBytes, SUM(reply_bytes) AS replyBytes, SUM(orig_packets) AS origPackets, SUM(reply_packets) AS replyPackets, SUM(flows) AS flows';
  const byCategory = db.prepare(`SELECT category, ${sums} FROM flow_hourly WHERE bucket_start >= ? AND bucket_start < ? GROUP BY category`).safeIntegers(true);
  const byCategoryHost = db.prepare(`SELECT category, ${sums} FROM flow_hourly WHERE bucket_start >= ? AND bucket_start < ? AND host = ? GROUP BY category`).safeIntegers(true);
  const domainSums = 'SUM(orig_bytes) AS origBytes, SUM(reply_bytes) AS replyBytes, SUM(flows) AS flows';
  const byDomain = db.prepare(`SELECT host, category, domain, ${domainSums} FROM flow_hourly WHERE bucket_start >= ? AND bucket_start < ? AND domain <> '' GROUP BY host, category, domain ORDER BY SUM(orig_bytes + reply_bytes) DESC LIMIT ?`).safeIntegers(true);
  const byDomainHost = db.prepare(`SELECT host, category, domain, ${domainSums} FROM flow_hourly WHERE bucket_start >= ? AND bucket_start < ? AND host = ? AND domain <> '' GROUP BY host, category, domain ORDER BY SUM(orig_bytes + reply_bytes) DESC LIMIT ?`).safeIntegers(true);

  // The fold: rank each (hour, host)'s named rows by bytes; those past topN move into (hour, host, category, '').
  const foldSelect = `SELECT bucket_start, host, category, domain FROM (
      SELECT bucket_start, host, category, domain, ROW_NUMBER() OVER (PARTITION BY bucket_start, host ORDER BY orig_bytes + reply_bytes DESC, domain) AS rn
      FROM flow_hourly WHERE bucket_start >= ? AND bucket_start < ? AND domain <> '') WHERE rn > ?`;
  const foldInsert = db.prepare(`INSERT INTO flow_hourly (bucket_start, host, category, domain, orig_bytes, reply_bytes, orig_packets, reply_packets, flows)
    SELECT f.bucket_start, f.host, f.category, '', SUM(f.orig_bytes), SUM(f.reply_bytes), SUM(f.orig_packets), SUM(f.reply_packets), SUM(f.flows)
    FROM flow_hourly f JOIN (${foldSelect}) x USING (bucket_start, host, category, domain)
    GROUP BY f.bucket_start, f.host, f.category
    ON CONFLICT(bucket_start, host, category, domain) DO UPDATE SET
      orig_bytes = orig_bytes + excluded.orig_bytes, reply_bytes = reply_bytes + excluded.reply_bytes,
      orig_packets = orig_packets + excluded.orig_packets, reply_packets = reply_packets + excluded.reply_packets, flows = flows + excluded.flows`);
  const foldDelete = db.prepare(`DELETE FROM flow_hourly WHERE (bucket_start, host, category, domain) IN (${foldSelect})`);
  const foldedUpTo = db.prepare(`SELECT value FROM configuration WHERE key = 'flow_history_folded_before'`);
  const setFoldedUpTo = db.prepare(`INSERT INTO configuration (key, value) VALUES ('flow_history_folded_before', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
  const fold = db.transaction((beforeSec: number, topN: number) => {
    const row = foldedUpTo.get() as { value: string } | undefined;
    const from = row === undefined ? 0 : Number(JSON.parse(row.value));
    if (beforeSec <= from) return 0;
    // Two hours back again: a flow that ended just before an hour closed may be counted into it late.
    const start = Math.max(0, from - 2 * 3600);
    foldInsert.run(start, beforeSec, topN);
    const moved = foldDelete.run(start, beforeSec, topN).changes;
    setFoldedUpTo.run(JSON.stringify(beforeSec));
    return moved;
  });

  const dropNamesInsert = db.prepare(`INSERT INTO flow_hourly (bucket_start, host, category, domain, orig_bytes, reply_bytes, orig_packets, reply_packets, flows)
    SELECT bucket_start, host, category, '', SUM(orig_bytes), SUM(reply_bytes), SUM(orig_packets), SUM(reply_packets), SUM(flows)
    FROM flow_hourly WHERE bucket_start < ? AND domain <> '' GROUP BY bucket_start, host, category
    ON CONFLICT(bucket_start, host, category, domain) DO UPDATE SET
      orig_bytes = orig_bytes + excluded.orig_bytes, reply_bytes = reply_bytes + excluded.reply_bytes,
      orig_packets = orig_packets + excluded.orig_packets, reply_packets = reply_packets + excluded.reply_packets, flows = flows + excluded.flows`);
  const dropNamesDelete = db.prepare(`DELETE FROM flow_hourly WHERE bucket_start < ? AND domain <> ''`);
  const dropRows = db.prepare('DELETE FROM flow_hourly WHERE bucket_start < ?');
  const prune = db.transaction((namesBeforeSec: number, rowsBeforeSec: number) => {
    dropNamesInsert.run(namesBeforeSec);
    return dropNamesDelete.run(namesBeforeSec).changes + dropRows.run(rowsBeforeSec).changes;
  });
  const count = db.prepare('SELECT COUNT(*) AS n FROM flow_hourly');

  return {
    add: (rows) => addAll(rows),
    categories(fromSec, toSec, host) {
      return (host === null ? byCategory.all(fromSec, toSec) : byCategoryHost.all(fromSec, toSec, host)) as CategoryTotal[];
    },
    domains(fromSec, toSec, host, limit) {
      return (host === null ? byDomain.all(fromSec, toSec, limit) : byDomainHost.all(fromSec, toSec, host, limit)) as DomainTotal[];
    },
    foldHours: (beforeSec, topN) => fold(beforeSec, topN),
    prune: (namesBeforeSec, rowsBeforeSec) => prune(namesBeforeSec, rowsBeforeSec),
    rowCount: () => (count.get() as { n: number }).n,
  };
}
