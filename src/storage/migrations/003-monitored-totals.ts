/**
 * Pre-summed series of the monitored set, one row per bucket and tier, so that the dashboard's default
 * chart (the sum of every monitored interface) over a year reads 8,760 rows, not 8,760 × interfaces.
 * Invariant (kept by TrafficRepo): traffic_total_X[b] = Σ traffic_X[i][b] over the interfaces named by
 * configuration key totals_interfaces; rebuilt when that set changes.
 */
const table = (name: string) => `
CREATE TABLE ${name} (
  bucket_start INTEGER PRIMARY KEY,
  rx_bytes INTEGER NOT NULL DEFAULT 0,
  tx_bytes INTEGER NOT NULL DEFAULT 0,
  rx_packets INTEGER NOT NULL DEFAULT 0,
  tx_packets INTEGER NOT NULL DEFAULT 0,
  rx_errors INTEGER NOT NULL DEFAULT 0,
  tx_errors INTEGER NOT NULL DEFAULT 0,
  rx_drops INTEGER NOT NULL DEFAULT 0,
  tx_drops INTEGER NOT NULL DEFAULT 0
);`;

export const sql = [table('traffic_total_1m'), table('traffic_total_1h'), table('traffic_total_1d')].join('\n');
