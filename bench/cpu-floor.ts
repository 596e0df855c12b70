/**
 * The CPU floor under issue #13's "1 s polling of 24 interfaces, nobody looking" (issue #13): small node
 * processes that do only what that work needs, side by side with the servers of the lean bench, on the same
 * kind of fixture (24 interfaces whose counters all change every second).
 *
 * - a 1 s timer aligned to the second, nothing else (what any Node process polling every second costs);
 * - the timer and Net-Pulse's own counter reader (createLinuxSource().readCounters(): /proc/net/dev and the
 *   24 ifindex checks);
 * - the timer, the reader and the writes the contract and exactness ask for, by hand: one raw row per
 *   interface per poll in traffic_data, the minute, hour and day rollups of the same rows (per interface and
 *   the totals), the counter state a restart counts from and the run's coverage, committed every 10 s, with
 *   the same schema and pragmas (openDatabase).
 *
 * None of them has a collector, an API or a logger: what they use is what polling and storing cost in Node
 * with better-sqlite3 on this machine, before any of Net-Pulse's own machinery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNsSchedstat, status } from './footprint.js';
import { makeAdvancingTree } from './lib/fixture24.js';

export interface CpuFloorResult {
  key: string;
  label: string;
  cpuPercent: number;
  rssBytes: number;
}

const MODES = [
  { key: 'timer', label: 'bare `node`, a timer aligned to every second, nothing else' },
  { key: 'read', label: "the same + Net-Pulse's counter reader every second (24 interfaces)" },
  { key: 'readWrite', label: 'the same + the writes by hand: a raw row per interface a second, their minute/hour/day rollups, the counter state and run coverage, committed every 10 s' },
] as const;

function script(mode: string, distDir: string, procRoot: string, sysRoot: string, dbPath: string, names: readonly string[]): string {
  const j = JSON.stringify;
  return `(async () => {
  const mode = ${j(mode)};
  const { createLinuxSource } = mode === 'timer' ? {} : await import(${j(path.join(distDir, 'collector', 'linux-source.js'))});
  const source = mode === 'timer' ? null : createLinuxSource({ procRoot: ${j(procRoot)}, sysRoot: ${j(sysRoot)} });
  const names = ${j(names)};
  // The interfaces the servers store (the fixture's lo is not monitored there).
  const stored = new Set(names);
  let commit = () => undefined;
  let pending = [];
  if (mode === 'readWrite') {
    const { openDatabase } = await import(${j(path.join(distDir, 'storage', 'db.js'))});
    const { COUNTER_COLUMNS } = await import(${j(path.join(distDir, 'storage', 'counter-columns.js'))});
    const db = openDatabase(${j(dbPath)});
    const cols = COUNTER_COLUMNS.join(', ');
    const add = cols.split(', ').map((c) => c + ' = ' + c + ' + excluded.' + c).join(', ');
    const raw = db.prepare('INSERT INTO traffic_data (interface_name, timestamp, span_seconds, ' + cols + ') VALUES (?, ?, 1, ?, ?, ?, ?, 0, 0, 0, 0)');
    const tiers = ['traffic_1m', 'traffic_1h', 'traffic_1d'].map((t) => db.prepare('INSERT INTO ' + t + ' (interface_name, bucket_start, ' + cols + ') VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0) ON CONFLICT(interface_name, bucket_start) DO UPDATE SET ' + add));
    const totals = ['traffic_total_1m', 'traffic_total_1h', 'traffic_total_1d'].map((t) => db.prepare('INSERT INTO ' + t + ' (bucket_start, ' + cols + ') VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0) ON CONFLICT(bucket_start) DO UPDATE SET ' + add));
    const stateCols = 'interface_name, ifindex, ' + cols;
    const state = db.prepare('INSERT INTO counter_state (' + stateCols + ') VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(interface_name) DO UPDATE SET ' + cols.split(', ').map((c) => c + ' = excluded.' + c).join(', '));
    const meta = db.prepare('INSERT INTO collector_state (id, time_ms, boot_id) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET time_ms = excluded.time_ms');
    const run = db.prepare('INSERT INTO collector_runs (id, started_at, last_poll_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET last_poll_at = excluded.last_poll_at');
    const SPANS = [60, 3600, 86400];
    commit = db.transaction((rows, reading) => {
      for (const r of rows) raw.run(r[0], r[1], r[2], r[3], r[4], r[5]);
      const sec = rows[rows.length - 1][1];
      for (let t = 0; t < 3; t++) {
        const bucket = sec - (sec % SPANS[t]);
        for (const n of names) tiers[t].run(n, bucket, 1000, 1000, 10, 10);
        totals[t].run(bucket, 24000, 24000, 240, 240);
      }
      // The counter state the next start counts from, and the run's coverage: what exactness needs.
      for (const i of reading.interfaces) { if (!stored.has(i.name)) continue; const c = i.counters; state.run(i.name, i.ifindex, String(c.rxBytes), String(c.txBytes), String(c.rxPackets), String(c.txPackets), String(c.rxErrors), String(c.txErrors), String(c.rxDrops), String(c.txDrops)); }
      meta.run(reading.timeMs, reading.bootId);
      run.run(sec, sec);
    });
  }
  let lastCommit = Date.now();
  const tick = async () => {
    if (mode !== 'timer') {
      const reading = await source.readCounters();
      if (mode === 'readWrite') {
        const sec = Math.floor(reading.timeMs / 1000);
        for (const i of reading.interfaces) if (stored.has(i.name)) pending.push([i.name, sec, i.counters.rxBytes % 100000n, i.counters.txBytes % 100000n, 10n, 10n]);
        if (Date.now() - lastCommit >= 10000) { commit(pending, reading); pending = []; lastCommit = Date.now(); }
      }
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  };
  setTimeout(tick, 1000 - (Date.now() % 1000));
})();`;
}

/** Runs the three floors side by side for warmupSec, then measures measuredSec (schedstat of every thread). */
export async function benchCpuFloors(options: { entry: string; warmupSec: number; measuredSec: number }): Promise<CpuFloorResult[]> {
  const distDir = path.dirname(path.dirname(options.entry));
  const fx = makeAdvancingTree(7);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpulse-bench-cpu-floor-'));
  const advance = setInterval(() => fx.advance(), 1000);
  const children: ChildProcess[] = [];
  try {
    for (const m of MODES) {
      const code = script(m.key, distDir, fx.tree.procRoot, fx.tree.sysRoot, path.join(dir, `${m.key}.db`), fx.names);
      children.push(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    await sleep(options.warmupSec * 1000);
    const before = children.map((c) => cpuNsSchedstat(c.pid!));
    await sleep(options.measuredSec * 1000);
    return MODES.map((m, i) => {
      const pid = children[i]!.pid!;
      if (children[i]!.exitCode !== null) throw new Error(`the CPU floor "${m.key}" exited early (${children[i]!.exitCode})`);
      return { key: m.key, label: m.label, cpuPercent: ((cpuNsSchedstat(pid) - before[i]!) / 1e9 / options.measuredSec) * 100, rssBytes: status(pid).VmRSS ?? 0 };
    });
  } finally {
    clearInterval(advance);
    for (const c of children) c.kill('SIGKILL');
    fx.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
