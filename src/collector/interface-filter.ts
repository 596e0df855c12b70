/**
 * The interface-list syntax of NETPULSE_USAGE_INTERFACES and NETPULSE_INTERFACES (Beszel's NICS): entries
 * separated by commas, `name` includes, `-name` excludes, `*` matches any run of characters. Plain entries
 * (if any) pick the interfaces; without any, a default rule does; `-` entries are then taken away.
 */

/** `*` matches any run of characters; everything else literally. */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** Whether one name passes the filter; byDefault decides when the filter has no plain entries. */
export function passesInterfaceFilter(name: string, filter: readonly string[] | null, byDefault: (name: string) => boolean): boolean {
  const includes = (filter ?? []).filter((p) => !p.startsWith('-'));
  const excludes = (filter ?? []).filter((p) => p.startsWith('-')).map((p) => p.slice(1));
  const picked = includes.length > 0 ? includes.some((p) => matchesPattern(name, p)) : byDefault(name);
  return picked && !excludes.some((p) => matchesPattern(name, p));
}

/** The names (deduplicated, sorted) that pass the filter. */
export function applyInterfaceFilter(names: Iterable<string>, filter: readonly string[] | null, byDefault: (name: string) => boolean): string[] {
  return [...new Set(names)].sort().filter((n) => passesInterfaceFilter(n, filter, byDefault));
}
