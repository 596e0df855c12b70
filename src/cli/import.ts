/**
 * `netpulse import vnstat [--db PATH] [--interface NAME[=OURNAME]]…` and `netpulse import FILE…`: history from
 * vnStat, or a Net-Pulse export (a backup) back in. Loaded only when the command runs.
 */
import { parseArgs } from 'node:util';
import { isValidInterfaceName } from '../collector/interface-name.js';
import { isValidTimeZone, loadConfig } from '../config/config.js';
import { FileImportError, importExportFile } from '../importers/netpulse-file.js';
import { importVnstat } from '../importers/import-vnstat.js';
import { VnstatImportError } from '../importers/vnstat.js';
import { formatBytes } from '../services/usage-service.js';
import { openDatabase } from '../storage/db.js';
import { createImportRepo } from '../storage/import-repo.js';
import { createRunsRepo } from '../storage/runs-repo.js';
import { createTrafficRepo } from '../storage/traffic-repo.js';

export interface ImportIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const DEFAULT_VNSTAT_DB = '/var/lib/vnstat/vnstat.db';

const HELP = `Usage: netpulse import vnstat [--db PATH] [--interface NAME[=OURNAME]]... [--timezone ZONE] [--json]
       netpulse import FILE... [--resolution minute|hour|day] [--json]

vnstat: brings a vnStat 2.x database's history (read-only; default ${DEFAULT_VNSTAT_DB}) into
  Net-Pulse's day, hour and minute rollups: 5-minute rows and hours where vnStat still has them, days,
  and the rest of months and years spread over their days. Every vnStat interface, or the ones named
  (NAME=OURNAME stores it under another name). It stops where Net-Pulse's own data begins, so nothing is
  counted twice; running it again adds only what is new. vnStat's dates are read in NETPULSE_TZ (or the
  system's zone); with vnStat's UseUTC 1 pass --timezone UTC.

FILE: files written by "netpulse export" (CSV or JSON), one resolution each: raw samples and runs are
  recognised, rollups need --resolution as exported. Export raw, minute, hour, day and runs for a full
  backup, then import them all into a new database.
`;

class ImportArgsError extends Error {}

export async function runImportCommand(args: string[], io: ImportIo): Promise<number> {
  try {
    return importCommand(args, io);
  } catch (err) {
    if (err instanceof ImportArgsError) {
      io.err(`netpulse: ${err.message}\nRun "netpulse import --help" for usage.\n`);
      return 2;
    }
    if (err instanceof VnstatImportError || err instanceof FileImportError) {
      io.err(`netpulse: ${err.message}\nNothing was imported.\n`);
      return 1;
    }
    throw err;
  }
}

function importCommand(args: string[], io: ImportIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        db: { type: 'string' },
        interface: { type: 'string', multiple: true },
        timezone: { type: 'string' },
        resolution: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new ImportArgsError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (positionals.length === 0) throw new ImportArgsError('say what to import: "vnstat" or export files');
  const config = loadConfig(io.env);
  const nowSec = Math.floor(Date.now() / 1000);
  const write = (lines: string[], json: unknown) => {
    if (values.json) io.out(JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
    else io.out(lines.join('\n') + '\n');
  };

  if (positionals[0] === 'vnstat') {
    if (positionals.length > 1) throw new ImportArgsError(`import vnstat takes no files (got ${positionals.slice(1).join(' ')})`);
    if (values.resolution !== undefined) throw new ImportArgsError('--resolution is for export files, not vnstat');
    const timeZone = values.timezone ?? config.timezone;
    if (!isValidTimeZone(timeZone, io.env)) throw new ImportArgsError(`--timezone "${timeZone}" is not an IANA time zone`);
    let mapping: Map<string, string> | null = null;
    for (const spec of values.interface ?? []) {
      const [from = '', to = from, extra] = spec.split('=');
      if (extra !== undefined || !isValidInterfaceName(from) || !isValidInterfaceName(to)) throw new ImportArgsError(`--interface "${spec}" is not NAME or NAME=OURNAME`);
      mapping ??= new Map();
      mapping.set(from, to);
    }
    const db = openDatabase(config.dbPath);
    try {
      const traffic = createTrafficRepo(db, { timezone: config.timezone });
      const reports = importVnstat({ imports: createImportRepo(db, traffic), runs: createRunsRepo(db), nowSec }, { dbPath: values.db ?? DEFAULT_VNSTAT_DB, timeZone, mapping });
      const units = config.usage.units;
      const lines: string[] = [];
      for (const r of reports) {
        const o = r.outcome;
        const days = o.addedBytes.traffic_1d;
        lines.push(
          `${r.vnstatName}${r.ourName === r.vnstatName ? '' : ` → ${r.ourName}`}: ${o.added} buckets added, ${o.grown} grown, ${o.unchanged} already imported` +
            `${o.kept > 0 ? `, ${o.kept} kept as first imported (vnStat now holds less)` : ''}; ` +
            `${formatBytes(days.rx, units)} received, ${formatBytes(days.tx, units)} sent added (vnStat's total: ${formatBytes(r.vnstatRxBytes, units)} / ${formatBytes(r.vnstatTxBytes, units)}).`,
        );
        lines.push(
          r.cutReason === 'own-data'
            ? `  Stopped at ${new Date(r.cutSec * 1000).toISOString()}, where Net-Pulse's own data begins: vnStat's rows reaching past it were left out${r.skippedRows > 0 ? ` (${r.skippedRows})` : ''}.`
            : `  Everything vnStat stored up to now${r.skippedRows > 0 ? ` (${r.skippedRows} rows still in progress left out)` : ''}.`,
        );
        if (r.inconsistentRows > 0) lines.push(`  ${r.inconsistentRows} vnStat rows were smaller than the rows inside them; their finer rows were used.`);
      }
      if (reports.length === 0) lines.push('The vnStat database has no interfaces.');
      write(lines, { source: 'vnstat', interfaces: reports.map((r) => ({ vnstat_name: r.vnstatName, name: r.ourName, cut: new Date(r.cutSec * 1000).toISOString(), cut_reason: r.cutReason, added: r.outcome.added, grown: r.outcome.grown, unchanged: r.outcome.unchanged, kept: r.outcome.kept, skipped_rows: r.skippedRows, added_rx_bytes: r.outcome.addedBytes.traffic_1d.rx, added_tx_bytes: r.outcome.addedBytes.traffic_1d.tx })) });
    } finally {
      db.close();
    }
    return 0;
  }

  if (values.interface !== undefined || values.db !== undefined || values.timezone !== undefined) throw new ImportArgsError('--db, --interface and --timezone are for "import vnstat"');
  const hint = values.resolution ?? null;
  if (hint !== null && hint !== 'minute' && hint !== 'hour' && hint !== 'day') throw new ImportArgsError(`--resolution must be minute, hour or day, not "${hint}"`);
  const db = openDatabase(config.dbPath);
  try {
    const traffic = createTrafficRepo(db, { timezone: config.timezone });
    const deps = { db, traffic, runs: createRunsRepo(db), imports: createImportRepo(db, traffic), nowSec };
    // Runs first is not needed: every file stands alone. Each is checked whole before any of it is written.
    const results = positionals.map((file) => ({ file, ...importExportFile(deps, file, hint) }));
    write(
      results.map((r) => `${r.file}: ${r.resolution}, ${r.rows} rows: ${r.stored} stored, ${r.skipped} already there.`),
      { files: results.map((r) => ({ file: r.file, resolution: r.resolution, rows: r.rows, stored: r.stored, skipped: r.skipped })) },
    );
  } finally {
    db.close();
  }
  return 0;
}
