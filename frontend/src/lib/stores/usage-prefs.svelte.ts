/** The Usage view's remembered choices as reactive state, written back to localStorage on every change. */
import { storedState } from './stored-state.svelte';
import { USAGE_PREFS_KEY, parseUsagePrefs, serializeUsagePrefs, type UsagePrefs } from './usage-prefs';

export const usagePrefs: UsagePrefs = storedState(USAGE_PREFS_KEY, parseUsagePrefs, serializeUsagePrefs);
