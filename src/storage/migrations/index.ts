import { sql as init } from './001-init.js';
import { sql as usageSync } from './002-usage-sync.js';
import { sql as monitoredTotals } from './003-monitored-totals.js';
import { sql as counterGaps } from './004-counter-gaps.js';
import { sql as hosts } from './005-hosts.js';
import { ruleAlertsSql, sql as imports } from './007-imports.js';
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
  { version: 4, name: 'counter-gaps', sql: counterGaps },
  { version: 5, name: 'hosts', sql: hosts },
  { version: 6, name: 'flows', sql: flows },
  { version: 7, name: 'imports-and-alert-rules', sql: imports + ruleAlertsSql },
];
