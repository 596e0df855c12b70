/** The remembered preferences as reactive state, written back to localStorage on every change. */
import { PREFS_KEY, parsePrefs, serializePrefs, type Prefs } from './prefs';
import { storedState } from './stored-state.svelte';

export const prefs: Prefs = storedState(PREFS_KEY, parsePrefs, serializePrefs);
