import { sql as init } from './001-init.js';
import { sql as usageSync } from './002-usage-sync.js';
import { sql as monitoredTotals } from './003-monitored-totals.js';
import { sql as flows } from './006-flows.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every schema change, in order. Append only: a released migration is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'usage-sync', sql: usageSync },
  { version: 3, name: 'monitored-totals', sql: monitoredTotals },
  { version: 6, name: 'flows', sql: flows },
];
