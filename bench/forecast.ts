/**
 * `npm run bench:forecast` (issue #11): the rolling-origin backtest of the forecaster on every real series in
 * ../shared/data/netpulse-forecast/ (read at run time, never copied into the repo), the month-end scenarios
 * against vnStat's linear estimate, and the cost of one fit. Writes its section of docs/benchmarks.md between
 * <!-- forecast-bench --> and <!-- /forecast-bench --> (bench/run.ts keeps it).
 *
 * Protocol (research note §2): an origin every 24 h after 14 days of history (9 days for the two-week EC2
 * series), each forecasting 24 h ahead from all data before it; MAE ÷ the MAE of "same hour yesterday" (SN24)
 * and of "same hour last week" (SN168) on the same origins; how often the truth fell in the 80 % / 95 % bands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FORECAST_DATA_DIR, loadForecastSeries, type RealSeries } from './lib/forecast-data.js';
import { describeMachine, loadAverage } from './lib/measure.js';
import { backtestSeries, type BacktestResult } from '../src/forecast/backtest.js';
import { forecastHourly } from '../src/forecast/forecaster.js';
import { projectCycle, SCENARIOS, type ScenarioName } from '../src/forecast/month-end.js';

const AIM_GM = 0.85;
const CHECK_DAYS = [5, 10, 20] as const;
const CYCLE_DAYS = 30;

const gm = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  series: RealSeries;
  r: BacktestResult;
  ratio: (m: keyof BacktestResult['absError']) => number;
}

function monthEnd(cells: readonly RealSeries[]) {
  type Key = ScenarioName | 'linear';
  const errors = new Map<string, number[]>();
  let cycles = 0;
  for (const cell of cells) {
    const days: number[] = [];
    for (let i = 0; i + 24 <= cell.values.length; i += 24) days.push(cell.values.slice(i, i + 24).reduce((a, b) => a + b, 0));
    const firstDay = Math.round(cell.startSec / 86_400);
    for (let s = 14; s + CYCLE_DAYS <= days.length; s++) {
      cycles++;
      const truth = days.slice(s, s + CYCLE_DAYS).reduce((a, b) => a + b, 0);
      for (const d of CHECK_DAYS) {
        const p = projectCycle({ completeDays: days.slice(0, s + d), firstDayNumber: firstDay, todayBytes: 0, todayFraction: 0, cycleStartDay: firstDay + s, cycleEndDay: firstDay + s + CYCLE_DAYS });
        const put = (k: Key, v: number | null) => {
          if (v === null) return;
          const key = `${k}@${d}`;
          errors.set(key, [...(errors.get(key) ?? []), Math.abs(v - truth) / truth]);
        };
        put('linear', p.linearBytes);
        for (const sc of p.scenarios) put(sc.name, sc.projectedBytes);
      }
    }
  }
  const mean = (k: Key, d: number) => {
    const xs = errors.get(`${k}@${d}`) ?? [];
    return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return { cycles, mean };
}

function fitCost(series: RealSeries) {
  // Wall time and this thread's CPU time (on a loaded machine wall time includes waiting for a core).
  const time = (values: number[], runs: number) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c = process.cpuUsage();
      const t = performance.now();
      forecastHourly(values, { horizonHours: 168, phase: 0 });
      wall.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
    }
    return `${median(wall).toFixed(0)} ms wall / ${median(cpu).toFixed(0)} ms CPU`;
  };
  // A synthetic year: daily × weekly pattern with noise (the models cap their window, so cost stops growing).
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const year = Array.from({ length: 365 * 24 }, (_, h) => 1e6 * (2 + Math.sin((2 * Math.PI * (h % 24)) / 24)) * ((h % 168) >= 120 ? 1.5 : 1) * (0.8 + 0.4 * rand()));
  return { days: Math.round(series.values.length / 24), realMs: time(series.values, 5), yearMs: time(year, 3) };
}

function main(): void {
  const all = loadForecastSeries();
  if (all === null) {
    console.error(`no data at ${FORECAST_DATA_DIR}: the shared folder must sit beside the clone (../shared), or set NETPULSE_FORECAST_DATA`);
    process.exit(1);
  }
  const machine = describeMachine();
  const load = loadAverage();
  const started = performance.now();
  const rows: Row[] = [];
  for (const s of all) {
    const r = backtestSeries(s.values, { phase: s.phase, minHistoryHours: s.kind === 'ec2' ? 9 * 24 : 14 * 24 });
    const ratio = (m: keyof BacktestResult['absError']) => r.absError[m] / r.absError.sn24;
    rows.push({ series: s, r, ratio });
    console.log(`${s.name}: ${r.origins} origins, auto/SN24 ${f3(ratio('auto'))}, auto/SN168 ${f3(r.absError.auto / r.absError.sn168)}, 80 % band ${pct(r.covered80 / r.points)}`);
  }
  const milan = rows.filter((x) => x.series.kind === 'milan');
  const gmAuto = gm(milan.map((x) => x.ratio('auto')));
  const gmAuto168 = gm(milan.map((x) => x.r.absError.auto / x.r.absError.sn168));
  const worst = Math.max(...rows.map((x) => x.ratio('auto')));
  const worst168 = Math.max(...rows.map((x) => x.r.absError.auto / x.r.absError.sn168));
  const cov80 = rows.reduce((a, x) => a + x.r.covered80, 0) / rows.reduce((a, x) => a + x.r.points, 0);
  const cov95 = rows.reduce((a, x) => a + x.r.covered95, 0) / rows.reduce((a, x) => a + x.r.points, 0);
  const milanCov80 = milan.reduce((a, x) => a + x.r.covered80, 0) / milan.reduce((a, x) => a + x.r.points, 0);
  const month = monthEnd(milan.map((x) => x.series));
  const cost = fitCost(milan[0]!.series);
  const seconds = (performance.now() - started) / 1000;

  const L: string[] = [];
  L.push(`Run ${machine.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node.slice(1)}; load before: ${load}; ${seconds.toFixed(0)} s in all.`);
  L.push(`Data: every series in \`../shared/data/netpulse-forecast/\` (12 Milan CDR cells, ODbL; 2 NAB EC2 hosts, MIT; hourly). Protocol: an origin every 24 h after 14 days of history (9 days for the two-week EC2 series), 24 h ahead, expanding window; MAE ÷ the MAE of SN24 ("same hour yesterday") and of SN168 ("same hour last week") on the same origins. **auto** is what the API serves: the best of SN24, SN168, DSHW-ms and the combo on the series' own last 7 days.`);
  L.push('');
  L.push('| series | origins | auto ÷ SN24 | auto ÷ SN168 | SN168 ÷ SN24 | DSHW-ms ÷ SN24 | Ridge24 ÷ SN24 | combo ÷ SN24 | 80 % band covered | 95 % band covered | picks |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of rows) {
    const picks = Object.entries(x.r.picks).map(([m, n]) => `${m} ${n}`).join(', ');
    L.push(`| ${x.series.name} | ${x.r.origins} | ${f3(x.ratio('auto'))} | ${f3(x.r.absError.auto / x.r.absError.sn168)} | ${f3(x.ratio('sn168'))} | ${f3(x.ratio('dshw'))} | ${f3(x.ratio('ridge24'))} | ${f3(x.ratio('combo'))} | ${pct(x.r.covered80 / x.r.points)} | ${pct(x.r.covered95 / x.r.points)} | ${picks} |`);
  }
  L.push(`| **Milan, geometric mean** | ${milan.reduce((a, x) => a + x.r.origins, 0)} | **${f3(gmAuto)}** | ${f3(gmAuto168)} | ${f3(gm(milan.map((x) => x.ratio('sn168'))))} | ${f3(gm(milan.map((x) => x.ratio('dshw'))))} | ${f3(gm(milan.map((x) => x.ratio('ridge24'))))} | ${f3(gm(milan.map((x) => x.ratio('combo'))))} | ${pct(milanCov80)} | | |`);
  L.push('');
  L.push('DSHW, Ridge24 and the combo need 14 days before an origin, so on the EC2 series (9-day origins, two weeks of data) they have no column and AutoSelect chooses between the two naive forecasts.');
  L.push('');
  const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
  L.push('Aims of the issue:');
  L.push(`- geometric mean of auto ÷ SN24 over the Milan cells ≤ ${AIM_GM}: **${f3(gmAuto)}** (${mark(gmAuto <= AIM_GM)}); ÷ SN168: ${f3(gmAuto168)}.`);
  L.push(`- no series worse than 1.0: worst auto ÷ SN24 ${f3(worst)} (${mark(worst <= 1)}), worst auto ÷ SN168 ${f3(worst168)} (${mark(worst168 <= 1)}).`);
  L.push(`- 80 % band covers 75–85 %: ${pct(cov80)} over all ${rows.reduce((a, x) => a + x.r.points, 0)} forecast hours (${mark(cov80 >= 0.75 && cov80 <= 0.85)}); Milan alone ${pct(milanCov80)}. The 95 % band: ${pct(cov95)}.`);
  L.push('');
  L.push(`Month-end, Milan cells: ${month.cycles} thirty-day cycles (one starting on every day with ≥ 14 days before it), projected after day 5, 10 and 20 from the complete days so far; mean absolute error of the cycle total. The EC2 series are too short for a cycle.`);
  L.push('');
  L.push('| projection | day 5 | day 10 | day 20 |');
  L.push('|---|---|---|---|');
  L.push(`| vnStat's linear estimate (so far ÷ days × 30) | ${CHECK_DAYS.map((d) => pct(month.mean('linear', d))).join(' | ')} |`);
  for (const name of SCENARIOS) L.push(`| ${name.replace(/_/g, ' ')} | ${CHECK_DAYS.map((d) => pct(month.mean(name, d))).join(' | ')} |`);
  L.push('');
  L.push("\"busy week\" is meant as the upper scenario, not a point estimate: its error says how far above the outcome it sits. The scenarios are not a confidence interval (research note §5: none could be calibrated on two months).");
  L.push('');
  L.push(`Cost of one fit (AutoSelect's 7-day self-backtest of 4 candidates, the bands' 14 days, and the 168 h forecast; one direction, one thread, median): ${cost.realMs} on ${cost.days} days of history, ${cost.yearMs} on a synthetic year (the models fit at most the last 8–10 weeks). The API fits rx and tx in a worker thread once per clock hour and scope, so a request waits for it at most once an hour.`);
  writeSection(L.join('\n'));
}

function writeSection(section: string): void {
  const file = path.resolve(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  const block = `<!-- forecast-bench -->\n## Forecast: backtest on real series (issue #11)\n\n${section}\n<!-- /forecast-bench -->`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- forecast-bench -->[\s\S]*?<!-- \/forecast-bench -->/;
  fs.writeFileSync(file, re.test(current) ? current.replace(re, block) : `${current.trimEnd()}\n\n${block}\n`);
  console.log(`wrote the forecast section of ${path.relative(process.cwd(), file)}`);
}

main();
