/** The remembered preferences as reactive state, written back to localStorage on every change. */
import { PREFS_KEY, parsePrefs, serializePrefs, type Prefs } from './prefs';

function readStorage(): string | null {
  try {
    return localStorage.getItem(PREFS_KEY);
  } catch {
    return null;
  }
}

export const prefs: Prefs = $state(parsePrefs(readStorage()));

$effect.root(() => {
  $effect(() => {
    const text = serializePrefs(prefs);
    try {
      localStorage.setItem(PREFS_KEY, text);
    } catch {
      // Private mode or a full quota: preferences last for this visit only.
    }
  });
});
