/** Everything the API needs, built once by the server (or by tests with fakes) and handed to buildApp. */
import type { Collector } from '../collector/collector.js';
import type { CounterSource } from '../collector/counter-source.js';
import type { LiveMonitor } from '../collector/live.js';
import type { Config } from '../config/config.js';
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
  /** Flows and classification (issue #9); null/absent unless NETPULSE_FLOWS=on. */
  flowTracking?: FlowTracking | null;
}
