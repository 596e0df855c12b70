/**
 * Parses API JSON into the shared types at the client boundary: every field is checked, nothing is
 * cast. A wrong shape throws ParseError naming the path ("interfaces[2].kind"), which the UI shows as
 * "the server sent something this dashboard does not understand".
 */
import type {
  ApiAddress,
  ApiAlert,
  ApiAlertsResponse,
  ApiCapStatus,
  ApiCollectionInterval,
  ApiCollectorStatus,
  ApiCounters,
  ApiDataCap,
  ApiDevice,
  ApiDevicesResponse,
  ApiError,
  ApiForecast,
  ApiForecastPoint,
  ApiForecastSkill,
  ApiInterface,
  ApiLiveEvent,
  ApiLiveRate,
  ApiScenario,
  ApiScenarioSkill,
  ApiMonitoredConfig,
  ApiRuleAlert,
  ApiRuleAlertsResponse,
  ApiSyncStatus,
  ApiTrafficPoint,
  ApiTrafficResponse,
  ApiUsageResponse,
  ApiUsageRow,
  ApiUsageTotals,
  InterfaceKind,
} from '$shared/api-types';

export class ParseError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path || 'response'}: expected ${expected}`);
    this.name = 'ParseError';
  }
}

type Parser<T> = (value: unknown, path: string) => T;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str: Parser<string> = (value, path) => {
  if (typeof value !== 'string') throw new ParseError(path, 'a string');
  return value;
};

const num: Parser<number> = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ParseError(path, 'a number');
  return value;
};

const bool: Parser<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new ParseError(path, 'true or false');
  return value;
};

/** An ISO 8601 time string that Date can read. */
const isoTime: Parser<string> = (value, path) => {
  const text = str(value, path);
  if (Number.isNaN(Date.parse(text))) throw new ParseError(path, 'an ISO 8601 time');
  return text;
};

function nullable<T>(parser: Parser<T>): Parser<T | null> {
  return (value, path) => (value === null || value === undefined ? null : parser(value, path));
}

function arrayOf<T>(parser: Parser<T>): Parser<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new ParseError(path, 'a list');
    return value.map((item, i) => parser(item, `${path}[${i}]`));
  };
}

function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return (value, path) => {
    const text = str(value, path);
    if (!(choices as readonly string[]).includes(text)) throw new ParseError(path, `one of ${choices.join(', ')}`);
    return text as T;
  };
}

/** Reads an object's fields with one parser each; fields the server adds later are ignored. */
function objectOf<T>(fields: { [K in keyof T]-?: Parser<T[K]> }): Parser<T> {
  return (value, path) => {
    if (!isRecord(value)) throw new ParseError(path, 'an object');
    const out: Partial<T> = {};
    for (const key of Object.keys(fields) as (keyof T & string)[]) {
      out[key] = fields[key](value[key], path ? `${path}.${key}` : key);
    }
    return out as T;
  };
}

const KINDS: readonly InterfaceKind[] = [
  'ethernet',
  'wireless',
  'loopback',
  'bridge',
  'tunnel',
  'container',
  'virtual',
  'other',
];

/** A kind this dashboard does not know yet reads as 'other' rather than breaking the page. */
const kind: Parser<InterfaceKind> = (value, path) => {
  const text = str(value, path);
  return (KINDS as readonly string[]).includes(text) ? (text as InterfaceKind) : 'other';
};

const address = objectOf<ApiAddress>({
  family: oneOf(['IPv4', 'IPv6'] as const),
  address: str,
  netmask: (value, path) => (value === null || value === undefined ? '' : str(value, path)),
  cidr: nullable(str),
});

const counters = objectOf<ApiCounters>({
  rx_bytes: num,
  tx_bytes: num,
  rx_packets: num,
  tx_packets: num,
  rx_errors: num,
  tx_errors: num,
  rx_drops: num,
  tx_drops: num,
});

const apiInterface = objectOf<ApiInterface>({
  name: str,
  kind,
  is_up: bool,
  oper_state: str,
  addresses: arrayOf(address),
  mac: nullable(str),
  mtu: nullable(num),
  speed: nullable(num),
  is_virtual: bool,
  is_primary: bool,
  monitored: bool,
  counters: nullable(counters),
});

const trafficPoint = objectOf<ApiTrafficPoint>({
  timestamp: isoTime,
  rx_bytes: nullable(num),
  tx_bytes: nullable(num),
  rx_packets: nullable(num),
  tx_packets: nullable(num),
  covered_seconds: nullable(num),
});

const positive: Parser<number> = (value, path) => {
  const n = num(value, path);
  if (n <= 0) throw new ParseError(path, 'a positive number');
  return n;
};

const trafficResponse = objectOf<ApiTrafficResponse>({
  data: arrayOf(trafficPoint),
  interface: nullable(str),
  interfaces: arrayOf(str),
  time_window_hours: num,
  group_minutes: positive,
  bucket_seconds: positive,
  timezone: str,
  start: isoTime,
  end: isoTime,
});

const collectionInterval = objectOf<ApiCollectionInterval>({
  interval_seconds: num,
  source: oneOf(['env', 'config', 'default'] as const),
  configured_seconds: nullable(num),
  min_seconds: num,
  max_seconds: num,
});

const collectorStatus = objectOf<ApiCollectorStatus>({
  running: bool,
  interval_seconds: num,
  monitored_interfaces: arrayOf(str),
  polls: num,
  failed_polls: num,
  last_poll_at: nullable(isoTime),
  next_poll_at: nullable(isoTime),
  last_error: nullable(str),
  first_data_at: nullable(isoTime),
  started_at: nullable(isoTime),
});

const liveRate = objectOf<ApiLiveRate>({
  name: str,
  rx_bytes_per_sec: num,
  tx_bytes_per_sec: num,
  rx_packets_per_sec: num,
  tx_packets_per_sec: num,
});

const liveEvent = objectOf<ApiLiveEvent>({
  timestamp: isoTime,
  interval_ms: num,
  interfaces: arrayOf(liveRate),
});

/** A byte count: a whole number, never negative. */
const count: Parser<number> = (value, path) => {
  const n = num(value, path);
  if (n < 0 || !Number.isInteger(n)) throw new ParseError(path, 'a byte count');
  return n;
};

/** A calendar date as the server writes it, YYYY-MM-DD. */
const isoDate: Parser<string> = (value, path) => {
  const text = str(value, path);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new ParseError(path, 'a YYYY-MM-DD date');
  return text;
};

const usageTotals = objectOf<ApiUsageTotals>({ rx_bytes: count, tx_bytes: count, total_bytes: count });

const usageRow = objectOf<ApiUsageRow>({
  label: str,
  start: isoTime,
  end: isoTime,
  start_date: isoDate,
  end_date: isoDate,
  rx_bytes: count,
  tx_bytes: count,
  total_bytes: count,
  current: bool,
  estimate: nullable(usageTotals),
  scenarios: (value, path) => (value === undefined ? undefined : arrayOf(scenario)(value, path)),
  scenario_skill: (value, path) => (value === undefined ? undefined : nullable(scenarioSkill)(value, path)),
});

const usageResponse = objectOf<ApiUsageResponse>({
  period: oneOf(['day', 'month', 'year'] as const),
  device: objectOf<ApiUsageResponse['device']>({ id: str, name: str, is_local: bool }),
  interface: nullable(str),
  interfaces: arrayOf(str),
  timezone: str,
  month_start_day: num,
  rows: arrayOf(usageRow),
});

const scenario = objectOf<ApiScenario>({
  name: oneOf(['last_7_days_pace', 'typical_week', 'busy_week'] as const),
  label: str,
  projected_bytes: nullable(count),
  reason: nullable(str),
  cap_reached_on: (value, path) => (value === undefined ? undefined : nullable(isoDate)(value, path)),
});

const scenarioSkill = objectOf<ApiScenarioSkill>({ typical_week_error_percent: num, last_7_days_pace_error_percent: num, origins: num });

const forecastSkill = objectOf<ApiForecastSkill>({
  mae_ratio_vs_same_hour_yesterday: nullable(num),
  mae_ratio_vs_same_hour_last_week: nullable(num),
  origins: num,
});

const forecastPoint = objectOf<ApiForecastPoint>({
  timestamp: isoTime,
  rx_bytes: num,
  tx_bytes: num,
  rx_low: num,
  rx_high: num,
  tx_low: num,
  tx_high: num,
});

/** GET /api/forecast: available with its points and skill, or not yet (and from when). */
export function parseForecast(json: unknown): ApiForecast {
  if (!isRecord(json)) throw new ParseError('', 'an object');
  if (json.available === false) {
    return objectOf<Extract<ApiForecast, { available: false }>>({
      available: () => false as const,
      reason: str,
      available_from: nullable(isoTime),
      history_hours: num,
    })(json, '');
  }
  return objectOf<Extract<ApiForecast, { available: true }>>({
    available: (value, path) => {
      if (value !== true) throw new ParseError(path, 'true or false');
      return true as const;
    },
    method: str,
    history_hours: num,
    skill: forecastSkill,
    data: arrayOf(forecastPoint),
  })(json, '');
}

const capStatus = objectOf<ApiCapStatus>({
  period: str,
  start: isoTime,
  end: isoTime,
  start_date: isoDate,
  end_date: isoDate,
  interfaces: arrayOf(str),
  rx_bytes: count,
  tx_bytes: count,
  used_bytes: count,
  limit_bytes: count,
  remaining_bytes: count,
  projected_bytes: nullable(count),
  percent_used: num,
  projected_percent: nullable(num),
  scenarios: (value, path) => (value === undefined ? undefined : arrayOf(scenario)(value, path)),
  scenario_skill: (value, path) => (value === undefined ? undefined : nullable(scenarioSkill)(value, path)),
});

const dataCap = objectOf<ApiDataCap>({
  limit_bytes: nullable(count),
  interface: nullable(str),
  direction: oneOf(['both', 'rx', 'tx'] as const),
  thresholds_percent: arrayOf(num),
  month_start_day: num,
  month_start_day_source: oneOf(['env', 'config', 'default'] as const),
  timezone: str,
  units: oneOf(['decimal', 'binary'] as const),
  webhook_configured: bool,
  updated_at: nullable(isoTime),
  status: nullable(capStatus),
});

const alert = objectOf<ApiAlert>({
  id: num,
  kind: oneOf(['threshold', 'projection'] as const),
  threshold_percent: num,
  scope: str,
  interface: nullable(str),
  period_start: isoTime,
  period_end: isoTime,
  limit_bytes: count,
  used_bytes: count,
  projected_bytes: nullable(count),
  percent_used: num,
  fired_at: isoTime,
  message: str,
  webhook: objectOf<ApiAlert['webhook']>({
    status: oneOf(['not_configured', 'pending', 'delivered', 'failed'] as const),
    attempts: num,
    last_error: nullable(str),
  }),
});

const alertsResponse = objectOf<ApiAlertsResponse>({ webhook_configured: bool, alerts: arrayOf(alert) });

const syncStatus = objectOf<ApiSyncStatus>({
  configured: bool,
  state: oneOf(['disabled', 'starting', 'ok', 'unreachable', 'error', 'stopped'] as const),
  target: nullable(str),
  last_success: nullable(isoTime),
  last_error: nullable(str),
  outage_since: nullable(isoTime),
});

const device = objectOf<ApiDevice>({
  id: str,
  name: str,
  timezone: str,
  is_local: bool,
  last_seen: nullable(isoTime),
  interfaces: arrayOf(str),
  month: usageTotals,
});

const devicesResponse = objectOf<ApiDevicesResponse>({
  sync: syncStatus,
  month: objectOf<ApiDevicesResponse['month']>({ label: str, start_date: isoDate, end_date: isoDate }),
  devices: arrayOf(device),
  all: usageTotals,
});

export const parseInterfaces = (json: unknown): ApiInterface[] => arrayOf(apiInterface)(json, '');
export const parseMonitored = (json: unknown): string[] => arrayOf(str)(json, '');
export const parseTraffic = (json: unknown): ApiTrafficResponse => trafficResponse(json, '');
export const parseMonitoredConfig = (json: unknown): ApiMonitoredConfig =>
  objectOf<ApiMonitoredConfig>({ interfaces: arrayOf(str), source: oneOf(['env', 'config'] as const), filter: nullable(str) })(json, '');

export const parseCollectionInterval = (json: unknown): ApiCollectionInterval => collectionInterval(json, '');
export const parseCollectorStatus = (json: unknown): ApiCollectorStatus => collectorStatus(json, '');
export const parseLiveEvent = (json: unknown): ApiLiveEvent => liveEvent(json, '');
export const parseUsage = (json: unknown): ApiUsageResponse => usageResponse(json, '');
export const parseDataCap = (json: unknown): ApiDataCap => dataCap(json, '');
export const parseAlerts = (json: unknown): ApiAlertsResponse => alertsResponse(json, '');

const ruleAlert = objectOf<ApiRuleAlert>({
  id: num,
  rule_id: str,
  type: str,
  interface: nullable(str),
  state: oneOf(['firing', 'cleared'] as const),
  fired_at: isoTime,
  cleared_at: nullable(isoTime),
  message: str,
  clear_message: nullable(str),
  delivery: objectOf<ApiRuleAlert['delivery']>({ status: oneOf(['not_configured', 'pending', 'delivered', 'failed'] as const), attempts: num, last_error: nullable(str) }),
});
export const parseRuleAlerts = (json: unknown): ApiRuleAlertsResponse => objectOf<ApiRuleAlertsResponse>({ alerts: arrayOf(ruleAlert), firing: num })(json, '');
export const parseDevices = (json: unknown): ApiDevicesResponse => devicesResponse(json, '');
export const parseHealth = (json: unknown): { status: string } => objectOf<{ status: string }>({ status: str })(json, '');

/**
 * An error body when it has the ApiError shape, else null (a proxy's HTML page, an empty body).
 * Only `code` and `message` are required; the rest is filled from the HTTP status.
 */
export function parseApiError(json: unknown, status: number): ApiError | null {
  if (!isRecord(json) || typeof json.code !== 'string' || typeof json.message !== 'string') return null;
  return {
    statusCode: typeof json.statusCode === 'number' ? json.statusCode : status,
    code: json.code,
    error: typeof json.error === 'string' ? json.error : '',
    message: json.message,
  };
}
