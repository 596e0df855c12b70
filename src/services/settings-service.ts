/**
 * The settings a user changes from the API or the dashboard: which interfaces are monitored and how often
 * they are polled. Stored in the `configuration` table; NETPULSE_POLL_INTERVAL, when set, wins.
 */
import { passesInterfaceFilter } from '../collector/interface-filter.js';
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
  /** 'env' when NETPULSE_INTERFACES decides the monitored set (the stored one is then not in force). */
  monitoredSource(): 'env' | 'config';
  /** NETPULSE_INTERFACES as entries, or null. */
  monitoredFilter(): readonly string[] | null;
  /**
   * Interfaces the OS lists now (at start, after each poll): under NETPULSE_INTERFACES the ones that match
   * join the monitored list (a VPN that came up), and onMonitoredChange runs.
   */
  noteInterfaces(names: Iterable<string>): void;
}

/** Under NETPULSE_INTERFACES: `has` answers by the patterns (a name never seen yet too); iterating lists the matching names seen. */
class MatchingSet extends Set<string> {
  constructor(
    names: Iterable<string>,
    private readonly matches: (name: string) => boolean,
  ) {
    super(names);
  }
  override has(name: string): boolean {
    return this.matches(name);
  }
}

/** With only `-` entries, NETPULSE_INTERFACES monitors every interface but loopback and the excluded ones. */
const notLoopback = (name: string): boolean => !/^lo\d*$/.test(name);

/**
 * onMonitoredChange runs (inside the caller's flow, synchronously) whenever the monitored set is stored:
 * the server keeps the pre-summed totals of the monitored set in step with it.
 */
export function createSettingsService(
  repo: ConfigRepo,
  envIntervalSec: number | null,
  onMonitoredChange: (names: readonly string[]) => void = () => undefined,
  envInterfaces: readonly string[] | null = null,
): SettingsService {
  let monitoredCache: Set<string> | null = null;
  const matches = (name: string): boolean => envInterfaces !== null && passesInterfaceFilter(name, envInterfaces, notLoopback);
  const seen = new Set<string>();
  const load = (): Set<string> => {
    if (envInterfaces !== null) {
      monitoredCache ??= new MatchingSet([...seen].filter(matches).sort(), matches);
      return monitoredCache;
    }
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
      // Under NETPULSE_INTERFACES the stored set waits for the variable to be unset.
      if (envInterfaces !== null) return unique;
      monitoredCache = new Set(unique);
      onMonitoredChange(unique);
      return unique;
    },
    monitoredSource: () => (envInterfaces !== null ? 'env' : 'config'),
    monitoredFilter: () => envInterfaces,
    noteInterfaces(names) {
      if (envInterfaces === null) return;
      let added = false;
      for (const n of names) {
        if (seen.has(n)) continue;
        seen.add(n);
        if (matches(n)) added = true;
      }
      if (!added) return;
      monitoredCache = null;
      onMonitoredChange([...load()]);
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
