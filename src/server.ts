/**
 * The one place that wires the real file system, clock, database and port: config → database → counter
 * source → discovery (first start) → collector → API. startServer is what `netpulse serve` and the
 * integration tests run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { createRuleAlertsService } from './alerts/rule-alerts-service.js';
import { buildApp, type App } from './api/app.js';
import type { LazyCompilers } from './api/lazy-compilers.js';
import type { AppContext } from './api/context.js';
import { createCollector, type Collector } from './collector/collector.js';
import { COUNTER_FIELDS, type CounterSource } from './collector/counter-source.js';
import { createCounterSource } from './collector/create-source.js';
import { discoverInterfaces } from './collector/discovery.js';
import { createLiveMonitor } from './collector/live.js';
import { flushBeforeReads } from './collector/write-buffer.js';
import { loadConfig, type Config } from './config/config.js';
import { zoneinfoOf } from './config/zoneinfo.js';
import type { MqttPublisher } from './mqtt/mqtt-publisher.js';
import { createAlertsService, createMonthStartDaySetting } from './services/alerts-service.js';
import { createInterfacesService } from './services/interfaces-service.js';
import { createSettingsService } from './services/settings-service.js';
import { createTrafficService } from './services/traffic-service.js';
import { createConfiguredUsageService } from './services/usage-service.js';
import { CONFIG_KEYS, createConfigRepo } from './storage/config-repo.js';
import { COLUMN_OF, COUNTER_COLUMNS } from './storage/counter-columns.js';
import { openDatabase, type Db } from './storage/db.js';
import { createGapsRepo } from './storage/gaps-repo.js';
import { createImportRepo } from './storage/import-repo.js';
import { createRunsRepo } from './storage/runs-repo.js';
import { createStateRepo } from './storage/state-repo.js';
import { createTrafficRepo } from './storage/traffic-repo.js';
import { loadDeviceIdentity } from './sync/device-identity.js';
import { createSyncService } from './sync/sync-service.js';
import { settleWithin, startBudget } from './shared/deadline.js';
import { useZoneRules } from './shared/zoned-time.js';

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
  /** The app's deferred schema compilers (tests that look at what was compiled pass their own). */
  compilers?: LazyCompilers;
}

export interface RunningServer {
  url: string;
  app: App;
  ctx: AppContext;
  config: Config;
  db: Db;
  collector: Collector;
  /** The MQTT publisher; null without NETPULSE_MQTT_URL. */
  mqtt: MqttPublisher | null;
  /** Takes a last poll, stops everything, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/** An error at start that deserves one clear line, not a stack trace (bad config, port in use, bad DB path). */
export class StartupError extends Error {
  override name = 'StartupError';
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** What close() may take in all: SIGTERM must end the process within 3 s (Docker waits 10 s, then kills). */
export const SHUTDOWN_BUDGET_MS = 2500;

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const config = loadConfig(options.env);
  // Calendar days from the system's zoneinfo files, not Intl (issue #13: ICU's data is ≈ 8 MiB of RSS).
  useZoneRules(zoneinfoOf(options.env).rules);
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
  const storedTraffic = createTrafficRepo(db, { timezone: config.timezone });
  const storedRuns = createRunsRepo(db);
  const stateRepo = createStateRepo(db);
  // Readers see the collector's uncommitted polls: they commit them first (issue #13, write-buffer.ts).
  let flushPending = (): void => undefined;
  const onFlushError = (err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'committing pending polls before a read failed; answering from the database');
  const traffic = flushBeforeReads(storedTraffic, () => flushPending(), ['write', 'setTotalsInterfaces', 'rebuildDays', 'totalsInterfaces', 'prune'], onFlushError);
  const runs = flushBeforeReads(storedRuns, () => flushPending(), ['begin', 'touch', 'end', 'firstStart'], onFlushError);

  const storedZone = configRepo.get<string>(CONFIG_KEYS.rollupTimezone);
  if (storedZone !== config.timezone) {
    if (storedZone !== undefined) {
      logger.info({ from: storedZone, to: config.timezone }, 'time zone changed: rebuilding calendar-day totals');
      traffic.rebuildDays(config.timezone);
    }
    configRepo.set(CONFIG_KEYS.rollupTimezone, config.timezone);
  }

  const source = options.source ?? createCounterSource(config);
  const settings = createSettingsService(configRepo, config.pollIntervalSecOverride, (names) => traffic.setTotalsInterfaces(names), config.monitorInterfaces);
  const interfaces = createInterfacesService({ source, settings, configRepo, now });

  if (!settings.hasMonitored()) {
    const found = await discoverInterfaces(source, { sampleMs: options.discoverySampleMs ?? 1000 });
    settings.setMonitored(found.defaultMonitored);
    if (found.primary !== null) configRepo.set(CONFIG_KEYS.primaryInterface, found.primary);
    logger.info({ interfaces: found.interfaces.length, primary: found.primary, monitored: found.defaultMonitored }, 'first start: interfaces discovered');
  } else {
    await interfaces.refreshMeta().catch(() => undefined);
  }
  // NETPULSE_INTERFACES: the interfaces there now that match (later ones join as they show traffic).
  if (config.monitorInterfaces !== null) {
    settings.noteInterfaces((await source.readCounters()).interfaces.map((i) => i.name));
    logger.info({ filter: config.monitorInterfaces, monitored: settings.monitoredList() }, 'NETPULSE_INTERFACES decides the monitored set');
  }
  // The pre-summed totals follow the monitored set (a no-op unless the set changed, or they are new).
  traffic.setTotalsInterfaces(settings.monitoredList());

  // Usage, data cap and sync (issue #5).
  const device = loadDeviceIdentity(db, { name: config.deviceName, timezone: config.timezone, nowSec: Math.floor(now() / 1000) });
  const monthStartDay = createMonthStartDaySetting(db, config.usage.monthStartDay);
  const usage = createConfiguredUsageService({ traffic, config, monthStartDay, source, now });
  // The data cap is judged on committed polls (its own usage view reads without flushing), so evaluating it
  // every few seconds doesn't force a commit every few seconds; it runs after each commit instead.
  const committedUsage = createConfiguredUsageService({ traffic: storedTraffic, config, monthStartDay, source, now });
  const alerts = createAlertsService({ db, usage: committedUsage, logger, now, units: config.usage.units, webhook: { url: config.usage.alertWebhookUrl }, device: { id: device.deviceId, name: device.name } });
  const sync =
    config.sync.url === null
      ? null
      : createSyncService({ db, url: config.sync.url, device, usageInterfaces: () => usage.totalInterfaces(), intervalMs: config.sync.intervalSec * 1000, logger, now });

  const ruleAlerts = createRuleAlertsService({
    db,
    configRepo,
    traffic,
    runs,
    source,
    monitoredList: () => settings.monitoredList(),
    logger,
    now,
    device: { id: device.deviceId, name: device.name },
    channels: { webhookUrl: config.usage.alertWebhookUrl, ...config.alertChannels },
  });

  const totals = new Map<string, Record<string, bigint>>();
  for (const row of traffic.sumByInterface('traffic_1d', null, 0, Number.MAX_SAFE_INTEGER)) {
    totals.set(row.interface_name, Object.fromEntries(COUNTER_COLUMNS.map((c) => [c, BigInt(row[c])])));
  }

  // The live view takes the collector's readings while it polls every second (issue #13).
  const live = createLiveMonitor(source);
  const collector = createCollector({
    db,
    source,
    traffic: storedTraffic,
    state: stateRepo,
    runs: storedRuns,
    gaps: createGapsRepo(db),
    commitEverySec: config.commitIntervalSec,
    monitored: () => settings.monitored(),
    speedMbps: (name) => interfaces.speedMbps(name),
    logger,
    onReading: (reading, deltas, prevTimeMs) => live.offer(reading, deltas, prevTimeMs),
    onSamples: (samples) => {
      for (const s of samples) {
        const t = totals.get(s.interfaceName) ?? Object.fromEntries(COUNTER_COLUMNS.map((c) => [c, 0n]));
        for (const f of COUNTER_FIELDS) t[COLUMN_OF[f]] = (t[COLUMN_OF[f]] ?? 0n) + s.counters[f];
        totals.set(s.interfaceName, t);
      }
      const names = samples.map((s) => s.interfaceName);
      settings.noteInterfaces(names);
      usage.noteInterfaces(names);
      committedUsage.noteInterfaces(names);
      alerts.notifySamples();
    },
  });
  flushPending = () => collector.flush();
  // Link events (issue #8): Linux only, loaded only then, and only when the counters are the kernel's own.
  const linkEventsOffReason = !config.linkEvents ? 'NETPULSE_LINK_EVENTS=off' : process.platform !== 'linux' ? 'not Linux' : options.source !== undefined || config.procRoot !== '/proc' ? 'the counters are not read from /proc (NETPULSE_PROC_ROOT)' : null;
  const linkEvents =
    linkEventsOffReason === null
      ? (await import('./collector/link-events.js')).startLinkEvents({ collector, invalidate: () => interfaces.invalidate(), logger })
      : { on: false, reason: linkEventsOffReason, lost: 0, close: () => undefined };
  const trafficService = createTrafficService({ traffic, runs, retention: config.retention, timezone: config.timezone, now, imports: createImportRepo(db, traffic) });
  const startedAtMs = now();
  // Issue #9: loaded only when turned on, so that with it off nothing of it costs memory or CPU.
  const flows = config.flows.enabled
    ? await (await import('./flows/index.js')).startFlows({ config, db, logger, now, pollIntervalSec: () => settings.interval().intervalSec })
    : null;
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
    allTimeTotals: () => {
      // The totals follow commits: commit what is pending first, as every other read does.
      try {
        flushPending();
      } catch (err) {
        onFlushError(err);
      }
      return totals;
    },
    usage,
    alerts,
    device,
    sync,
    flows,
    ruleAlerts,
    linkEvents,
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

  // QoS (issue #10) changes the machine: only with NETPULSE_QOS=on, and only then is its code loaded.
  if (config.qosEnabled) {
    try {
      const { startQos } = await import('./qos/start.js');
      ctx.qos = await startQos({ configRepo, logger, now, interfaces, alerts });
    } catch (err) {
      ctx.qos = null;
      ctx.qosUnavailableReason = `QoS could not start: ${err instanceof Error ? err.message : String(err)}`;
      logger.error({ err }, 'QoS could not start');
    }
  }
  // Flows and classification (issue #9): loaded only when turned on, so with it off nothing of it is in memory.
  if (config.flows.enabled) {
    const { startFlowTracking } = await import('./flows/flow-service.js');
    ctx.flowTracking = await startFlowTracking({ config, db, logger, now });
  }

  const app = await buildApp(ctx, { logger, compilers: options.compilers });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    linkEvents.close();
    await app.close();
    await ctx.qos?.close();
    clearInterval(pruneTimer);
    await flows?.close();
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
  ruleAlerts.start();
  sync?.start();

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}`;
  // MQTT and Home Assistant (issue #12): its code (and the mqtt package) is loaded only when configured.
  const mqtt = config.mqtt === null ? null : (await import('./mqtt/server-mqtt.js')).startServerMqtt(ctx, config.mqtt, { logger, url: config.host === '0.0.0.0' || config.host === '::' ? null : url });
  logger.info({ url, db: config.dbPath, interval: settings.interval().intervalSec, monitored: settings.monitoredList() }, 'Net-Pulse is running');

  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    ctx,
    config,
    db,
    collector,
    mqtt,
    close() {
      // Bounded (issue #8): the last samples are stored first, then every wait on a peer (HTTP clients,
      // PostgreSQL, the webhook) gets what is left of SHUTDOWN_BUDGET_MS, so SIGTERM ends the process in time.
      closing ??= (async () => {
        const left = startBudget(SHUTDOWN_BUDGET_MS);
        clearInterval(pruneTimer);
        live.close();
        linkEvents.close();
        await collector.shutdown({ timeoutMs: 1000 });
        const peers = Promise.all([app.close(), flows?.close(), ctx.flowTracking?.close(), ctx.qos?.close(), mqtt?.close(), alerts.close(), ruleAlerts.close(), sync?.stop({ finalSyncTimeoutMs: 1000, timeoutMs: Math.max(0, left() - 100) })]);
        if (!(await settleWithin(peers, left()))) logger.warn({ budgetMs: SHUTDOWN_BUDGET_MS }, 'stopping: some connections did not close in time; leaving them');
        try {
          db.close();
        } catch (err) {
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'stopping: closing the database failed');
        }
      })();
      return closing;
    },
  };
}
