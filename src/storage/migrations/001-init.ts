/**
 * The first schema. Counters are stored as deltas (bytes and packets that crossed an interface in a span);
 * the kernel's raw counters live only in counter_state, as text, since they run up to 2^64 - 1.
 */
const counterColumns = `
  rx_bytes INTEGER NOT NULL DEFAULT 0,
  tx_bytes INTEGER NOT NULL DEFAULT 0,
  rx_packets INTEGER NOT NULL DEFAULT 0,
  tx_packets INTEGER NOT NULL DEFAULT 0,
  rx_errors INTEGER NOT NULL DEFAULT 0,
  tx_errors INTEGER NOT NULL DEFAULT 0,
  rx_drops INTEGER NOT NULL DEFAULT 0,
  tx_drops INTEGER NOT NULL DEFAULT 0`;

const rollup = (table: string, comment: string) => `
-- ${comment}
CREATE TABLE ${table} (
  interface_name TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  ${counterColumns},
  PRIMARY KEY (interface_name, bucket_start)
) WITHOUT ROWID;
CREATE INDEX ${table}_bucket_start ON ${table} (bucket_start);`;

export const sql = `
CREATE TABLE configuration (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per poll and monitored interface that saw traffic: the deltas of the span
-- (timestamp - span_seconds, timestamp], timestamp in unix seconds.
CREATE TABLE traffic_data (
  interface_name TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  span_seconds INTEGER NOT NULL,
  ${counterColumns},
  PRIMARY KEY (interface_name, timestamp)
) WITHOUT ROWID;
CREATE INDEX traffic_data_timestamp ON traffic_data (timestamp);
${rollup('traffic_1m', 'Per-minute sums; bucket_start is a multiple of 60 (unix seconds).')}
${rollup('traffic_1h', 'Per-hour sums; bucket_start is a multiple of 3600.')}
${rollup('traffic_1d', 'Per-calendar-day sums in the time zone named by configuration key rollup_timezone; bucket_start is local midnight.')}

-- The last raw counters of every interface, so a restart on the same boot carries on where it stopped.
CREATE TABLE counter_state (
  interface_name TEXT PRIMARY KEY,
  ifindex INTEGER,
  rx_bytes TEXT NOT NULL,
  tx_bytes TEXT NOT NULL,
  rx_packets TEXT NOT NULL,
  tx_packets TEXT NOT NULL,
  rx_errors TEXT NOT NULL,
  tx_errors TEXT NOT NULL,
  rx_drops TEXT NOT NULL,
  tx_drops TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE collector_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  time_ms INTEGER NOT NULL,
  boot_id TEXT
);

-- When the collector was running (unix seconds): a bucket outside every run has no data, not zero traffic.
CREATE TABLE collector_runs (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  last_poll_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX collector_runs_last_poll_at ON collector_runs (last_poll_at);
`;
