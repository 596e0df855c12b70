/** Everything the API needs, built once by the server (or by tests with fakes) and handed to buildApp. */
import type { RuleAlertsService } from '../alerts/rule-alerts-service.js';
import type { Collector } from '../collector/collector.js';
import type { CounterSource } from '../collector/counter-source.js';
import type { LiveMonitor } from '../collector/live.js';
import type { Config } from '../config/config.js';
import type { FlowsFeature } from '../flows/index.js';
import type { QosService } from '../qos/qos-service.js';
import type { FlowTracking } from '../flows/flow-service.js';
import type { AlertsService } from '../services/alerts-service.js';
import type { InterfacesService } from '../services/interfaces-service.js';
import type { SettingsService } from '../services/settings-service.js';
import type { TrafficService } from '../services/traffic-service.js';
import type { UsageService } from '../services/usage-service.js';
import type { ConfigRepo } from '../storage/config-repo.js';
import type { Db } from '../storage/db.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import type { TrafficRepo } from '../storage/traffic-repo.js';
import type { DeviceIdentity } from '../sync/device-identity.js';
import type { SyncService } from '../sync/sync-service.js';

export interface AppContext {
  config: Config;
  version: string;
  db: Db;
  source: CounterSource;
  collector: Collector;
  live: LiveMonitor;
  settings: SettingsService;
  interfaces: InterfacesService;
  trafficService: TrafficService;
  traffic: TrafficRepo;
  runs: RunsRepo;
  configRepo: ConfigRepo;
  /** ms since the epoch. */
  now: () => number;
  startedAtMs: number;
  /** All-time stored totals per interface (kept current by the collector), for /metrics. */
  allTimeTotals: () => ReadonlyMap<string, Record<string, bigint>>;
  /** Day/month/year totals (issue #5). */
  usage: UsageService;
  /** The data cap and its alerts. */
  alerts: AlertsService;
  /** This instance's device id and name. */
  device: DeviceIdentity;
  /** Replication to PostgreSQL and the all-devices view; null without NETPULSE_SYNC_URL. */
  sync: SyncService | null;
  /** Per-host totals and flows (issue #9); null while NETPULSE_FLOWS is off (nothing of it is loaded then). */
  flows: FlowsFeature | null;
  /** QoS (issue #10): loaded only with NETPULSE_QOS=on; absent or null otherwise. */
  qos?: QosService | null;
  /** Why QoS is not available (off, or its start failed), for GET /api/qos. */
  qosUnavailableReason?: string | null;
  /** Alert rules beyond the data cap (issue #12); undefined where a test builds the app without them. */
  ruleAlerts?: RuleAlertsService;
  /** Flows and classification (issue #9); null/absent unless NETPULSE_FLOWS=on. */
  flowTracking?: FlowTracking | null;
  /** rtnetlink link events (issue #8): whether they listen, why not, messages lost; absent in app-only tests. */
  linkEvents?: { readonly on: boolean; readonly reason: string | null; readonly lost: number };
}
