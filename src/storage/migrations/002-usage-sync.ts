/**
 * Usage accounting, data cap and multi-device sync (issue #5): this instance's device id, the data cap,
 * the alerts that fired (so one crossing fires once, across restarts) and the replication cursors.
 */
export const sql = `
-- This instance: a device id generated once (a UUID), and the name it last ran under.
CREATE TABLE device_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  device_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- The monthly data cap (at most one). limit_bytes NULL means no cap; interface_name NULL means the total.
-- thresholds_percent is a JSON array of whole percents; month_start_day the billing cycle's first day (1-28).
CREATE TABLE data_cap (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  limit_bytes INTEGER,
  interface_name TEXT,
  direction TEXT NOT NULL DEFAULT 'both' CHECK (direction IN ('both', 'rx', 'tx')),
  thresholds_percent TEXT NOT NULL DEFAULT '[80,100]',
  month_start_day INTEGER CHECK (month_start_day BETWEEN 1 AND 28),
  updated_at INTEGER NOT NULL
);

-- Every alert that fired. The unique key is the crossing: the same threshold of the same cap in the same
-- billing period fires once, however often it is evaluated and across restarts.
CREATE TABLE usage_alerts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('threshold', 'projection')),
  threshold_percent INTEGER NOT NULL,
  scope TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  limit_bytes INTEGER NOT NULL,
  used_bytes INTEGER NOT NULL,
  projected_bytes INTEGER,
  fired_at INTEGER NOT NULL,
  message TEXT NOT NULL,
  webhook_status TEXT NOT NULL CHECK (webhook_status IN ('not_configured', 'pending', 'delivered', 'failed')),
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_last_error TEXT,
  UNIQUE (scope, period_start, kind, threshold_percent, limit_bytes)
);
CREATE INDEX usage_alerts_fired_at ON usage_alerts (fired_at);

-- Replication to PostgreSQL: per target database and tier, the bucket_start from which the next cycle
-- re-sends (everything before it is in the target with its final value). timezone is the zone the day tier
-- was last sent in: a change re-sends the whole day tier.
CREATE TABLE sync_state (
  target TEXT NOT NULL,
  tier TEXT NOT NULL,
  resend_from INTEGER NOT NULL,
  timezone TEXT,
  last_success_at INTEGER,
  PRIMARY KEY (target, tier)
) WITHOUT ROWID;
`;
