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
  /** Link speed from the last read (refreshed every META_REFRESH_MS); null for virtual links, whose speed bounds nothing. */
  speedMbps(name: string): number | null;
  refreshMeta(): Promise<InterfaceMeta[]>;
  /**
   * Forgets the cached metadata: the next list() reads it again. For link events (an interface came, went,
   * changed state or address); list() also re-reads on its own when a counter read shows a different set of
   * interfaces (names or ifindexes), and when the cache is older than META_MAX_AGE_MS.
   */
  invalidate(): void;
}

/** How often the link speeds bounding the collector's deltas are read again. */
export const META_REFRESH_MS = 5 * 60_000;
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
  let speedsAt = -Infinity;
  /** The collector asked for the speed of a link the metadata does not list (one that came since). */
  let unknownAsked = false;
  /** The primary (by route) and the sorted order of the cached metadata, per primary and monitored set. */
  let ordered: { metas: InterfaceMeta[]; primary: string | null; monitored: ReadonlySet<string>; views: Omit<InterfaceView, 'counters'>[] } | null = null;

  async function refreshMeta(): Promise<InterfaceMeta[]> {
    const read = await deps.source.listInterfaces();
    meta = read;
    metaAt = deps.now();
    speedsAt = metaAt;
    unknownAsked = false;
    metaSignature = signatureOf(read);
    metaIndex = new Map(read.map((m) => [m.name, m.ifindex]));
    speeds.clear();
    // The collector's plausibility bound: a virtual link's reported speed (a veth says 10000) bounds nothing.
    for (const m of meta) speeds.set(m.name, m.isVirtual ? null : m.speedMbps);
    return meta;
  }

  /**
   * Every META_REFRESH_MS for the collector's bound: the speed of each link that has one (one sysfs file per
   * physical link; issue #13: the whole metadata is a dozen files per interface), or the whole metadata when
   * there is none yet, when it was invalidated, or when the collector asked for a link it does not know.
   */
  async function refreshSpeeds(): Promise<void> {
    if (metaSignature === null || unknownAsked || deps.source.linkSpeeds === undefined) {
      await refreshMeta();
      return;
    }
    const physical = meta.filter((m) => !m.isVirtual).map((m) => m.name);
    if (physical.length === 0) return;
    for (const [name, speed] of await deps.source.linkSpeeds(physical)) speeds.set(name, speed);
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
      const speed = speeds.get(name);
      if (speed === undefined) unknownAsked = true;
      if (deps.now() - speedsAt > META_REFRESH_MS) {
        speedsAt = deps.now();
        void refreshSpeeds().catch(() => undefined);
      }
      return speed ?? null;
    },
    refreshMeta,
    invalidate() {
      metaSignature = null;
      metaIndex = null;
    },
  };
}
