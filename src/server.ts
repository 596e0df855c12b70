/**
 * The one place that wires the real file system, clock, database and port: config → database → counter
 * source → discovery (first start) → collector → API. startServer is what `netpulse serve` and the
 * integration tests run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { buildApp, type App } from './api/app.js';
import type { AppContext } from './api/context.js';
import { createCollector, type Collector } from './collector/collector.js';
import { COUNTER_FIELDS, type CounterSource } from './collector/counter-source.js';
import { createCounterSource } from './collector/create-source.js';
import { discoverInterfaces } from './collector/discovery.js';
import { createLiveMonitor } from './collector/live.js';
import { loadConfig, type Config } from './config/config.js';
import { createAlertsService, createMonthStartDaySetting } from './services/alerts-service.js';
import { createInterfacesService } from './services/interfaces-service.js';
import { createSettingsService } from './services/settings-service.js';
import { createTrafficService } from './services/traffic-service.js';
import { createConfiguredUsageService } from './services/usage-service.js';
import { CONFIG_KEYS, createConfigRepo } from './storage/config-repo.js';
import { COLUMN_OF, COUNTER_COLUMNS } from './storage/counter-columns.js';
import { openDatabase, type Db } from './storage/db.js';
import { createRunsRepo } from './storage/runs-repo.js';
import { createStateRepo } from './storage/state-repo.js';
import { createTrafficRepo } from './storage/traffic-repo.js';
import { loadDeviceIdentity } from './sync/device-identity.js';
import { createSyncService } from './sync/sync-service.js';

export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '..');

export function readVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export interface StartOptions {
  env: Record<string, string | undefined>;
  /** Replaces the OS counter source (tests of the server with a scripted source). */
  source?: CounterSource;
  /** Defaults to a JSON logger at NETPULSE_LOG_LEVEL on stdout. */
  logger?: PinoLogger;
  /** How long discovery samples traffic on first start (ms). */
  discoverySampleMs?: number;
}

export interface RunningServer {
  url: string;
  app: App;
  ctx: AppContext;
  config: Config;
  db: Db;
  collector: Collector;
  /** Takes a last poll, stops everything, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/** An error at start that deserves one clear line, not a stack trace (bad config, port in use, bad DB path). */
export class StartupError extends Error {
  override name = 'StartupError';
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = loadConfig(options.env);
  const logger = options.logger ?? pino({ level: config.logLevel, base: undefined });
  const db = openDatabase(config.dbPath);
  try {
    return await startWith(config, db, logger, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

async function startWith(config: Config, db: Db, logger: PinoLogger, options: StartOptions): Promise<RunningServer> {
  const now = () => Date.now();
  const configRepo = createConfigRepo(db);
  const traffic = createTrafficRepo(db, { timezone: config.timezone });
  const runs = createRunsRepo(db);
  const stateRepo = createStateRepo(db);

  const storedZone = configRepo.get<string>(CONFIG_KEYS.rollupTimezone);
  if (storedZone !== config.timezone) {
    if (storedZone !== undefined) {
      logger.info({ from: storedZone, to: config.timezone }, 'time zone changed: rebuilding calendar-day totals');
      traffic.rebuildDays(config.timezone);
    }
    configRepo.set(CONFIG_KEYS.rollupTimezone, config.timezone);
  }

  const source = options.source ?? createCounterSource(config);
  const settings = createSettingsService(configRepo, config.pollIntervalSecOverride, (names) => traffic.setTotalsInterfaces(names));
  const interfaces = createInterfacesService({ source, settings, configRepo, now });

  if (!settings.hasMonitored()) {
    const found = await discoverInterfaces(source, { sampleMs: options.discoverySampleMs ?? 1000 });
    settings.setMonitored(found.defaultMonitored);
    if (found.primary !== null) configRepo.set(CONFIG_KEYS.primaryInterface, found.primary);
    logger.info({ interfaces: found.interfaces.length, primary: found.primary, monitored: found.defaultMonitored }, 'first start: interfaces discovered');
  } else {
    await interfaces.refreshMeta().catch(() => undefined);
  }
  // The pre-summed totals follow the monitored set (a no-op unless the set changed, or they are new).
  traffic.setTotalsInterfaces(settings.monitoredList());

  // Usage, data cap and sync (issue #5).
  const device = loadDeviceIdentity(db, { name: config.deviceName, timezone: config.timezone, nowSec: Math.floor(now() / 1000) });
  const monthStartDay = createMonthStartDaySetting(db, config.usage.monthStartDay);
  const usage = createConfiguredUsageService({ traffic, config, monthStartDay, source, now });
  const alerts = createAlertsService({ db, usage, logger, now, units: config.usage.units, webhook: { url: config.usage.alertWebhookUrl }, device: { id: device.deviceId, name: device.name } });
  const sync =
    config.sync.url === null
      ? null
      : createSyncService({ db, url: config.sync.url, device, usageInterfaces: () => usage.totalInterfaces(), intervalMs: config.sync.intervalSec * 1000, logger, now });

  const totals = new Map<string, Record<string, bigint>>();
  for (const row of traffic.sumByInterface('traffic_1d', null, 0, Number.MAX_SAFE_INTEGER)) {
    totals.set(row.interface_name, Object.fromEntries(COUNTER_COLUMNS.map((c) => [c, BigInt(row[c])])));
  }

  const collector = createCollector({
    db,
    source,
    traffic,
    state: stateRepo,
    runs,
    monitored: () => settings.monitored(),
    speedMbps: (name) => interfaces.speedMbps(name),
    logger,
    onSamples: (samples) => {
      for (const s of samples) {
        const t = totals.get(s.interfaceName) ?? Object.fromEntries(COUNTER_COLUMNS.map((c) => [c, 0n]));
        for (const f of COUNTER_FIELDS) t[COLUMN_OF[f]] = (t[COLUMN_OF[f]] ?? 0n) + s.counters[f];
        totals.set(s.interfaceName, t);
      }
      usage.noteInterfaces(samples.map((s) => s.interfaceName));
      alerts.notifySamples();
    },
  });
  const live = createLiveMonitor(source);
  const trafficService = createTrafficService({ traffic, runs, retention: config.retention, timezone: config.timezone, now });
  const startedAtMs = now();
  const ctx: AppContext = {
    config,
    version: readVersion(),
    db,
    source,
    collector,
    live,
    settings,
    interfaces,
    trafficService,
    traffic,
    runs,
    configRepo,
    now,
    startedAtMs,
    allTimeTotals: () => totals,
    usage,
    alerts,
    device,
    sync,
  };

  const prune = () => {
    const deleted = traffic.prune(Math.floor(now() / 1000), {
      raw: config.retention.rawHours * 3600,
      minute: config.retention.minuteDays * 86400,
      hour: config.retention.hourDays * 86400,
      day: config.retention.dayDays * 86400,
    });
    if (deleted > 0) logger.info({ deleted }, 'pruned rows past their retention');
  };
  prune();
  const pruneTimer = setInterval(() => {
    try {
      prune();
    } catch (err) {
      logger.warn({ err }, 'pruning failed; will try again');
    }
  }, PRUNE_EVERY_MS);
  pruneTimer.unref();

  // Flows and classification (issue #9): loaded only when turned on, so with it off nothing of it is in memory.
  if (config.flows.enabled) {
    const { startFlowTracking } = await import('./flows/flow-service.js');
    ctx.flowTracking = await startFlowTracking({ config, db, logger, now });
  }

  const app = await buildApp(ctx, { logger });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    clearInterval(pruneTimer);
    await ctx.flowTracking?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${config.port} on ${config.host} is already in use: stop the other program or set NETPULSE_PORT`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new StartupError(`cannot listen on ${config.host}: no such address on this machine (NETPULSE_HOST)`);
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on port ${config.port}: ports below 1024 need privileges (NETPULSE_PORT)`);
    throw err;
  }

  // The first poll sets the baseline (or, after a restart, counts what passed while we were down).
  collector.start(settings.interval().intervalSec);
  await collector.pollNow();
  alerts.start();
  alerts.notifySamples();
  sync?.start();

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, db: config.dbPath, interval: settings.interval().intervalSec, monitored: settings.monitoredList() }, 'Net-Pulse is running');

  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    ctx,
    config,
    db,
    collector,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        live.close();
        await app.close();
        await ctx.flowTracking?.close();
        await collector.shutdown();
        await alerts.close();
        await sync?.stop({ finalSyncTimeoutMs: 3000 });
        db.close();
      })();
      return closing;
    },
  };
}
