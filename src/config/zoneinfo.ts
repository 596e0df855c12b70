/**
 * Time zones from the system's compiled zoneinfo files (/usr/share/zoneinfo, or TZDIR as glibc reads it), so
 * that calendar days and months never need Intl: its first use with a time zone maps ≈ 8 MiB of ICU data into
 * a process that otherwise never touches it (issue #13). A zone the files lack (no tzdata installed, a name
 * written in another case) is left to Intl by the callers, so nothing that worked before stops working.
 */
import fs from 'node:fs';
import path from 'node:path';
import { offsetFnOf, parseTzif, type ZoneOffsetFn } from '../shared/tzif.js';

export const DEFAULT_ZONEINFO_DIR = '/usr/share/zoneinfo';

/** IANA names as the zoneinfo tree spells them: "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5". */
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;
/** Files in the tree that are not zones a browser's Intl knows (the dashboard formats times in the zone). */
const NOT_ZONES = new Set(['posixrules', 'localtime', 'Factory', 'leapseconds', 'SECURITY']);
/** Intl's name for the zones of UTC, as it reports the machine's zone (a /etc/localtime of Etc/UTC is "UTC"). */
const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu']);

export interface Zoneinfo {
  readonly dir: string;
  /** The zone's offsets, or null when the tree has no such zone (or not a readable one). Cached. */
  rules(name: string): ZoneOffsetFn | null;
  /** The machine's zone by name, from TZ or /etc/localtime (or /etc/timezone), when the tree has it; else null. */
  localZone(env: Readonly<Record<string, string | undefined>>, etcDir?: string): string | null;
}

const byDir = new Map<string, Zoneinfo>();

/** The zoneinfo tree at `dir` (one shared instance per directory, so every caller reads a file once). */
export function zoneinfoAt(dir: string = DEFAULT_ZONEINFO_DIR): Zoneinfo {
  let z = byDir.get(dir);
  if (z === undefined) {
    z = createZoneinfo(dir);
    byDir.set(dir, z);
  }
  return z;
}

/** The tree named by TZDIR in env, else the default. */
export function zoneinfoOf(env: Readonly<Record<string, string | undefined>>): Zoneinfo {
  const dir = env.TZDIR?.trim();
  return zoneinfoAt(dir === undefined || dir === '' ? DEFAULT_ZONEINFO_DIR : dir);
}

function isZoneName(name: string): boolean {
  return ZONE_NAME.test(name) && !NOT_ZONES.has(name) && !name.startsWith('posix/') && !name.startsWith('right/');
}

function createZoneinfo(dir: string): Zoneinfo {
  const cache = new Map<string, ZoneOffsetFn | null>();
  const rules = (name: string): ZoneOffsetFn | null => {
    if (!isZoneName(name)) return null;
    let f = cache.get(name);
    if (f === undefined) {
      try {
        f = offsetFnOf(parseTzif(fs.readFileSync(path.join(dir, name))));
      } catch {
        f = null; // missing, unreadable or not TZif: Intl decides
      }
      cache.set(name, f);
    }
    return f;
  };
  const known = (name: string | undefined): string | null => {
    if (name === undefined) return null;
    const trimmed = name.trim();
    return rules(trimmed) === null ? null : UTC_ALIASES.has(trimmed) ? 'UTC' : trimmed;
  };
  const readOrNull = (file: string): Buffer | null => {
    try {
      return fs.readFileSync(file);
    } catch {
      return null;
    }
  };
  const underTree = (file: string): string | undefined => /(?:^|\/)zoneinfo\/(.+)$/.exec(file)?.[1];
  return {
    dir,
    rules,
    localZone(env, etcDir = '/etc') {
      const tz = env.TZ;
      if (tz !== undefined && tz !== '') {
        // TZ=":Europe/Berlin", "Europe/Berlin" or a file's path; a POSIX rule string ("CET-1CEST,…") is Intl's.
        const name = tz.startsWith(':') ? tz.slice(1) : tz;
        return known(name.startsWith('/') ? underTree(name) : name);
      }
      const localtime = path.join(etcDir, 'localtime');
      try {
        return known(underTree(fs.readlinkSync(localtime)));
      } catch {
        // not a link: a copied file (a container with the host's /etc/localtime mounted), or none
      }
      const written = readOrNull(path.join(etcDir, 'timezone'))?.toString('utf8').split('\n')[0]!.trim();
      const named = known(written);
      if (written === undefined || named === null) return null;
      // /etc/timezone may be the image's own while /etc/localtime is the host's: trusted only when they agree.
      const copied = readOrNull(localtime);
      if (copied === null) return named;
      const zoneFile = readOrNull(path.join(dir, written));
      return zoneFile !== null && copied.equals(zoneFile) ? named : null;
    },
  };
}
