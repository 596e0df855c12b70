/**
 * Flow history (issue #9): closed and running flows' bytes per hour, by host × category × domain.
 * domain '' = no name known, or a name past the per-host top N of its hour (folded when the hour closes),
 * or a name older than NETPULSE_FLOW_RETENTION_DAYS (names are dropped then, the category totals stay).
 * flows = flows that ended in that hour. WITHOUT ROWID: the key is the row (about a third smaller).
 */
export const sql = `
CREATE TABLE flow_hourly (
  bucket_start INTEGER NOT NULL,
  host TEXT NOT NULL,
  category TEXT NOT NULL,
  domain TEXT NOT NULL DEFAULT '',
  orig_bytes INTEGER NOT NULL DEFAULT 0,
  reply_bytes INTEGER NOT NULL DEFAULT 0,
  orig_packets INTEGER NOT NULL DEFAULT 0,
  reply_packets INTEGER NOT NULL DEFAULT 0,
  flows INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket_start, host, category, domain)
) WITHOUT ROWID;`;
