/**
 * What one poll of 24 interfaces costs: the Linux counter source on a fixture tree (read + parse + ifindex
 * cache), the delta maths, and the collector's whole poll with its SQLite transaction. Also the real
 * /proc/net/dev of this machine and, as root, a real procfs with 24 veth interfaces in a scratch network
 * namespace (with the cost of reading every interface's ifindex from sysfs on each poll).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCollector } from '../src/collector/collector.js';
import { computeDeltas, type CounterState } from '../src/collector/deltas.js';
import { createLinuxSource } from '../src/collector/linux-source.js';
import { parseProcNetDev } from '../src/collector/proc-net-dev.js';
import { silentLogger } from '../src/shared/logger.js';
import { openDatabase } from '../src/storage/db.js';
import { createRunsRepo } from '../src/storage/runs-repo.js';
import { createStateRepo } from '../src/storage/state-repo.js';
import { createTrafficRepo } from '../src/storage/traffic-repo.js';
import { makeAdvancingTree } from './lib/fixture24.js';
import { distribution, log, timeEach, timing, type Samples, type Timing } from './lib/measure.js';

export interface PollCostResult {
  iterations: number;
  fixture: {
    readFile: Timing;
    parse: Timing;
    readCounters: Timing;
    deltas: Timing;
    readParseDeltas: Timing;
    /** The same, repeated on an unchanged file (caches warm): a lower bound. */
    readParseDeltasHot: Timing;
    fullPollWithWrite: Timing;
    /** Parts of the poll's write, each in its own transaction on the same database. */
    writeParts: { emptyTransaction: Timing; trafficWrite24: Timing; stateSave25: Timing };
    /** The collector's own measure of the same polls (its recentDurationsUs window). */
    collectorReportedMedianUs: number | null;
  };
  realHost: { interfaces: number; readFile: Timing; parse: Timing };
  /** null when not root / no iproute2 / veth unavailable. */
  realNetns24: null | { interfaces: number; readFile: Timing; parse: Timing; ifindexAll: Timing; preadAll: Timing; note: string };
  realNetns24Skipped: string | null;
}

function mkTmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * "Cold" runs are what a poll meets in service: the counters changed since the last read (the fixture is
 * rewritten before each run, untimed) and the caches hold whatever ran in between.
 */
export async function benchPollCost(options: { iterations: number }): Promise<PollCostResult> {
  const iterations = options.iterations;
  const warmup = Math.min(300, Math.floor(iterations / 5));
  const fx = makeAdvancingTree(7);
  let fakeNowMs = Date.UTC(2026, 0, 15, 12, 0, 0);
  const advance = () => {
    fx.advance(1);
    fakeNowMs += 1000;
  };
  const netDevPath = path.join(fx.tree.procRoot, 'net', 'dev');
  try {
    log('poll cost: components on a 24-interface fixture');
    const readFile = await timeEach(iterations, warmup, () => fs.readFileSync(netDevPath, 'utf8'), advance);
    let text = '';
    const parse = await timeEach(iterations, warmup, () => parseProcNetDev(text), () => {
      advance();
      text = fs.readFileSync(netDevPath, 'utf8');
    });

    const source = createLinuxSource({ procRoot: fx.tree.procRoot, sysRoot: fx.tree.sysRoot, now: () => fakeNowMs });
    const readCounters: Samples = { wall: [], cpu: [] };
    const deltas: Samples = { wall: [], cpu: [] };
    const both: Samples = { wall: [], cpu: [] };
    let state: CounterState | null = null;
    for (let i = 0; i < warmup + iterations; i++) {
      advance();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const reading = await source.readCounters();
      const c1 = process.cpuUsage();
      const t1 = process.hrtime.bigint();
      const result = computeDeltas(state, reading, { speedMbps: () => 10_000 });
      const t2 = process.hrtime.bigint();
      const c2 = process.cpuUsage();
      state = result.next;
      if (reading.failures.length > 0) throw new Error(`fixture read failed: ${JSON.stringify(reading.failures)}`);
      if (i >= warmup) {
        const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => b.user - a.user + (b.system - a.system);
        readCounters.wall.push(Number(t1 - t0) / 1000);
        readCounters.cpu.push(cpu(c0, c1));
        deltas.wall.push(Number(t2 - t1) / 1000);
        deltas.cpu.push(cpu(c1, c2));
        both.wall.push(Number(t2 - t0) / 1000);
        both.cpu.push(cpu(c0, c2));
      }
    }
    const hotSource = createLinuxSource({ procRoot: fx.tree.procRoot, sysRoot: fx.tree.sysRoot, now: () => fakeNowMs });
    let hotState: CounterState | null = null;
    const hot = await timeEach(iterations, warmup, async () => {
      const result = computeDeltas(hotState, await hotSource.readCounters(), { speedMbps: () => 10_000 });
      hotState = result.next;
    });

    // The collector's whole poll: read + parse + deltas + one SQLite transaction (24 raw rows, 72 rollup upserts, state).
    log('poll cost: collector polls with the SQLite write');
    const dir = mkTmp('netpulse-bench-poll-');
    const db = openDatabase(path.join(dir, 'netpulse.db'));
    let full: Samples = { wall: [], cpu: [] };
    let collectorMedian: number | null = null;
    let writeParts: PollCostResult['fixture']['writeParts'] | null = null;
    try {
      const source2 = createLinuxSource({ procRoot: fx.tree.procRoot, sysRoot: fx.tree.sysRoot, now: () => fakeNowMs });
      const monitored = new Set(fx.names);
      const collector = createCollector({
        db,
        source: source2,
        traffic: createTrafficRepo(db, { timezone: 'UTC' }),
        state: createStateRepo(db),
        runs: createRunsRepo(db),
        monitored: () => monitored,
        speedMbps: () => 10_000,
        logger: silentLogger,
      });
      // A running timer (an hour away) so pollNow doesn't close the run after each poll, as in service.
      collector.start(3600);
      let polls = 0;
      full = await timeEach(
        iterations,
        warmup,
        async () => {
          const r = await collector.pollNow();
          if (r === null) throw new Error(`poll failed: ${collector.stats().lastError}`);
          if (polls++ > 0 && r.samples.length !== fx.names.length) throw new Error(`expected ${fx.names.length} samples, got ${r.samples.length}`);
        },
        advance,
      );
      collectorMedian = distribution([...collector.stats().recentDurationsUs]).p50;
      collector.stop();

      // The write, taken apart: a commit alone, the 24 samples (raw row + 3 rollup upserts each), the counter state.
      const traffic = createTrafficRepo(db, { timezone: 'UTC' });
      const stateRepo = createStateRepo(db);
      const loaded = stateRepo.load()!;
      let sec = Math.floor(fakeNowMs / 1000) + 10;
      const samples = () =>
        fx.names.map((name, i) => ({
          interfaceName: name,
          startSec: sec - 1,
          endSec: sec,
          counters: { rxBytes: BigInt(1000 + i), txBytes: 500n, rxPackets: 2n, txPackets: 1n, rxErrors: 0n, txErrors: 0n, rxDrops: 0n, txDrops: 0n },
        }));
      const empty = db.transaction(() => undefined);
      const writeTraffic = db.transaction((batch: ReturnType<typeof samples>) => traffic.write(batch));
      const saveState = db.transaction(() => stateRepo.save(loaded));
      const n = Math.min(iterations, 2000);
      writeParts = {
        emptyTransaction: timing(await timeEach(n, 100, () => empty())),
        trafficWrite24: timing(await timeEach(n, 100, () => writeTraffic(samples()), () => void sec++)),
        stateSave25: timing(await timeEach(n, 100, () => saveState())),
      };
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }

    log("poll cost: this machine's /proc/net/dev");
    const hostText = fs.readFileSync('/proc/net/dev', 'utf8');
    const hostRead = await timeEach(iterations, warmup, () => fs.readFileSync('/proc/net/dev', 'utf8'));
    const hostParse = await timeEach(iterations, warmup, () => parseProcNetDev(hostText));

    const netns = await realNetns24(iterations);

    return {
      iterations,
      fixture: {
        readFile: timing(readFile),
        parse: timing(parse),
        readCounters: timing(readCounters),
        deltas: timing(deltas),
        readParseDeltas: timing(both),
        readParseDeltasHot: timing(hot),
        fullPollWithWrite: timing(full),
        writeParts: writeParts!,
        collectorReportedMedianUs: collectorMedian,
      },
      realHost: { interfaces: parseProcNetDev(hostText).size, readFile: timing(hostRead), parse: timing(hostParse) },
      realNetns24: netns.result,
      realNetns24Skipped: netns.skipped,
    };
  } finally {
    fx.cleanup();
  }
}

/** Runs inside the scratch namespace: times reading /proc/net/dev and every interface's sysfs ifindex. */
const PROBE = `
const fs = require('node:fs');
const [iterations, warmup] = process.argv.slice(1).map(Number);
const names = fs.readdirSync('/sys/class/net').filter((n) => n !== 'lo');
function time(fn) {
  for (let i = 0; i < warmup; i++) fn();
  const out = { wall: [], cpu: [] };
  for (let i = 0; i < iterations; i++) {
    const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint(); fn();
    out.wall.push(Number(process.hrtime.bigint() - t0) / 1000); const c = process.cpuUsage(c0); out.cpu.push(c.user + c.system);
  }
  return out;
}
const readFile = time(() => fs.readFileSync('/proc/net/dev', 'utf8'));
const ifindexAll = time(() => { for (const n of names) fs.readFileSync('/sys/class/net/' + n + '/ifindex', 'utf8'); });
const fds = names.map((n) => fs.openSync('/sys/class/net/' + n + '/ifindex', 'r'));
const buf = Buffer.alloc(32);
const preadAll = time(() => { for (const fd of fds) fs.readSync(fd, buf, 0, 32, 0); });
process.stdout.write(JSON.stringify({ text: fs.readFileSync('/proc/net/dev', 'utf8'), names: names.length, readFile, ifindexAll, preadAll }));
`;

async function realNetns24(iterations: number): Promise<{ result: PollCostResult['realNetns24']; skipped: string | null }> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { result: null, skipped: 'not root on Linux' };
  const nsA = `npbench${process.pid}a`;
  const nsB = `npbench${process.pid}b`;
  const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  try {
    log('poll cost: real procfs with 24 veth interfaces in a scratch netns');
    ip(['netns', 'add', nsA]);
    ip(['netns', 'add', nsB]);
    // One batch: 24 veth pairs, one end in A (named like a server's NICs), the peer in B.
    const batch = Array.from({ length: 24 }, (_, i) => `link add eth${i} type veth peer name p${i} netns ${nsB}\nlink set eth${i} up`).join('\n') + '\nlink set lo up\n';
    execFileSync('ip', ['-n', nsA, '-batch', '-'], { input: batch, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    const out = ip(['netns', 'exec', nsA, process.execPath, '-e', PROBE, String(iterations), String(Math.min(300, Math.floor(iterations / 5)))]);
    const probe = JSON.parse(out) as { text: string; names: number; readFile: Samples; ifindexAll: Samples; preadAll: Samples };
    const parse = await timeEach(iterations, 100, () => parseProcNetDev(probe.text));
    return {
      result: {
        interfaces: parseProcNetDev(probe.text).size - 1,
        readFile: timing(probe.readFile),
        parse: timing(parse),
        ifindexAll: timing(probe.ifindexAll),
        preadAll: timing(probe.preadAll),
        note: `24 veth interfaces (+ lo) in network namespace ${nsA}; peers in ${nsB}; deleted afterwards`,
      },
      skipped: null,
    };
  } catch (err) {
    return { result: null, skipped: `scratch netns failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  } finally {
    for (const ns of [nsA, nsB]) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // never created
      }
    }
  }
}
