/**
 * JSON shapes of the REST API, shared by the server (its route schemas must produce these) and the
 * dashboard (which parses responses into them). No node:* imports here: the frontend imports this file.
 *
 * Byte and packet totals are JSON integers. The server writes them exactly even past 2^53; a browser's
 * JSON.parse rounds such values to the nearest double, which is fine for display.
 */

export type InterfaceKind =
  | 'ethernet'
  | 'wireless'
  | 'loopback'
  | 'bridge'
  | 'tunnel'
  | 'container'
  | 'virtual'
  | 'other';

export interface ApiAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  netmask: string;
  cidr: string | null;
}

export interface ApiCounters {
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_errors: number;
  tx_errors: number;
  rx_drops: number;
  tx_drops: number;
}

/** GET /api/interfaces → ApiInterface[]; GET /api/interfaces/{name} → ApiInterface. */
export interface ApiInterface {
  name: string;
  kind: InterfaceKind;
  is_up: boolean;
  oper_state: string;
  addresses: ApiAddress[];
  mac: string | null;
  mtu: number | null;
  /** Link speed in Mbit/s; null when unknown. */
  speed: number | null;
  is_virtual: boolean;
  is_primary: boolean;
  monitored: boolean;
  /** The kernel's counters now (since boot or since the interface was created); null if the read failed. */
  counters: ApiCounters | null;
}

/** One bucket of GET /api/traffic. Totals are null where the collector was not running in the bucket. */
export interface ApiTrafficPoint {
  /** Bucket start, ISO 8601 UTC. */
  timestamp: string;
  rx_bytes: number | null;
  tx_bytes: number | null;
  rx_packets: number | null;
  tx_packets: number | null;
  /** Seconds of the bucket the collector was running (rate = bytes / covered_seconds); null when unknown. */
  covered_seconds: number | null;
}

/** GET /api/traffic?time_window_hours=&group_minutes=[&interface=] */
export interface ApiTrafficResponse {
  data: ApiTrafficPoint[];
  /** The interface asked for, or null for the sum over the monitored interfaces. */
  interface: string | null;
  /** The interfaces summed in this answer. */
  interfaces: string[];
  time_window_hours: number;
  group_minutes: number;
  /** Bucket length in seconds (calendar days are 86400 nominally; DST days differ). */
  bucket_seconds: number;
  /** IANA time zone the calendar-day buckets follow. */
  timezone: string;
  /** Window start and end, ISO 8601 UTC. */
  start: string;
  end: string;
}

/** GET/POST /api/config/monitored_interfaces: a JSON array of interface names. */
export type ApiMonitoredInterfaces = string[];

/** GET /api/config/collection-interval; PUT takes { interval_seconds }. */
/** GET /api/config/interfaces: the monitored set, and whether NETPULSE_INTERFACES decides it. */
export interface ApiMonitoredConfig {
  interfaces: string[];
  source: 'env' | 'config';
  /** NETPULSE_INTERFACES as set, or null. */
  filter: string | null;
}

export interface ApiCollectionInterval {
  interval_seconds: number;
  /** Where the value in force comes from: NETPULSE_POLL_INTERVAL wins over the stored setting. */
  source: 'env' | 'config' | 'default';
  /** The stored setting (what PUT changed), even when the environment overrides it. */
  configured_seconds: number | null;
  min_seconds: number;
  max_seconds: number;
}

/** GET /collector/status */
export interface ApiCollectorStatus {
  running: boolean;
  interval_seconds: number;
  monitored_interfaces: string[];
  polls: number;
  failed_polls: number;
  last_poll_at: string | null;
  next_poll_at: string | null;
  last_error: string | null;
  /** Time of the oldest stored sample, or null when nothing is stored yet. */
  first_data_at: string | null;
  started_at: string | null;
}

/** One event of the live stream GET /api/live (server-sent events, one `data:` line a second). */
export interface ApiLiveEvent {
  timestamp: string;
  interval_ms: number;
  interfaces: ApiLiveRate[];
}

export interface ApiLiveRate {
  name: string;
  rx_bytes_per_sec: number;
  tx_bytes_per_sec: number;
  rx_packets_per_sec: number;
  tx_packets_per_sec: number;
}

/** Every 4xx/5xx body. `code` is stable; `message` is for people. */
export interface ApiError {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------------------
// Usage, data cap, alerts and devices (issue #5)

/** Bytes over a period: download, upload and their sum. */
export interface ApiUsageTotals {
  rx_bytes: number;
  tx_bytes: number;
  total_bytes: number;
}

export type ApiUsagePeriod = 'day' | 'month' | 'year';

/** One row of GET /api/usage: a calendar day, a billing month or a calendar year. */
export interface ApiUsageRow extends ApiUsageTotals {
  /** 2026-03-15 (day), 2026-03 (billing month, named after the month it starts in) or 2026 (year). */
  label: string;
  /** Local midnight the period starts at and the one it ends at (exclusive), ISO 8601 UTC. */
  start: string;
  end: string;
  /** First day and the day after the last, YYYY-MM-DD (the device's local dates). */
  start_date: string;
  end_date: string;
  /** The period that contains now. */
  current: boolean;
  /** The current period's projected totals (so far × length / elapsed); null on past periods and in its first hour. */
  estimate: ApiUsageTotals | null;
  /** Only on the current billing month: the month-end scenarios of rx + tx (issue #11). */
  scenarios?: ApiScenario[];
  scenario_skill?: ApiScenarioSkill | null;
}

/** GET /api/usage?period=day|month|year[&interface=][&device=local|all|<id>][&limit=] */
export interface ApiUsageResponse {
  period: ApiUsagePeriod;
  /** The device asked for; id "all" for the sum over every syncing device. */
  device: { id: string; name: string; is_local: boolean };
  /** The interface asked for, or null for the total. */
  interface: string | null;
  /** The interfaces summed. */
  interfaces: string[];
  /** The zone the period edges are in. */
  timezone: string;
  month_start_day: number;
  /** Newest first. */
  rows: ApiUsageRow[];
}

export type ApiCapDirection = 'both' | 'rx' | 'tx';

/** The billing month so far, measured against the cap. */
export interface ApiCapStatus {
  /** Billing month label (YYYY-MM of its first day). */
  period: string;
  start: string;
  end: string;
  start_date: string;
  /** The day after the last day. */
  end_date: string;
  interfaces: string[];
  rx_bytes: number;
  tx_bytes: number;
  /** What the cap counts (rx + tx, or one direction). */
  used_bytes: number;
  limit_bytes: number;
  remaining_bytes: number;
  /** Month-end projection; null in the first hour of the month. */
  projected_bytes: number | null;
  percent_used: number;
  projected_percent: number | null;
  /** Month-end scenarios (issue #11); absent from servers before it. */
  scenarios?: ApiScenario[];
  scenario_skill?: ApiScenarioSkill | null;
}

/** GET /api/config/data-cap, and the answer to PUT. */
export interface ApiDataCap {
  /** The monthly cap in bytes; null: no cap. */
  limit_bytes: number | null;
  /** The interface it applies to; null: the total. */
  interface: string | null;
  direction: ApiCapDirection;
  thresholds_percent: number[];
  /** Billing months start on this day (1–28) at local midnight. */
  month_start_day: number;
  /** 'env': NETPULSE_MONTH_START_DAY sets it and it cannot be changed here. */
  month_start_day_source: 'env' | 'config' | 'default';
  timezone: string;
  units: 'decimal' | 'binary';
  webhook_configured: boolean;
  updated_at: string | null;
  /** The billing month so far; null without a cap. */
  status: ApiCapStatus | null;
}

/** PUT /api/config/data-cap: replaces the cap; fields left out take their defaults. */
export interface ApiDataCapUpdate {
  /** Bytes, or null to remove the cap (give this or `limit`). */
  limit_bytes?: number | null;
  /** The cap as text: "1 TB", "500 GB", "1.5 TiB". */
  limit?: string;
  interface?: string | null;
  direction?: ApiCapDirection;
  thresholds_percent?: number[];
  /** 1–28; refused (409 MONTH_START_DAY_FROM_ENV) while NETPULSE_MONTH_START_DAY sets another day. */
  month_start_day?: number | null;
}

/** One data-cap alert of GET /api/alerts. */
export interface ApiAlert {
  id: number;
  kind: 'threshold' | 'projection';
  /** The threshold crossed; 100 for a projection. */
  threshold_percent: number;
  /** "total" or "interface:<name>". */
  scope: string;
  interface: string | null;
  period_start: string;
  period_end: string;
  limit_bytes: number;
  used_bytes: number;
  projected_bytes: number | null;
  percent_used: number;
  fired_at: string;
  message: string;
  webhook: { status: 'not_configured' | 'pending' | 'delivered' | 'failed'; attempts: number; last_error: string | null };
}

/** GET /api/alerts?limit= (newest first). */
export interface ApiAlertsResponse {
  webhook_configured: boolean;
  alerts: ApiAlert[];
}

/** PostgreSQL sync as GET /api/devices reports it. */
export interface ApiSyncStatus {
  configured: boolean;
  state: 'disabled' | 'starting' | 'ok' | 'unreachable' | 'error' | 'stopped';
  target: string | null;
  last_success: string | null;
  last_error: string | null;
  outage_since: string | null;
}

export interface ApiDevice {
  /** A UUID generated once per instance. */
  id: string;
  name: string;
  timezone: string;
  /** This instance. */
  is_local: boolean;
  last_seen: string | null;
  /** The interfaces summed into its total. */
  interfaces: string[];
  /** Its totals in the current billing month. */
  month: ApiUsageTotals;
}

/** GET /api/devices: this device and, with sync, every device that syncs to the same PostgreSQL. */
export interface ApiDevicesResponse {
  sync: ApiSyncStatus;
  month: { label: string; start_date: string; end_date: string };
  devices: ApiDevice[];
  all: ApiUsageTotals;
}

/** The measured skill of a forecast: its error on the series' own last days ÷ that of the naive forecasts. */
export interface ApiForecastSkill {
  mae_ratio_vs_same_hour_yesterday: number | null;
  mae_ratio_vs_same_hour_last_week: number | null;
  origins: number;
}

/** One forecast hour of GET /api/forecast (bytes in the hour; low/high the 80 % band). */
export interface ApiForecastPoint {
  timestamp: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_low: number;
  rx_high: number;
  tx_low: number;
  tx_high: number;
}

/** GET /api/forecast?interface=&horizon_hours= */
export type ApiForecast =
  | { available: false; reason: string; available_from: string | null; history_hours: number }
  | { available: true; method: string; history_hours: number; skill: ApiForecastSkill; data: ApiForecastPoint[] };

export type ApiScenarioName = 'last_7_days_pace' | 'typical_week' | 'busy_week';

/** A month-end scenario of the billing month (on the data cap's status: with the day the cap is reached). */
export interface ApiScenario {
  name: ApiScenarioName;
  label: string;
  projected_bytes: number | null;
  reason: string | null;
  cap_reached_on?: string | null;
}

/** How the scenario paces did on the series' own past weeks. */
export interface ApiScenarioSkill {
  typical_week_error_percent: number;
  last_7_days_pace_error_percent: number;
  origins: number;
}

/** GET /api/alerts/rules: alerts of the alert rules (issue #12), newest event first. */
export interface ApiRuleAlert {
  id: number;
  rule_id: string;
  type: string;
  interface: string | null;
  state: 'firing' | 'cleared';
  fired_at: string;
  cleared_at: string | null;
  message: string;
  clear_message: string | null;
  delivery: { status: 'not_configured' | 'pending' | 'delivered' | 'failed'; attempts: number; last_error: string | null };
}

export interface ApiRuleAlertsResponse {
  alerts: ApiRuleAlert[];
  firing: number;
}
