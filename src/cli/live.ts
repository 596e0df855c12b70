/**
 * `netpulse live [--interface NAME] [--url URL]` — current rates refreshed each second, like `vnstat -l`.
 * Reads the running server's /api/live (server-sent events; its address from --url, else NETPULSE_HOST and
 * NETPULSE_PORT); when no server answers there (and no --url was given), reads the counters itself, once a
 * second, with the same live monitor the server uses. Nothing is stored. Ctrl-C (SIGINT) or SIGTERM ends
 * it and prints the session's totals: bytes and packets each way, average and peak rates, duration.
 *
 * Session bytes are rebuilt exactly from each second's rate × its interval (the rate is bytes / interval),
 * so the totals are what the counters moved by while it ran.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createCounterSource } from '../collector/create-source.js';
import { isValidInterfaceName } from '../collector/interface-name.js';
import { createLiveMonitor, type LiveRate, type LiveSnapshot } from '../collector/live.js';
import { loadConfig, type ByteUnits, type Config } from '../config/config.js';
import { formatBytes } from '../services/usage-service.js';
import { CONFIG_KEYS, createConfigRepo } from '../storage/config-repo.js';
import { openDatabase } from '../storage/db.js';

export interface LiveIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** A terminal: lines are redrawn in place. Otherwise one line per interface and second. */
  isTty: boolean;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<unknown>;
}

export const LIVE_HELP = `Usage: netpulse live [--interface NAME] [--url URL] [--binary]

Shows the current receive and transmit rates every second, like vnstat -l, until Ctrl-C,
then the session's totals. Reads the running server's /api/live (at --url, else
http://NETPULSE_HOST:NETPULSE_PORT); when no server answers there, reads the counters itself.

  --interface NAME  one interface (default: the monitored interfaces)
  --url URL         the server, e.g. http://192.168.1.2:8000 (no fallback to the local counters)
  --binary          binary units (1 MiB = 2^20 bytes); default NETPULSE_USAGE_UNITS
`;

export class LiveArgsError extends Error {}

interface SessionTotals {
  rxBytes: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  txPackets: bigint;
  peakRxBytesPerSec: number;
  peakTxBytesPerSec: number;
}

/** Adds up a session from its live snapshots. */
export function createSession() {
  const totals = new Map<string, SessionTotals>();
  let firstMs: number | null = null;
  let lastMs: number | null = null;
  return {
    add(snapshot: LiveSnapshot) {
      firstMs ??= snapshot.timeMs - snapshot.intervalMs;
      lastMs = snapshot.timeMs;
      const sec = snapshot.intervalMs / 1000;
      for (const r of snapshot.rates) {
        const t = totals.get(r.name) ?? { rxBytes: 0n, txBytes: 0n, rxPackets: 0n, txPackets: 0n, peakRxBytesPerSec: 0, peakTxBytesPerSec: 0 };
        t.rxBytes += BigInt(Math.round(r.rxBytesPerSec * sec));
        t.txBytes += BigInt(Math.round(r.txBytesPerSec * sec));
        t.rxPackets += BigInt(Math.round(r.rxPacketsPerSec * sec));
        t.txPackets += BigInt(Math.round(r.txPacketsPerSec * sec));
        t.peakRxBytesPerSec = Math.max(t.peakRxBytesPerSec, r.rxBytesPerSec);
        t.peakTxBytesPerSec = Math.max(t.peakTxBytesPerSec, r.txBytesPerSec);
        totals.set(r.name, t);
      }
    },
    totals: () => totals,
    durationMs: () => (firstMs === null || lastMs === null ? 0 : lastMs - firstMs),
  };
}

export function formatRate(bytesPerSec: number, units: ByteUnits): string {
  return `${formatBytes(bytesPerSec < 1000 ? Math.round(bytesPerSec) : bytesPerSec, units)}/s`;
}

function rateLine(r: LiveRate, width: number, units: ByteUnits): string {
  return `${r.name.padEnd(width)}  rx: ${formatRate(r.rxBytesPerSec, units).padStart(12)} ${String(Math.round(r.rxPacketsPerSec)).padStart(7)} p/s   tx: ${formatRate(r.txBytesPerSec, units).padStart(12)} ${String(Math.round(r.txPacketsPerSec)).padStart(7)} p/s`;
}

export function formatSessionTotals(session: ReturnType<typeof createSession>, units: ByteUnits): string {
  const sec = session.durationMs() / 1000;
  const lines: string[] = [];
  for (const [name, t] of [...session.totals()].sort(([a], [b]) => a.localeCompare(b))) {
    const avg = (bytes: bigint) => (sec > 0 ? formatRate(Number(bytes) / sec, units) : '-');
    lines.push(
      `${name} — session totals over ${sec.toFixed(0)} s`,
      `                 rx                      tx`,
      `  bytes     ${formatBytes(t.rxBytes, units).padEnd(22)}  ${formatBytes(t.txBytes, units)}   (${t.rxBytes} / ${t.txBytes} bytes)`,
      `  packets   ${String(t.rxPackets).padEnd(22)}  ${t.txPackets}`,
      `  average   ${avg(t.rxBytes).padEnd(22)}  ${avg(t.txBytes)}`,
      `  peak      ${formatRate(t.peakRxBytesPerSec, units).padEnd(22)}  ${formatRate(t.peakTxBytesPerSec, units)}`,
      '',
    );
  }
  return lines.length === 0 ? 'No rates were seen in this session.\n' : lines.join('\n');
}

/** Live snapshots from a server's /api/live, until stop; throws when it cannot connect. */
async function streamFromServer(url: string, interfaceName: string | null, onSnapshot: (s: LiveSnapshot) => void, stop: AbortSignal): Promise<void> {
  const endpoint = new URL('/api/live', url);
  if (interfaceName !== null) endpoint.searchParams.set('interface', interfaceName);
  const res = await fetch(endpoint, { signal: stop, headers: { accept: 'text/event-stream' } });
  if (!res.ok || res.body === null) {
    const text = await res.text().catch(() => '');
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    throw new Error(`the server at ${url} refused /api/live: ${message}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (data === '') continue;
        const e = JSON.parse(data) as { timestamp: string; interval_ms: number; interfaces: { name: string; rx_bytes_per_sec: number; tx_bytes_per_sec: number; rx_packets_per_sec: number; tx_packets_per_sec: number }[] };
        onSnapshot({
          timeMs: Date.parse(e.timestamp),
          intervalMs: e.interval_ms,
          rates: e.interfaces.map((i) => ({ name: i.name, rxBytesPerSec: i.rx_bytes_per_sec, txBytesPerSec: i.tx_bytes_per_sec, rxPacketsPerSec: i.rx_packets_per_sec, txPacketsPerSec: i.tx_packets_per_sec })),
        });
      }
    }
  } catch (err) {
    if (!stop.aborted) throw err;
  }
  if (!stop.aborted) throw new Error(`the server at ${url} closed the live stream`);
}

/** Which interfaces to show without a server: the stored monitored set when a database exists, else all but loopback. */
function directSelection(config: Config, interfaceName: string | null): ((name: string) => boolean) {
  if (interfaceName !== null) return (n) => n === interfaceName;
  try {
    if (fs.existsSync(config.dbPath)) {
      const db = openDatabase(config.dbPath);
      try {
        const stored = createConfigRepo(db).get<string[]>(CONFIG_KEYS.monitoredInterfaces);
        if (stored !== undefined) return (n) => stored.includes(n);
      } finally {
        db.close();
      }
    }
  } catch {
    // An unreadable database: show everything.
  }
  return (n) => n !== 'lo';
}

function serverUrlOf(config: Config): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** Whether a fetch failed because nothing listens there (as opposed to a server that answered badly). */
function isUnreachable(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return err instanceof TypeError && ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL'].includes(cause?.code ?? '');
}

/** Runs the command; bad arguments print a pointer to --help and return 2. */
export async function runLiveCommand(args: string[], io: LiveIo): Promise<number> {
  try {
    return await liveCommand(args, io);
  } catch (err) {
    if (!(err instanceof LiveArgsError)) throw err;
    io.err(`netpulse: ${err.message}\nRun "netpulse live --help" for usage.\n`);
    return 2;
  }
}

async function liveCommand(args: string[], io: LiveIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { interface: { type: 'string' }, url: { type: 'string' }, binary: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new LiveArgsError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    io.out(LIVE_HELP);
    return 0;
  }
  const interfaceName = values.interface ?? null;
  if (interfaceName !== null && !isValidInterfaceName(interfaceName)) throw new LiveArgsError(`--interface "${interfaceName}" is not a valid interface name`);
  if (values.url !== undefined && !/^https?:\/\/[^/]+/.test(values.url)) throw new LiveArgsError(`--url must be http://host:port or https://…, not "${values.url}"`);
  const config = loadConfig(io.env);
  const units: ByteUnits = values.binary ? 'binary' : config.usage.units;
  const url = values.url ?? serverUrlOf(config);

  const session = createSession();
  let drawn = 0;
  const show = (snapshot: LiveSnapshot) => {
    session.add(snapshot);
    const rates = [...snapshot.rates].sort((a, b) => a.name.localeCompare(b.name));
    const width = Math.max(4, ...rates.map((r) => r.name.length));
    const lines = rates.map((r) => rateLine(r, width, units));
    if (io.isTty) {
      io.out((drawn > 0 ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
      drawn = lines.length;
    } else {
      io.out(lines.map((l) => `${new Date(snapshot.timeMs).toISOString().slice(11, 19)}  ${l}\n`).join(''));
    }
  };

  const stop = new AbortController();
  void io.stopSignal.then(() => stop.abort());
  let failure: string | null = null;
  try {
    io.err(`Monitoring ${interfaceName ?? 'the monitored interfaces'} at ${url} … (press Ctrl-C to stop)\n`);
    await streamFromServer(url, interfaceName, show, stop.signal);
  } catch (err) {
    if (stop.signal.aborted) {
      // stopped by the user
    } else if (values.url === undefined && isUnreachable(err)) {
      io.err(`No server at ${url}: reading the counters directly (${config.procRoot}).\n`);
      const wanted = directSelection(config, interfaceName);
      const monitor = createLiveMonitor(createCounterSource(config));
      let seen = interfaceName === null;
      const unsubscribe = monitor.subscribe((snapshot) => {
        const rates = snapshot.rates.filter((r) => wanted(r.name));
        if (rates.length > 0) seen = true;
        show({ ...snapshot, rates });
      });
      // The monitor's timer does not keep a process alive (the server's never needed it to): this does.
      const keepAlive = setInterval(() => undefined, 60_000);
      await io.stopSignal;
      clearInterval(keepAlive);
      unsubscribe();
      monitor.close();
      if (!seen) failure = `no interface named "${interfaceName}" was seen`;
    } else {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      failure = isUnreachable(err) ? `cannot reach the server at ${url}` : `${err instanceof Error ? err.message : String(err)}${cause ? ` (${cause})` : ''}`;
    }
  }
  if (failure !== null) {
    io.err(`netpulse live: ${failure}\n`);
    return 1;
  }
  io.out(`\n${formatSessionTotals(session, units)}`);
  return 0;
}
