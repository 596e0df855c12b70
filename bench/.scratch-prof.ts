import { benchFootprint, buildForBench } from './footprint.js';
const build = buildForBench();
const kind = process.argv[2] ?? 'none';
const r = await benchFootprint({ warmupSec: Number(process.argv[3] ?? 60), measuredSec: Number(process.argv[4] ?? 120), build, nodeArgs: ['--cpu-prof', '--cpu-prof-dir=/tmp/np-prof', '--cpu-prof-interval=200'], client: kind === 'dashboard' ? { kind: 'dashboard', chartEveryMs: 30_000 } : { kind: 'none' } });
console.log(JSON.stringify({ cpu: r.cpuPercentSchedstat, cpuStat: r.cpuPercentStat, rss: r.rssBytesEnd / 1048576, pss: (r.pssBytes ?? 0) / 1048576, polls: r.polls, pollUs: r.pollDurationUsMedian, threads: r.threads, heap: r.heapUsedBytes }));
