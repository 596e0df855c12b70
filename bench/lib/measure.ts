/** Timing, percentiles and the machine description every benchmark section shares. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample (any unit). */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/** Microseconds since `start` (a process.hrtime.bigint()). */
export function usSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1000;
}

/**
 * Wall time and CPU time (this process, all threads, getrusage) of each timed run, in µs. On a busy
 * machine wall time includes waiting for a core; CPU time is what the work itself cost.
 */
export interface Samples {
  wall: number[];
  cpu: number[];
}

export interface Timing {
  wall: Distribution;
  cpu: Distribution;
}

export function timing(samples: Samples): Timing {
  return { wall: distribution(samples.wall), cpu: distribution(samples.cpu) };
}

/** Times one run of fn into `into` (wall and CPU µs). */
export async function timeOnce<T>(into: Samples, fn: () => T | Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  into.wall.push(usSince(t0));
  const c = process.cpuUsage(c0);
  into.cpu.push(c.user + c.system);
  return value;
}

/** Runs fn `iterations` times after `warmup` untimed runs; `prepare` (untimed) runs before each. */
export async function timeEach(iterations: number, warmup: number, fn: (i: number) => unknown | Promise<unknown>, prepare?: (i: number) => void): Promise<Samples> {
  const out: Samples = { wall: [], cpu: [] };
  for (let i = 0; i < warmup; i++) {
    prepare?.(i);
    await fn(i);
  }
  for (let i = 0; i < iterations; i++) {
    prepare?.(warmup + i);
    await timeOnce(out, () => fn(warmup + i));
  }
  return out;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return os.loadavg().map((v) => v.toFixed(2)).join(' ');
  }
}

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  ramBytes: number;
  kernel: string;
  node: string;
  tmpFs: string;
}

export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    cpuModel = os.cpus()[0]?.model ?? 'unknown';
  }
  let tmpFs = 'unknown';
  try {
    tmpFs = execFileSync('stat', ['-f', '-c', '%T', os.tmpdir()], { encoding: 'utf8' }).trim();
  } catch {
    // not fatal: only shown in the report
  }
  return {
    date: new Date().toISOString(),
    cpuModel,
    cores: os.cpus().length,
    ramBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    tmpFs,
  };
}

export const MiB = 1024 * 1024;

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(us < 10 ? 1 : 0)} µs`;
}

export function fmtMs(ms: number): string {
  return fmtUs(ms * 1000);
}

export function fmtBytes(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A deterministic PRNG (mulberry32), so generated data is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
