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
