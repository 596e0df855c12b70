import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadForecastSeries } from '../../bench/lib/forecast-data.js';
import { backtestSeries } from '../../src/forecast/backtest.js';

// The shipped real series sit beside the clone (../shared/data/netpulse-forecast); skip without them.
const all = loadForecastSeries();

test('on a real Milan cell AutoSelect beats both naive forecasts over a small backtest', { skip: all === null ? 'no ../shared/data/netpulse-forecast beside the clone' : false }, () => {
  const cell = all!.find((s) => s.kind === 'milan')!;
  // An origin every 3 days keeps it short; the benchmark runs every day on every series.
  const r = backtestSeries(cell.values, { phase: cell.phase, minHistoryHours: 14 * 24, everyHours: 72, methods: ['sn24'] });
  assert.ok(r.origins >= 10);
  assert.ok(r.absError.auto < 0.95 * r.absError.sn24, `auto/SN24 ${r.absError.auto / r.absError.sn24}`);
  assert.ok(r.absError.auto < 0.95 * r.absError.sn168, `auto/SN168 ${r.absError.auto / r.absError.sn168}`);
});

test('on the spiky EC2 host AutoSelect is never worse than "same hour yesterday"', { skip: all === null ? 'no ../shared/data/netpulse-forecast beside the clone' : false }, () => {
  for (const s of all!.filter((x) => x.kind === 'ec2')) {
    const r = backtestSeries(s.values, { phase: s.phase, minHistoryHours: 9 * 24, methods: ['sn24'] });
    assert.ok(r.absError.auto <= r.absError.sn24 * 1.0000001, `${s.name}: ${r.absError.auto / r.absError.sn24}`);
  }
});
