/** The Usage view's remembered choices as reactive state, written back to localStorage on every change. */
import { USAGE_PREFS_KEY, parseUsagePrefs, serializeUsagePrefs, type UsagePrefs } from './usage-prefs';

function readStorage(): string | null {
  try {
    return localStorage.getItem(USAGE_PREFS_KEY);
  } catch {
    return null;
  }
}

export const usagePrefs: UsagePrefs = $state(parseUsagePrefs(readStorage()));

$effect.root(() => {
  $effect(() => {
    const text = serializeUsagePrefs(usagePrefs);
    try {
      localStorage.setItem(USAGE_PREFS_KEY, text);
    } catch {
      // Private mode or a full quota: the choices last for this visit only.
    }
  });
});
