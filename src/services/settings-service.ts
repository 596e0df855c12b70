/**
 * The settings a user changes from the API or the dashboard: which interfaces are monitored and how often
 * they are polled. Stored in the `configuration` table; NETPULSE_POLL_INTERVAL, when set, wins.
 */
import { DEFAULT_POLL_INTERVAL_SEC, POLL_INTERVAL_MAX_SEC, POLL_INTERVAL_MIN_SEC } from '../config/config.js';
import { CONFIG_KEYS, type ConfigRepo } from '../storage/config-repo.js';

export interface IntervalSetting {
  intervalSec: number;
  source: 'env' | 'config' | 'default';
  configuredSec: number | null;
}

export interface SettingsService {
  monitored(): ReadonlySet<string>;
  monitoredList(): string[];
  /** Stores the monitored set (names already validated by the caller). */
  setMonitored(names: readonly string[]): string[];
  /** True once a monitored set has been stored (by discovery on first start, or by the user). */
  hasMonitored(): boolean;
  interval(): IntervalSetting;
  setInterval(seconds: number): IntervalSetting;
}

/**
 * onMonitoredChange runs (inside the caller's flow, synchronously) whenever the monitored set is stored:
 * the server keeps the pre-summed totals of the monitored set in step with it.
 */
export function createSettingsService(
  repo: ConfigRepo,
  envIntervalSec: number | null,
  onMonitoredChange: (names: readonly string[]) => void = () => undefined,
): SettingsService {
  let monitoredCache: Set<string> | null = null;
  const load = (): Set<string> => {
    monitoredCache ??= new Set(repo.get<string[]>(CONFIG_KEYS.monitoredInterfaces) ?? []);
    return monitoredCache;
  };
  const interval = (): IntervalSetting => {
    const configured = repo.get<number>(CONFIG_KEYS.collectionIntervalSec) ?? null;
    if (envIntervalSec !== null) return { intervalSec: envIntervalSec, source: 'env', configuredSec: configured };
    if (configured !== null) return { intervalSec: configured, source: 'config', configuredSec: configured };
    return { intervalSec: DEFAULT_POLL_INTERVAL_SEC, source: 'default', configuredSec: null };
  };
  return {
    monitored: load,
    monitoredList: () => [...load()].sort(),
    setMonitored(names) {
      const unique = [...new Set(names)].sort();
      repo.set(CONFIG_KEYS.monitoredInterfaces, unique);
      monitoredCache = new Set(unique);
      onMonitoredChange(unique);
      return unique;
    },
    hasMonitored: () => repo.get<string[]>(CONFIG_KEYS.monitoredInterfaces) !== undefined,
    interval,
    setInterval(seconds) {
      if (!Number.isInteger(seconds) || seconds < POLL_INTERVAL_MIN_SEC || seconds > POLL_INTERVAL_MAX_SEC) {
        throw new RangeError(`interval_seconds must be a whole number from ${POLL_INTERVAL_MIN_SEC} to ${POLL_INTERVAL_MAX_SEC}`);
      }
      repo.set(CONFIG_KEYS.collectionIntervalSec, seconds);
      return interval();
    },
  };
}
