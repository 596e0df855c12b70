/**
 * `npm run bench:dashboard` (issue #3's budget): time from navigation to data on screen in Debian's Chromium,
 * against the real server on a generated year of 24 interfaces (bench/year-db.ts), for the dashboard's
 * default view and for a one-year window. Writes its section of docs/benchmarks.md between
 * <!-- dashboard-bench --> and <!-- /dashboard-bench --> (bench/run.ts keeps it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../src/server.js';
import { ensureFrontendBuilt, CHROMIUM_PATH } from '../test/helpers/browser.js';
import { makeAdvancingTree } from './lib/fixture24.js';
import { distribution, fmtMs, loadAverage } from './lib/measure.js';
import { generateYearDb } from './year-db.js';

const LOADS = 15;
const BUDGET_MS = 1000;

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  ensureFrontendBuilt();
  const year = generateYearDb({ rawHours: 2 });
  const fx = makeAdvancingTree(7);
  const server = await startServer({
    env: {
      NETPULSE_DB_PATH: year.dbPath,
      NETPULSE_PORT: '0',
      NETPULSE_POLL_INTERVAL: '3600',
      NETPULSE_PROC_ROOT: fx.tree.procRoot,
      NETPULSE_SYS_ROOT: fx.tree.sysRoot,
      NETPULSE_TZ: 'UTC',
      NETPULSE_LOG_LEVEL: 'warn',
    },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  const rows: string[] = [];
  try {
    for (const view of [
      { label: 'default view (24 h, 5-minute grouping), primary interface', windowHours: null },
      { label: 'one-year window (the grouping the slider offers), primary interface', windowHours: 8760 },
    ]) {
      const times: number[] = [];
      for (let i = 0; i < LOADS + 1; i++) {
        // A fresh context each time: no cache, no stored preferences.
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
        const page = await context.newPage();
        const started = Date.now();
        await page.goto(server.url + '/');
        if (view.windowHours !== null) {
          // Drag the Time Window slider to its end (1 year) with the keyboard, as a person would.
          const slider = page.getByRole('slider', { name: /time window/i });
          await slider.focus();
          await slider.press('End');
        }
        const begin = view.windowHours !== null ? Date.now() : started;
        // Runs in the page (this file is compiled without the DOM library, hence the narrow cast).
        await page.waitForFunction(
          (wantYear: boolean) => {
            type El = { getAttribute(name: string): string | null };
            const doc = (globalThis as unknown as { document: { querySelector(selector: string): El | null } }).document;
            const chart = doc.querySelector('[data-testid="chart"]');
            if (chart === null || chart.getAttribute('data-state') !== 'ready' || chart.getAttribute('data-loading') === 'true') return false;
            if (Number(chart.getAttribute('data-points') ?? 0) === 0) return false;
            return !wantYear || (chart.getAttribute('data-request') ?? '').includes('time_window_hours=8760');
          },
          view.windowHours !== null,
          { timeout: 15_000, polling: 'raf' },
        );
        if (i > 0) times.push(Date.now() - begin); // the first load warms the server's caches
        await context.close();
      }
      const d = distribution(times);
      rows.push(`| ${view.label} | ${LOADS} | ${fmtMs(d.p50)} | ${fmtMs(d.p95)} | ${fmtMs(d.max)} | ${d.p95 <= BUDGET_MS ? 'yes' : '**no**'} |`);
    }
  } finally {
    await browser.close();
    await server.close();
    year.cleanup();
    fx.cleanup();
  }
  const assets = path.join(import.meta.dirname, '..', 'frontend', 'dist', 'assets');
  const section = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0]?.model.trim() ?? 'this machine'}, ${os.cpus().length} cores, load average ${loadAverage()}. Debian Chromium (headless) on the same machine as the server; the server on a generated year of 24 interfaces (bench/year-db.ts). Default view: from the start of navigation; one-year window: from pressing End on the Time Window slider. "On screen" is the chart's data-state turning ready with data drawn.`,
    '',
    '| view | loads | p50 | p95 | max | p95 ≤ 1 s |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Initial JS is in the bundle table above (${fs.existsSync(assets) ? 'frontend/dist/assets' : 'not built'}).`,
  ].join('\n');
  console.log(section);
  const file = path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  const block = `<!-- dashboard-bench -->\n## Dashboard: time to data on screen\n\n${section}\n<!-- /dashboard-bench -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- dashboard-bench -->[\s\S]*?<!-- \/dashboard-bench -->/;
  fs.writeFileSync(file, re.test(current) ? current.replace(re, block) : `${current.trimEnd()}\n\n${block}\n`);
}

await main();
