/**
 * Imported history (issue #12): what `netpulse import` added to each bucket of each tier, from vnStat or from
 * a Net-Pulse export. Importing again compares with these rows and adds only what is new, so running it twice
 * changes nothing. covers = 1 marks the bucket's span as time with data (like a collector run), so
 * /api/traffic shows imported buckets as counted, not as null; a restored export brings its own runs instead.
 */
const counters = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors', 'rx_drops', 'tx_drops']
  .map((c) => `  ${c} INTEGER NOT NULL DEFAULT 0,`)
  .join('\n');

export const sql = `
CREATE TABLE imported_buckets (
  tier TEXT NOT NULL CHECK (tier IN ('traffic_1m', 'traffic_1h', 'traffic_1d')),
  interface_name TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  bucket_end INTEGER NOT NULL,
  source TEXT NOT NULL,
${counters}
  covers INTEGER NOT NULL CHECK (covers IN (0, 1)),
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (tier, interface_name, bucket_start)
) WITHOUT ROWID;
CREATE INDEX imported_buckets_span ON imported_buckets (tier, bucket_end, bucket_start);
`;
