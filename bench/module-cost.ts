/**
 * What loading each big dependency costs a fresh node process (RSS and JS heap after a full GC), beside a
 * bare node and the whole compiled server module graph loaded but not started: where the server's memory
 * goes before it does any work.
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './footprint.js';
import { log } from './lib/measure.js';

export interface ModuleCost {
  module: string;
  rssBytes: number;
  heapUsedBytes: number;
}

const PROBE = `
const target = process.argv[1];
if (target !== '') await import(target);
await new Promise((r) => setTimeout(r, 300));
globalThis.gc(); globalThis.gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed }));
`;

export function measureModuleCosts(serverEntry: string | null): ModuleCost[] {
  const targets: [string, string][] = [
    ['(bare node)', ''],
    ...['fastify', '@fastify/swagger', '@fastify/swagger-ui', '@fastify/cors', '@fastify/rate-limit', 'pino', 'better-sqlite3', 'typebox', 'pg', 'systeminformation'].map((m): [string, string] => [m, m]),
  ];
  if (serverEntry !== null) targets.push(['the compiled server (every module of `serve`, not started)', pathToFileURL(serverEntry).href]);
  const out: ModuleCost[] = [];
  for (const [label, target] of targets) {
    try {
      const json = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, target], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
      const r = JSON.parse(json) as { rss: number; heapUsed: number };
      out.push({ module: label, rssBytes: r.rss, heapUsedBytes: r.heapUsed });
    } catch (err) {
      log(`module cost: ${label} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return out;
}
