import { spawn } from 'node:child_process'; import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeAdvancingTree } from './lib/fixture24.js';
import { openDatabase } from '../src/storage/db.js';
import { CONFIG_KEYS, createConfigRepo } from '../src/storage/config-repo.js';
const flags = process.argv.slice(3);
const total = Number(process.argv[2] ?? 300);
const fx = makeAdvancingTree(5);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-gc-'));
const seed = openDatabase(path.join(dir, 'n.db')); createConfigRepo(seed).set(CONFIG_KEYS.monitoredInterfaces, [...fx.names]); seed.close();
const out = fs.openSync(path.join(dir, 'out'), 'w');
const child = spawn(process.execPath, ['--trace-gc', ...flags, 'bench/.build/dist/cli/main.js', 'serve'], { stdio: ['ignore', out, out], env: { PATH: process.env.PATH, NETPULSE_DB_PATH: path.join(dir, 'n.db'), NETPULSE_PORT: '0', NETPULSE_HOST: '127.0.0.1', NETPULSE_POLL_INTERVAL: '1', NETPULSE_PROC_ROOT: fx.tree.procRoot, NETPULSE_SYS_ROOT: fx.tree.sysRoot, NETPULSE_TZ: 'UTC', NETPULSE_LOG_LEVEL: 'warn' } });
const ticks = () => { const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(x[11]) + Number(x[12]); };
const t0 = Date.now(); const marks: [number, number][] = [];
while (Date.now() - t0 < total * 1000) { await sleep(1500 - (Date.now() % 1000)); fx.advance(1); const s = Math.round((Date.now() - t0) / 1000); if (s % 60 < 1.2) marks.push([s, ticks()]); }
const text = fs.readFileSync(path.join(dir, 'out'), 'utf8');
child.kill('SIGTERM'); await sleep(2000);
// per minute: GC events, their summed pause, CPU ticks
const lines = text.split('\n').filter((l) => /Scavenge|Mark-Compact|Mark-sweep/i.test(l));
const byMin = new Map<number, { n: number; ms: number; kinds: Set<string> }>();
for (const l of lines) { const m = /\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (\S+(?: \([^)]*\))?)[^,]*, ([\d.]+) \/ ([\d.]+) ms/.exec(l); if (!m) continue; const min = Math.floor(Number(m[1]) / 60000); const e = byMin.get(min) ?? { n: 0, ms: 0, kinds: new Set() }; e.n++; e.ms += Number(m[3]); e.kinds.add(m[2]!); byMin.set(min, e); }
for (const [min, e] of [...byMin].sort((a, b) => a[0] - b[0])) console.log('minute', min, 'GCs', e.n, 'pause ms', e.ms.toFixed(1), [...e.kinds].join(','));
for (let i = 1; i < marks.length; i++) console.log('cpu % in minute ending', marks[i]![0], (((marks[i]![1] - marks[i - 1]![1]) / 100) / (marks[i]![0] - marks[i - 1]![0]) * 100).toFixed(3));
console.log(lines.slice(-6).join('\n'));
fx.cleanup(); fs.rmSync(dir, { recursive: true });
