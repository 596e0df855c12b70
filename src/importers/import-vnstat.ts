/** Runs a vnStat import into an open Net-Pulse database: where to cut, the plan per interface, applying it. */
import type { ImportOutcome, ImportRepo } from '../storage/import-repo.js';
import type { RunsRepo } from '../storage/runs-repo.js';
import { planVnstatImport, readVnstatDatabase, type VnstatInterface } from './vnstat.js';

export const VNSTAT_SOURCE = 'vnstat';

export interface VnstatImportReport {
  vnstatName: string;
  ourName: string;
  /** Where the import stopped, and why. */
  cutSec: number;
  cutReason: 'own-data' | 'now';
  /** vnStat's bytes for the interface (its total), and how much of them the plan brings in (day tier). */
  vnstatRxBytes: bigint;
  vnstatTxBytes: bigint;
  outcome: ImportOutcome;
  skippedRows: number;
  inconsistentRows: number;
}

/**
 * Where Net-Pulse's own data of an interface begins: its first collector run, or an earlier bucket of the
 * interface that vnStat did not bring (a restored backup). Null when it has none.
 */
function ownDataStart(imports: ImportRepo, runs: RunsRepo, name: string): number | null {
  const starts = [runs.firstStart(), imports.oldestOwnBucket('traffic_1h', name, VNSTAT_SOURCE), imports.oldestOwnBucket('traffic_1d', name, VNSTAT_SOURCE)];
  const known = starts.filter((s): s is number => s !== null);
  return known.length === 0 ? null : Math.min(...known);
}

export function importVnstat(
  deps: { imports: ImportRepo; runs: RunsRepo; nowSec: number },
  options: { dbPath: string; timeZone: string; mapping: ReadonlyMap<string, string> | null },
): VnstatImportReport[] {
  const interfaces: VnstatInterface[] = readVnstatDatabase(options.dbPath, { timeZone: options.timeZone, names: options.mapping === null ? undefined : [...options.mapping.keys()] });
  const reports: VnstatImportReport[] = [];
  for (const iface of interfaces) {
    const ourName = options.mapping?.get(iface.name) ?? iface.name;
    const own = ownDataStart(deps.imports, deps.runs, ourName);
    const cutSec = own === null ? deps.nowSec : Math.min(own, deps.nowSec);
    const plan = planVnstatImport(iface, ourName, cutSec);
    const outcome = deps.imports.apply(plan.pieces, { source: VNSTAT_SOURCE, covers: true, nowSec: deps.nowSec });
    let rx = 0n;
    let tx = 0n;
    // vnStat's all-time total is the sum of its year rows.
    for (const r of iface.rows) {
      if (r.level !== 'year') continue;
      rx += r.rxBytes;
      tx += r.txBytes;
    }
    reports.push({
      vnstatName: iface.name,
      ourName,
      cutSec,
      cutReason: own !== null && own <= deps.nowSec ? 'own-data' : 'now',
      vnstatRxBytes: rx,
      vnstatTxBytes: tx,
      outcome,
      skippedRows: plan.skippedRows,
      inconsistentRows: plan.inconsistentRows,
    });
  }
  return reports;
}
