/**
 * `netpulse usage` — vnStat's summary from the local database: today, yesterday, this billing month with
 * its estimate, last month and all time, for the total (or one interface), plus the data cap if one is set.
 */
import { parseArgs } from 'node:util';
import { isValidInterfaceName } from '../collector/interface-name.js';
import { createCounterSource } from '../collector/create-source.js';
import { loadConfig, type ByteUnits } from '../config/config.js';
import { createAlertsService, createMonthStartDaySetting, percentOf, stringifyWithBigInt, type CapStatus } from '../services/alerts-service.js';
import { createConfiguredUsageService, formatBytes, type UsageRow, type UsageSummary } from '../services/usage-service.js';
import { silentLogger } from '../shared/logger.js';
import { openDatabase } from '../storage/db.js';
import { createTrafficRepo } from '../storage/traffic-repo.js';

export interface UsageIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const USAGE_HELP = `Usage: netpulse usage [--json] [--interface NAME] [--binary]

Prints traffic totals from the local database, like vnStat: today, yesterday, this billing month
with its estimate, last month and all time — for the total (the physical interfaces, or the
NETPULSE_USAGE_INTERFACES selection) or one interface — and the data cap, if one is set.

  --json            machine-readable (byte counts as JSON integers)
  --interface NAME  one interface instead of the total
  --binary          binary units (1 GiB = 2^30 bytes); default NETPULSE_USAGE_UNITS (decimal: 1 GB = 10^9)

Days are calendar days in NETPULSE_TZ; months start on NETPULSE_MONTH_START_DAY (or the day set from the API).
`;

/** Thrown for bad arguments: main prints it with a pointer to --help and exits 2. */
export class UsageArgsError extends Error {}

function rowJson(r: UsageRow | null) {
  if (r === null) return null;
  return {
    label: r.label,
    start: new Date(r.startSec * 1000).toISOString(),
    end: new Date(r.endSec * 1000).toISOString(),
    rx_bytes: r.rxBytes,
    tx_bytes: r.txBytes,
    total_bytes: r.rxBytes + r.txBytes,
    estimate: r.estimate === null ? null : { rx_bytes: r.estimate.rxBytes, tx_bytes: r.estimate.txBytes, total_bytes: r.estimate.rxBytes + r.estimate.txBytes },
  };
}

function ordinal(n: number): string {
  const s = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `${n}${s}`;
}

/** The vnStat-like table. */
export function formatUsageTable(opts: {
  title: string;
  summary: UsageSummary;
  units: ByteUnits;
  cap: CapStatus | null;
}): string {
  const { summary: s, units } = opts;
  const fmt = (b: bigint) => formatBytes(b, units);
  const lines: string[][] = [['', 'rx', 'tx', 'total', 'estimated']];
  const add = (name: string, r: UsageRow | null) => {
    if (r === null) return;
    const est = r.estimate === null ? '' : fmt(r.estimate.rxBytes + r.estimate.txBytes);
    lines.push([name, fmt(r.rxBytes), fmt(r.txBytes), fmt(r.rxBytes + r.txBytes), est]);
  };
  add('today', s.today);
  add('yesterday', s.yesterday);
  add(`this month (${s.thisMonth.startDate}…)`, s.thisMonth);
  add(`last month (${s.lastMonth?.startDate ?? ''}…)`, s.lastMonth);
  lines.push([`all time${s.allTime.since === null ? '' : ` (since ${s.allTime.since})`}`, fmt(s.allTime.rxBytes), fmt(s.allTime.txBytes), fmt(s.allTime.rxBytes + s.allTime.txBytes), '']);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const render = (l: string[]) => ' ' + l.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : c.padStart(widths[i]!))).join('  |  ').trimEnd();
  const out = [opts.title, '', render(lines[0]!), ' ' + '-'.repeat(render(lines[0]!).length - 1)];
  for (const l of lines.slice(1)) out.push(render(l));
  if (opts.cap !== null) {
    const c = opts.cap;
    const projected = c.projectedBytes === null ? 'no projection yet' : `projected ${fmt(c.projectedBytes)} (${c.projectedPercent}%) by ${c.endDate}`;
    out.push('', ` data cap: ${fmt(c.usedBytes)} of ${fmt(c.limitBytes)} used (${percentOf(c.usedBytes, c.limitBytes)}%), ${projected}`);
  }
  return out.join('\n') + '\n';
}

/** Runs the command; bad arguments print a pointer to --help and return 2. */
export async function runUsageCommand(args: string[], io: UsageIo): Promise<number> {
  try {
    return await usageCommand(args, io);
  } catch (err) {
    if (!(err instanceof UsageArgsError)) throw err;
    io.err(`netpulse: ${err.message}\nRun "netpulse usage --help" for usage.\n`);
    return 2;
  }
}

async function usageCommand(args: string[], io: UsageIo): Promise<number> {
  let values: { json?: boolean; interface?: string; binary?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { json: { type: 'boolean' }, interface: { type: 'string' }, binary: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new UsageArgsError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    io.out(USAGE_HELP);
    return 0;
  }
  if (values.interface !== undefined && !isValidInterfaceName(values.interface)) throw new UsageArgsError(`--interface "${values.interface}" is not a valid interface name`);
  const config = loadConfig(io.env);
  const units: ByteUnits = values.binary ? 'binary' : config.usage.units;
  const db = openDatabase(config.dbPath);
  try {
    const traffic = createTrafficRepo(db, { timezone: config.timezone });
    const monthStartDay = createMonthStartDaySetting(db, config.usage.monthStartDay);
    const source = createCounterSource(config);
    const now = () => Date.now();
    const usage = createConfiguredUsageService({ traffic, config, monthStartDay, source, now });
    const interfaceName = values.interface ?? null;
    if (interfaceName !== null && !usage.storedInterfaces().includes(interfaceName)) {
      io.err(`netpulse: no stored traffic for interface "${interfaceName}" (stored: ${usage.storedInterfaces().join(', ') || 'none'})\n`);
      return 1;
    }
    const { interfaces, summary } = await usage.summary(interfaceName);
    const alerts = createAlertsService({ db, usage, logger: silentLogger, now, units, webhook: { url: null }, device: { id: '', name: config.deviceName } });
    const cap = alerts.getCap();
    const capStatus = cap.interfaceName === interfaceName ? await alerts.status() : null;
    if (values.json) {
      io.out(
        stringifyWithBigInt(
          {
            interface: interfaceName,
            interfaces,
            timezone: config.timezone,
            month_start_day: usage.monthStartDay(),
            units,
            today: rowJson(summary.today),
            yesterday: rowJson(summary.yesterday),
            this_month: rowJson(summary.thisMonth),
            last_month: rowJson(summary.lastMonth),
            all_time: { since: summary.allTime.since, rx_bytes: summary.allTime.rxBytes, tx_bytes: summary.allTime.txBytes, total_bytes: summary.allTime.rxBytes + summary.allTime.txBytes },
            data_cap:
              capStatus === null
                ? null
                : { limit_bytes: capStatus.limitBytes, used_bytes: capStatus.usedBytes, projected_bytes: capStatus.projectedBytes, percent_used: capStatus.percentUsed, period_start: capStatus.startDate, period_end: capStatus.endDate },
          },
          2,
        ) + '\n',
      );
      return 0;
    }
    const what = interfaceName ?? `total of ${interfaces.length === 0 ? 'no interfaces yet' : interfaces.join(', ')}`;
    const title = ` ${what}  ·  ${config.timezone}  ·  months start on the ${ordinal(usage.monthStartDay())}  ·  ${units} units`;
    io.out(formatUsageTable({ title, summary, units, cap: capStatus }));
    return 0;
  } finally {
    db.close();
  }
}
