/**
 * Per-host totals (issue #9, NETPULSE_FLOWS=on): who the hosts are, their bytes per minute/hour/day, the last
 * raw counters of the nft set elements (so a restart carries on), and when the host counting ran (covered time).
 * Empty and untouched while the feature is off.
 */
const rollup = (table: string, comment: string) => `
-- ${comment}
CREATE TABLE ${table} (
  host_id TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL DEFAULT 0,
  tx_bytes INTEGER NOT NULL DEFAULT 0,
  rx_packets INTEGER NOT NULL DEFAULT 0,
  tx_packets INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, bucket_start)
) WITHOUT ROWID;
CREATE INDEX ${table}_bucket_start ON ${table} (bucket_start);`;

export const sql = `
-- A host is a device when its MAC is known (id mac-…), else one address (id ip-…). mode: router or host.
CREATE TABLE hosts (
  id TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  mac TEXT,
  user_name TEXT,
  auto_name TEXT,
  name_source TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;

-- Which host an address belongs to now (an address moves when its MAC becomes known).
CREATE TABLE host_addresses (
  address TEXT PRIMARY KEY,
  host_id TEXT NOT NULL,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX host_addresses_host_id ON host_addresses (host_id);
${rollup('host_traffic_1m', 'Per-minute bytes per host; rx = what the host received.')}
${rollup('host_traffic_1h', 'Per-hour bytes per host.')}
${rollup('host_traffic_1d', 'Per-calendar-day bytes per host, in the zone of configuration key rollup_timezone.')}

-- The last raw counter of each nft set element (<set>/<address>), its generation, as text (64-bit).
CREATE TABLE host_counter_state (
  element TEXT PRIMARY KEY,
  generation INTEGER NOT NULL,
  bytes TEXT NOT NULL,
  packets TEXT NOT NULL
) WITHOUT ROWID;

-- The time, boot and table (kernel handle + fingerprint) the element state belongs to.
CREATE TABLE host_collector_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  time_ms INTEGER NOT NULL,
  boot_id TEXT,
  mode TEXT NOT NULL,
  table_handle INTEGER,
  fingerprint TEXT
);

-- When hosts were counted: a bucket outside every run has no data (null), not zero traffic.
CREATE TABLE host_runs (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  last_poll_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX host_runs_last_poll_at ON host_runs (last_poll_at);
`;
