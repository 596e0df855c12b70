/**
 * `netpulse` — thin commands over the same services the server uses.
 *   netpulse [serve]      run the collector, the API and the dashboard
 *   netpulse interfaces   what discovery sees: kind, state, primary, monitored
 *   netpulse export       stored traffic as CSV or JSON on stdout
 *   netpulse usage        day, month and all-time totals (like vnStat) and the data cap
 *   netpulse live         current rates every second (like vnstat -l), session totals on Ctrl-C
 *   netpulse import       vnStat history, or a Net-Pulse export, into the database
 *   netpulse service …    install/uninstall/status as a background service
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { finished } from 'node:stream/promises';
import { exportTraffic, type ExportFormat, type ExportResolution } from '../api/routes/export.js';
import { parseTime } from '../api/routes/traffic.js';
import { HttpError } from '../api/errors.js';
import { createCounterSource } from '../collector/create-source.js';
import { discoverInterfaces } from '../collector/discovery.js';
import { isValidInterfaceName } from '../collector/interface-name.js';
import { ConfigError, loadConfig, CONFIG_VARIABLES } from '../config/config.js';
import { zoneinfoOf } from '../config/zoneinfo.js';
import { useZoneRules } from '../shared/zoned-time.js';
import { StartupError, readVersion, startServer } from '../server.js';
import { CONFIG_KEYS, createConfigRepo } from '../storage/config-repo.js';
import { DatabaseOpenError, openDatabase } from '../storage/db.js';
import { createRunsRepo } from '../storage/runs-repo.js';
import { createTrafficRepo } from '../storage/traffic-repo.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  stdout: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdout: process.stdout,
  env: process.env,
};

const MAIN_HELP = `Usage: netpulse [command] [options]

Net-Pulse ${readVersion()} — a self-hosted network traffic monitor.

Commands:
  serve        Run the collector, the REST API and the dashboard (the default)
  interfaces   List network interfaces: kind, state, primary, monitored
  export       Write stored traffic to stdout as CSV or JSON
  usage        Today, yesterday, this month (with its estimate), last month, all time
  live         Current rates every second (like vnstat -l); Ctrl-C prints the session's totals
  import       Bring in history: a vnStat database, or files from "netpulse export"
  service      Install, uninstall or check Net-Pulse as a background service

Run "netpulse <command> --help" for a command's options.

Environment:
${CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(31)} ${v.default}`).join('\n')}
`;

class UsageError extends Error {}

/** serve's last resort after SIGTERM/SIGINT: the process ends by then (the close itself is bounded to 2.5 s). */
const HARD_EXIT_MS = 2900;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

async function serve(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    io.out(`Usage: netpulse serve\n\nRuns the collector, the REST API (/api, /docs, /metrics) and the dashboard in one process.\nConfigured by NETPULSE_* environment variables (netpulse --help lists them).\n`);
    return 0;
  }
  const server = await startServer({ env: io.env });
  // The signal handlers come before the line that says it runs: whoever reads that line may signal at once.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      server.app.log.info({ signal }, 'stopping: storing the last samples');
      // close() is bounded; whatever still holds the event loop afterwards (a socket to a peer that never
      // answered) must not keep the process: it ends at once after close, or at the hard limit.
      const exitSoon = (code: number, ms: number, why?: string) =>
        setTimeout(() => {
          if (why !== undefined) io.err(`netpulse: ${why}\n`);
          process.exit(code);
        }, ms).unref();
      exitSoon(1, HARD_EXIT_MS, `did not stop within ${HARD_EXIT_MS} ms; exiting`);
      server.close().then(
        () => {
          exitSoon(0, 100);
          resolve(0);
        },
        (err: unknown) => {
          io.err(`netpulse: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
          exitSoon(1, 100);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.err(`Net-Pulse is running at ${server.url} (database ${server.config.dbPath})\n`);
  return await stopped;
}

async function interfaces(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  if (values.help) {
    io.out('Usage: netpulse interfaces [--json]\n\nLists every interface discovery sees (sampling traffic for one second), its kind, whether it is up, primary and monitored.\n');
    return 0;
  }
  const config = loadConfig(io.env);
  const source = createCounterSource(config);
  const found = await discoverInterfaces(source, { sampleMs: 1000 });
  let monitored = new Set(found.defaultMonitored);
  let fromConfig = false;
  try {
    // Only read a database that exists: listing interfaces must not create one.
    if (!fs.existsSync(config.dbPath)) throw new Error('no database yet');
    const db = openDatabase(config.dbPath);
    const stored = createConfigRepo(db).get<string[]>(CONFIG_KEYS.monitoredInterfaces);
    db.close();
    if (stored !== undefined) {
      monitored = new Set(stored);
      fromConfig = true;
    }
  } catch {
    // No database yet: show what the first start would monitor.
  }
  const rows = found.interfaces.map((m) => ({
    name: m.name,
    kind: m.kind,
    is_up: m.isUp,
    primary: m.name === found.primary,
    monitored: monitored.has(m.name),
    speed_mbps: m.speedMbps,
    mac: m.mac,
    addresses: m.addresses.map((a) => a.cidr ?? a.address),
  }));
  if (values.json) {
    io.out(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const table = [['NAME', 'KIND', 'STATE', 'PRIMARY', 'MONITORED', 'SPEED', 'ADDRESSES']];
  for (const r of rows) {
    table.push([r.name, r.kind, r.is_up ? 'up' : 'down', r.primary ? 'yes' : '', r.monitored ? 'yes' : '', r.speed_mbps === null ? '' : `${r.speed_mbps} Mb/s`, r.addresses.join(' ')]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) io.out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  io.out(`\n${fromConfig ? 'Monitored set from the database' : 'Monitored set a first start would choose'} (${config.dbPath}).\n`);
  return 0;
}

async function exportCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    format: { type: 'string', default: 'csv' },
    resolution: { type: 'string', default: 'raw' },
    interface: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
  });
  if (values.help) {
    io.out(`Usage: netpulse export [--format csv|json] [--resolution raw|minute|hour|day|runs] [--interface NAME] [--start TIME] [--end TIME]

Writes stored traffic to stdout (streamed). TIME is ISO 8601 (2026-01-31T00:00:00Z) or unix seconds.
runs: when the collector ran. A full backup is one file per resolution; "netpulse import" reads them back.
Defaults: CSV, raw samples, every interface, everything stored.
`);
    return 0;
  }
  const format = values.format;
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, not "${format}"`);
  const resolution = values.resolution;
  if (!['raw', 'minute', 'hour', 'day', 'runs'].includes(resolution)) throw new UsageError(`--resolution must be raw, minute, hour, day or runs, not "${resolution}"`);
  if (values.interface !== undefined && !isValidInterfaceName(values.interface)) throw new UsageError(`--interface "${values.interface}" is not a valid interface name`);
  const config = loadConfig(io.env);
  const db = openDatabase(config.dbPath);
  try {
    const fromSec = parseTime(values.start, '--start') ?? 0;
    const toSec = (parseTime(values.end, '--end') ?? Math.ceil(Date.now() / 1000)) + 1;
    const stream = exportTraffic(
      createTrafficRepo(db, { timezone: config.timezone }),
      { format: format as ExportFormat, resolution: resolution as ExportResolution, interfaceName: values.interface ?? null, fromSec, toSec },
      createRunsRepo(db),
    );
    stream.pipe(io.stdout, { end: false });
    await finished(stream);
  } finally {
    db.close();
  }
  return 0;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [first, ...rest] = argv;
  useZoneRules(zoneinfoOf(io.env).rules);
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      io.out(MAIN_HELP);
      return 0;
    }
    if (first === '--version' || first === '-v') {
      io.out(readVersion() + '\n');
      return 0;
    }
    if (first === undefined || first.startsWith('-')) return await serve(argv, io);
    switch (first) {
      case 'serve':
        return await serve(rest, io);
      case 'interfaces':
        return await interfaces(rest, io);
      case 'export':
        return await exportCommand(rest, io);
      // The other commands are loaded when run: a server never holds their code (issue #13).
      case 'usage':
        return await (await import('./usage.js')).runUsageCommand(rest, io);
      case 'live':
        return await (await import('./live.js')).runLiveCommand(rest, {
          ...io,
          isTty: io.stdout === process.stdout && process.stdout.isTTY === true,
          stopSignal: new Promise((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          }),
        });
      case 'import':
        return await (await import('./import.js')).runImportCommand(rest, io);
      case 'service':
        return await (await import('./service.js')).runServiceCommand(rest);
      default:
        io.err(`netpulse: unknown command "${first}"\n\n${MAIN_HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      // Options without a command are serve's ("netpulse --bogus" runs serve), so its help is the one to read.
      const command = first === undefined || first.startsWith('-') ? 'serve' : first;
      io.err(`netpulse: ${err.message}\nRun "netpulse ${command} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof DatabaseOpenError || err instanceof StartupError || err instanceof HttpError) {
      io.err(`netpulse: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

// Run directly (tsx src/cli/main.ts …); bin/netpulse.js imports main from the build.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
