/**
 * What the API says about interfaces: metadata from the counter source, today's counters, which one is
 * primary and which are monitored. Metadata (speed, kind) is cached for the collector's plausibility checks.
 */
import type { CounterSource, InterfaceCounters, InterfaceMeta } from '../collector/counter-source.js';
import { pickPrimary } from '../collector/discovery.js';
import { compareInterfaceNames } from '../collector/interface-name.js';
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
  /**
   * Forgets the cached metadata: the next list() reads it again. For link events (an interface came, went,
   * changed state or address); list() also re-reads on its own when a counter read shows a different set of
   * interfaces (names or ifindexes), and when the cache is older than META_MAX_AGE_MS.
   */
  invalidate(): void;
}

const META_REFRESH_MS = 5 * 60_000;
/**
 * How long list() answers from cached metadata (issue #13: sysfs costs ~50 openat + 50 statx per read).
 * Without link events, an address or state change shows within this time.
 */
export const META_MAX_AGE_MS = 30_000;

/** Names and ifindexes, in order: what tells a counter read that the interfaces changed. */
function signatureOf(items: readonly { name: string; ifindex: number | null }[]): string {
  return items
    .map((i) => `${i.name}:${i.ifindex ?? ''}`)
    .sort()
    .join(',');
}

/**
 * Whether a counter read lists exactly the interfaces of `sig` (names and ifindexes): no string is made in
 * the usual case (issue #13: /api/interfaces is polled by the dashboard).
 */
function sameSignature(sig: Map<string, number | null> | null, items: readonly { name: string; ifindex: number | null }[]): boolean {
  if (sig === null || sig.size !== items.length) return false;
  for (const i of items) {
    const known = sig.get(i.name);
    if (known === undefined || known !== i.ifindex) return false;
  }
  return true;
}

export function createInterfacesService(deps: {
  source: CounterSource;
  settings: SettingsService;
  configRepo: ConfigRepo;
  now: () => number;
}): InterfacesService {
  let meta: InterfaceMeta[] = [];
  let metaAt = -Infinity;
  let metaSignature: string | null = null;
  let metaIndex: Map<string, number | null> | null = null;
  const speeds = new Map<string, number | null>();
  /** The primary (by route) and the sorted order of the cached metadata, per primary and monitored set. */
  let ordered: { metas: InterfaceMeta[]; primary: string | null; monitored: ReadonlySet<string>; views: Omit<InterfaceView, 'counters'>[] } | null = null;

  async function refreshMeta(): Promise<InterfaceMeta[]> {
    const read = await deps.source.listInterfaces();
    meta = read;
    metaAt = deps.now();
    metaSignature = signatureOf(read);
    metaIndex = new Map(read.map((m) => [m.name, m.ifindex]));
    speeds.clear();
    // The collector's plausibility bound: a virtual link's reported speed (a veth says 10000) bounds nothing.
    for (const m of meta) speeds.set(m.name, m.isVirtual ? null : m.speedMbps);
    return meta;
  }

  /** The cached metadata while it is fresh and matches the interfaces a counter read saw; else a new read. */
  function currentMeta(seen: readonly { name: string; ifindex: number | null }[] | null): Promise<InterfaceMeta[]> | InterfaceMeta[] {
    const fresh = metaSignature !== null && deps.now() - metaAt < META_MAX_AGE_MS && (seen === null || sameSignature(metaIndex, seen));
    return fresh ? meta : refreshMeta();
  }

  function primaryOf(metas: InterfaceMeta[]): string | null {
    const byRoute = pickPrimary(metas, new Map());
    return byRoute ?? deps.configRepo.get<string>(CONFIG_KEYS.primaryInterface) ?? null;
  }

  async function list(): Promise<InterfaceView[]> {
    const reading = await deps.source.readCounters();
    const metas = await currentMeta(reading.interfaces);
    const counters = new Map(reading.interfaces.map((i) => [i.name, i.counters]));
    const primary = primaryOf(metas);
    const monitored = deps.settings.monitored();
    // The order and flags change only with the metadata, the primary or the monitored set: sorted once.
    if (ordered === null || ordered.metas !== metas || ordered.primary !== primary || ordered.monitored !== monitored) {
      const views = metas
        .map((m) => ({ meta: m, isPrimary: m.name === primary, monitored: monitored.has(m.name) }))
        .sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary) || compareInterfaceNames(a.meta.name, b.meta.name));
      ordered = { metas, primary, monitored, views };
    }
    return ordered.views.map((v) => ({ meta: v.meta, counters: counters.get(v.meta.name) ?? null, isPrimary: v.isPrimary, monitored: v.monitored }));
  }

  return {
    list,
    async get(name) {
      return (await list()).find((v) => v.meta.name === name) ?? null;
    },
    async primary() {
      return primaryOf(await currentMeta(null));
    },
    speedMbps(name) {
      if (deps.now() - metaAt > META_REFRESH_MS) {
        metaAt = deps.now();
        void refreshMeta().catch(() => undefined);
      }
      return speeds.get(name) ?? null;
    },
    refreshMeta,
    invalidate() {
      metaSignature = null;
      metaIndex = null;
    },
  };
}
