/**
 * The dashboard's only door to the server. Every answer is parsed (./parse) before anyone sees it;
 * every failure becomes an ApiRequestError with a kind the UI can act on: 'network' (server
 * unreachable → banner + retry), 'auth' (ask for the token, retry the write), 'http' (show the
 * server's words), 'parse', 'aborted' (a newer request replaced this one: ignore).
 */
import type {
  ApiForecast,
  ApiAlertsResponse,
  ApiCollectionInterval,
  ApiCollectorStatus,
  ApiDataCap,
  ApiDataCapUpdate,
  ApiDevicesResponse,
  ApiError,
  ApiInterface,
  ApiMonitoredConfig,
  ApiRuleAlertsResponse,
  ApiTrafficResponse,
  ApiUsagePeriod,
  ApiUsageResponse,
} from '$shared/api-types';
import {
  ParseError,
  parseAlerts,
  parseApiError,
  parseCollectionInterval,
  parseCollectorStatus,
  parseDataCap,
  parseDevices,
  parseForecast,
  parseHealth,
  parseInterfaces,
  parseMonitored,
  parseMonitoredConfig,
  parseRuleAlerts,
  parseTraffic,
  parseUsage,
} from './parse';
import { gapsPath, parseGaps } from './gaps';
import { hostTrafficPath, hostsPath, parseFlowsStatus, parseHosts } from './hosts';
import { categoriesPath, flowsPath, parseCategoryTraffic, parseFlows, type FlowState } from './flows';
import { parseQosApply, parseQosClasses, parseQosConfirm, parseQosView, type QosConfig } from '../qos/qos-api';

export type ApiFailure =
  | { kind: 'network' }
  | { kind: 'aborted' }
  | { kind: 'parse'; detail: string }
  | { kind: 'auth'; status: number; error: ApiError }
  | { kind: 'http'; status: number; error: ApiError | null };

export class ApiRequestError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.kind === 'http' || failure.kind === 'auth' ? (failure.error?.message ?? `HTTP ${failure.status}`) : failure.kind);
    this.name = 'ApiRequestError';
  }
}

/**
 * Error codes that mean "this write needs (another) token". REMOTE_WRITE_FORBIDDEN is not one: the server
 * sends it only while it has no token configured, so typing one cannot help; its message says what to do.
 */
export const AUTH_CODES: readonly string[] = ['TOKEN_REQUIRED', 'TOKEN_INVALID'];

export interface TrafficQuery {
  windowHours: number;
  groupMinutes: number;
  /** null: the total over all monitored interfaces. */
  interfaceName: string | null;
}

export function trafficPath(query: TrafficQuery): string {
  const params = new URLSearchParams({
    time_window_hours: String(query.windowHours),
    group_minutes: String(query.groupMinutes),
  });
  if (query.interfaceName !== null) params.set('interface', query.interfaceName);
  return `/api/traffic?${params.toString()}`;
}

export interface UsageQuery {
  period: ApiUsagePeriod;
  /** null: the total (the server's default interfaces). */
  interfaceName: string | null;
  /** 'local' (this device, the server's default), 'all', or a device id from GET /api/devices. */
  device: string;
  /** How many periods back; the server's default when left out. */
  limit?: number;
}

export function usagePath(query: UsageQuery): string {
  const params = new URLSearchParams({ period: query.period });
  if (query.interfaceName !== null) params.set('interface', query.interfaceName);
  if (query.device !== 'local') params.set('device', query.device);
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  return `/api/usage?${params.toString()}`;
}

/** The live stream of one interface, of the monitored ones (null), or of every interface ('all'). */
export function livePath(target: string | null | 'all'): string {
  if (target === null) return '/api/live';
  if (target === 'all') return '/api/live?all=true';
  return `/api/live?${new URLSearchParams({ interface: target }).toString()}`;
}

export interface ApiClientDeps {
  fetch: typeof fetch;
  /** Prefix for every path; '' for the same origin. */
  baseUrl?: string;
  /** The stored admin token, sent on writes. */
  getToken: () => string | null;
  /** Told about every request that could not reach the server, and every one that did. */
  onReachability?: (reachable: boolean) => void;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(deps: ApiClientDeps) {
  const baseUrl = deps.baseUrl ?? '';

  async function request<T>(path: string, parse: (json: unknown) => T, options: RequestOptions = {}): Promise<T> {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') {
      const token = deps.getToken();
      if (token) headers.authorization = `Bearer ${token}`;
    }

    let response: Response;
    try {
      response = await deps.fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (cause) {
      if (options.signal?.aborted || (cause instanceof DOMException && cause.name === 'AbortError')) {
        throw new ApiRequestError({ kind: 'aborted' });
      }
      deps.onReachability?.(false);
      throw new ApiRequestError({ kind: 'network' });
    }

    let json: unknown = undefined;
    let bodyRead = true;
    try {
      const text = await response.text();
      json = text === '' ? undefined : JSON.parse(text);
    } catch (cause) {
      if (options.signal?.aborted) throw new ApiRequestError({ kind: 'aborted' });
      bodyRead = !(cause instanceof TypeError);
    }
    if (!bodyRead) {
      deps.onReachability?.(false);
      throw new ApiRequestError({ kind: 'network' });
    }

    // A proxy in front of a stopped server answers 502/503/504 with its own page: that is "unreachable".
    const apiError = response.ok ? null : parseApiError(json, response.status);
    if (!response.ok && apiError === null && [502, 503, 504].includes(response.status)) {
      deps.onReachability?.(false);
      throw new ApiRequestError({ kind: 'network' });
    }
    deps.onReachability?.(true);

    if (!response.ok) {
      if (apiError && (response.status === 401 || response.status === 403) && AUTH_CODES.includes(apiError.code)) {
        throw new ApiRequestError({ kind: 'auth', status: response.status, error: apiError });
      }
      throw new ApiRequestError({ kind: 'http', status: response.status, error: apiError });
    }
    try {
      return parse(json);
    } catch (cause) {
      if (cause instanceof ParseError) throw new ApiRequestError({ kind: 'parse', detail: cause.message });
      throw cause;
    }
  }

  return {
    getHealth: (signal?: AbortSignal) => request('/api/health', parseHealth, { signal }),
    getInterfaces: (signal?: AbortSignal): Promise<ApiInterface[]> => request('/api/interfaces', parseInterfaces, { signal }),
    getMonitored: (signal?: AbortSignal): Promise<string[]> =>
      request('/api/config/monitored_interfaces', parseMonitored, { signal }),
    getMonitoredConfig: (signal?: AbortSignal): Promise<ApiMonitoredConfig> =>
      request('/api/config/interfaces', parseMonitoredConfig, { signal }),
    saveMonitored: (names: string[]): Promise<string[]> =>
      request('/api/config/monitored_interfaces', parseMonitored, { method: 'POST', body: names }),
    getTraffic: (query: TrafficQuery, signal?: AbortSignal): Promise<ApiTrafficResponse> =>
      request(trafficPath(query), parseTraffic, { signal }),
    getGaps: (windowHours: number, interfaceName: string | null, signal?: AbortSignal) => request(gapsPath(windowHours, interfaceName), parseGaps, { signal }),
    getCollectionInterval: (signal?: AbortSignal): Promise<ApiCollectionInterval> =>
      request('/api/config/collection-interval', parseCollectionInterval, { signal }),
    saveCollectionInterval: (intervalSeconds: number): Promise<ApiCollectionInterval> =>
      request('/api/config/collection-interval', parseCollectionInterval, {
        method: 'PUT',
        body: { interval_seconds: intervalSeconds },
      }),
    getCollectorStatus: (signal?: AbortSignal): Promise<ApiCollectorStatus> =>
      request('/collector/status', parseCollectorStatus, { signal }),
    getUsage: (query: UsageQuery, signal?: AbortSignal): Promise<ApiUsageResponse> =>
      request(usagePath(query), parseUsage, { signal }),
    getDataCap: (signal?: AbortSignal): Promise<ApiDataCap> => request('/api/config/data-cap', parseDataCap, { signal }),
    saveDataCap: (update: ApiDataCapUpdate): Promise<ApiDataCap> =>
      request('/api/config/data-cap', parseDataCap, { method: 'PUT', body: update }),
    getAlerts: (limit: number, signal?: AbortSignal): Promise<ApiAlertsResponse> =>
      request(`/api/alerts?limit=${limit}`, parseAlerts, { signal }),
    getRuleAlerts: (limit: number, signal?: AbortSignal): Promise<ApiRuleAlertsResponse> =>
      request(`/api/alerts/rules?limit=${limit}`, parseRuleAlerts, { signal }),
    getDevices: (signal?: AbortSignal): Promise<ApiDevicesResponse> => request('/api/devices', parseDevices, { signal }),
    // Per-host totals (issue #9).
    getFlowsStatus: (signal?: AbortSignal) => request('/api/flows/status', parseFlowsStatus, { signal }),
    getHosts: (windowHours: number, signal?: AbortSignal) => request(hostsPath(windowHours), parseHosts, { signal }),
    getHostTraffic: (id: string, windowHours: number, groupMinutes: number, signal?: AbortSignal): Promise<ApiTrafficResponse> =>
      request(hostTrafficPath(id, windowHours, groupMinutes), parseTraffic, { signal }),
    renameHost: (id: string, name: string | null) =>
      request(`/api/hosts/${encodeURIComponent(id)}`, (json) => json as { id: string; name: string | null }, { method: 'PUT', body: { name } }),
    // Flows and traffic by category (issue #9).
    getFlows: (state: FlowState, host: string | null, limit: number, signal?: AbortSignal) => request(flowsPath(state, host, limit), parseFlows, { signal }),
    getCategoryTraffic: (windowHours: number, host: string | null, signal?: AbortSignal) =>
      request(categoriesPath(windowHours, host), parseCategoryTraffic, { signal }),
    // QoS (issue #10)
    getQos: (signal?: AbortSignal) => request('/api/qos', parseQosView, { signal }),
    getQosClasses: (signal?: AbortSignal) => request('/api/qos/classes', parseQosClasses, { signal }),
    saveQos: (config: QosConfig) => request('/api/qos', parseQosView, { method: 'PUT', body: config }),
    applyQos: (confirmWithinSeconds: number, dryRun: boolean) =>
      request('/api/qos/apply', parseQosApply, { method: 'POST', body: { confirm_within_seconds: confirmWithinSeconds, dry_run: dryRun } }),
    confirmQos: () => request('/api/qos/confirm', parseQosConfirm, { method: 'POST' }),
    removeQos: () => request('/api/qos', parseQosView, { method: 'DELETE' }),
    getForecast: (interfaceName: string | null, horizonHours: number, signal?: AbortSignal): Promise<ApiForecast> =>
      request(`/api/forecast?horizon_hours=${horizonHours}${interfaceName === null ? '' : `&interface=${encodeURIComponent(interfaceName)}`}`, parseForecast, { signal }),
  };
}

export interface TokenStore {
  get(): string | null;
  set(token: string): void;
}

/**
 * Runs a write; when the server wants a token (401/403 with an auth code), asks the person for one,
 * keeps it, and tries again. `askToken` resolves null when they cancel: the write then fails with the
 * server's auth error.
 */
export async function writeWithToken<T>(
  write: () => Promise<T>,
  tokens: TokenStore,
  askToken: (error: ApiError) => Promise<string | null>,
  maxAttempts = 4,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (cause) {
      if (!(cause instanceof ApiRequestError) || cause.failure.kind !== 'auth' || attempt >= maxAttempts) throw cause;
      const token = await askToken(cause.failure.error);
      if (token === null || token.trim() === '') throw cause;
      tokens.set(token.trim());
    }
  }
}
