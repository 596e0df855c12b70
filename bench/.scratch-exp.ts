import { benchFootprint, buildForBench } from './footprint.js';
const build = buildForBench();
const span = Number(process.argv[2] ?? 150);
const V: [string, any][] = [
  ['baseline', {}],
  ['MALLOC_ARENA_MAX=2', { env: { MALLOC_ARENA_MAX: '2' } }],
  ['--v8-pool-size=1', { nodeArgs: ['--v8-pool-size=1'] }],
  ['static counters', { advance: false }],
  ['no polling (3600 s)', { pollIntervalSec: 3600 }],
  ['--max-semi-space-size=1', { nodeArgs: ['--max-semi-space-size=1'] }],
];
const rs = await Promise.all(V.map(async ([name, o]) => { const r = await benchFootprint({ warmupSec: 60, measuredSec: span, build, sampleEverySec: 1000, pollIntervalSec: 1, ...o }); return [name, r] as const; }));
for (const [name, r] of rs) console.log(name.padEnd(28), 'cpu', r.cpuPercentSchedstat.toFixed(3), '% rss', (r.rssBytesEnd / 1048576).toFixed(1), 'anon', (r.rssAnonBytes / 1048576).toFixed(1), 'file', (r.rssFileBytes / 1048576).toFixed(1), 'pss', ((r.pssBytes ?? 0) / 1048576).toFixed(1), 'heap', ((r.heapUsedBytes ?? 0) / 1048576).toFixed(1), 'threads', r.threads, 'polls', r.polls, 'pollUs', r.pollDurationUsMedian);
