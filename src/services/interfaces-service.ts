/**
 * What the API says about interfaces: metadata from the counter source, today's counters, which one is
 * primary and which are monitored. Metadata (speed, kind) is cached for the collector's plausibility checks.
 */
import type { CounterSource, InterfaceCounters, InterfaceMeta } from '../collector/counter-source.js';
import { pickPrimary } from '../collector/discovery.js';
import { CONFIG_KEYS, type ConfigRepo } from '../storage/config-repo.js';
import type { SettingsService } from './settings-service.js';

export interface InterfaceView {
  meta: InterfaceMeta;
  counters: InterfaceCounters['counters'] | null;
  isPrimary: boolean;
  monitored: boolean;
}

export interface InterfacesService {
  /** Every interface the OS lists now, with counters, primary and monitored flags. */
  list(): Promise<InterfaceView[]>;
  get(name: string): Promise<InterfaceView | null>;
  /** The primary interface: the default route's, else the one discovery picked at first start. */
  primary(): Promise<string | null>;
  /** Link speed from the last metadata read (refreshed at most every refreshMs); null for virtual links, whose speed bounds nothing. */
  speedMbps(name: string): number | null;
  refreshMeta(): Promise<InterfaceMeta[]>;
}

const META_REFRESH_MS = 5 * 60_000;

export function createInterfacesService(deps: {
  source: CounterSource;
  settings: SettingsService;
  configRepo: ConfigRepo;
  now: () => number;
}): InterfacesService {
  let meta: InterfaceMeta[] = [];
  let metaAt = -Infinity;
  const speeds = new Map<string, number | null>();

  async function refreshMeta(): Promise<InterfaceMeta[]> {
    meta = await deps.source.listInterfaces();
    metaAt = deps.now();
    speeds.clear();
    // The collector's plausibility bound: a virtual link's reported speed (a veth says 10000) bounds nothing.
    for (const m of meta) speeds.set(m.name, m.isVirtual ? null : m.speedMbps);
    return meta;
  }

  function primaryOf(metas: InterfaceMeta[]): string | null {
    const byRoute = pickPrimary(metas, new Map());
    return byRoute ?? deps.configRepo.get<string>(CONFIG_KEYS.primaryInterface) ?? null;
  }

  async function list(): Promise<InterfaceView[]> {
    const [metas, reading] = await Promise.all([refreshMeta(), deps.source.readCounters()]);
    const counters = new Map(reading.interfaces.map((i) => [i.name, i.counters]));
    const primary = primaryOf(metas);
    const monitored = deps.settings.monitored();
    return metas
      .map((m) => ({ meta: m, counters: counters.get(m.name) ?? null, isPrimary: m.name === primary, monitored: monitored.has(m.name) }))
      .sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary) || a.meta.name.localeCompare(b.meta.name));
  }

  return {
    list,
    async get(name) {
      return (await list()).find((v) => v.meta.name === name) ?? null;
    },
    async primary() {
      return primaryOf(await refreshMeta());
    },
    speedMbps(name) {
      if (deps.now() - metaAt > META_REFRESH_MS) {
        metaAt = deps.now();
        void refreshMeta().catch(() => undefined);
      }
      return speeds.get(name) ?? null;
    },
    refreshMeta,
  };
}
