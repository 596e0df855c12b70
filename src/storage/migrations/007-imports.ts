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

/**
 * Alert rules (issue #12): alerts of the rules stored in configuration key alert_rules. One row per crossing:
 * fired_at when the rule began to hold, cleared_at when it stopped; at most one open row per rule and
 * interface (the partial unique index), so a crossing fires once, across restarts. delivery_* is the state of
 * the newest event (fired, then cleared) on the configured channels.
 */
export const ruleAlertsSql = `
CREATE TABLE rule_alerts (
  id INTEGER PRIMARY KEY,
  rule_id TEXT NOT NULL,
  rule_key TEXT NOT NULL,
  rule_type TEXT NOT NULL,
  interface_name TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  cleared_at INTEGER,
  message TEXT NOT NULL,
  clear_message TEXT,
  delivery_status TEXT NOT NULL CHECK (delivery_status IN ('not_configured', 'pending', 'delivered', 'failed')),
  delivery_attempts INTEGER NOT NULL DEFAULT 0,
  delivery_error TEXT
);
CREATE UNIQUE INDEX rule_alerts_open ON rule_alerts (rule_key, interface_name) WHERE cleared_at IS NULL;
CREATE INDEX rule_alerts_fired_at ON rule_alerts (fired_at);
`;
