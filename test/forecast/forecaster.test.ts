import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backtestSeries } from '../../src/forecast/backtest.js';
import { forecastDshw } from '../../src/forecast/dshw.js';
import { clampLimit, forecastHourly, forecastMethod, HistoryTooShortError, MIN_HISTORY_HOURS, type MethodName } from '../../src/forecast/forecaster.js';
import { nelderMead } from '../../src/forecast/nelder-mead.js';
import { forecastRidge } from '../../src/forecast/ridge.js';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gaussian = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const daily = (h: number) => 1e6 * (2 + Math.sin((2 * Math.PI * (h % 24)) / 24) + 0.5 * Math.cos((4 * Math.PI * (h % 24)) / 24));
const weekly = (h: number) => (Math.floor((h % 168) / 24) >= 5 ? 1.6 : 1);
const series = (hours: number, f: (h: number) => number) => Array.from({ length: hours }, (_, h) => f(h));
const maxRelError = (got: readonly number[], want: readonly number[]) => Math.max(...got.map((g, i) => Math.abs(g - want[i]!) / want[i]!));

test('nelderMead finds the minimum of a 3-D quadratic', () => {
  const r = nelderMead((x) => (x[0]! - 1) ** 2 + 2 * (x[1]! + 2) ** 2 + 3 * (x[2]! - 0.5) ** 2, [0, 0, 0], { maxIterations: 500, tolerance: 1e-14 });
  for (const [i, want] of [1, -2, 0.5].entries()) assert.ok(Math.abs(r.x[i]! - want) < 1e-4, `x${i} = ${r.x[i]}`);
});

test('a pure daily cycle is predicted within rounding, by the pick and by each smooth model', () => {
  const values = series(21 * 24, daily);
  const truth = series(21 * 24 + 48, daily).slice(21 * 24);
  const f = forecastHourly(values, { horizonHours: 48, phase: 0 });
  assert.equal(f.point.length, 48);
  assert.ok(maxRelError(f.point, truth) < 1e-9, `pick ${f.method}: ${maxRelError(f.point, truth)}`);
  assert.ok(maxRelError(forecastDshw(values, 48)!.forecast, truth) < 1e-6, 'DSHW');
  // Ridge shrinks its coefficients (λ = 0.01·n), so it is close, not exact.
  assert.ok(maxRelError(forecastRidge(values, 24, 0)!, truth.slice(0, 24)) < 5e-3, 'Ridge24');
  // The past week was forecast without error, so the bands have no width.
  assert.ok(f.high80.every((v, i) => Math.abs(v - f.point[i]!) / f.point[i]! < 1e-6));
});

test('a pure weekly cycle is exact for "same hour last week" and DSHW', () => {
  const f = (h: number) => daily(h) * weekly(h);
  const values = series(28 * 24, f);
  const truth = series(29 * 24, f).slice(28 * 24);
  assert.deepEqual(forecastMethod('sn168', values, values.length, 24, { phase: 0 }), truth);
  assert.ok(maxRelError(forecastDshw(values, 24)!.forecast, truth) < 1e-6);
  const pick = forecastHourly(values, { horizonHours: 24, phase: 0 });
  assert.ok(maxRelError(pick.point, truth) < 1e-3, `${pick.method}`);
  assert.ok(pick.skill.maeRatioVsSn24! < 0.01, 'far better than same hour yesterday on a weekly pattern');
});

test('a constant series is forecast as the constant by every method, with bands of no width', () => {
  const values = series(20 * 24, () => 5000);
  for (const m of ['sn24', 'sn168', 'dshw', 'ridge24', 'combo'] as MethodName[]) {
    const f = forecastMethod(m, values, values.length, 24, { phase: 3 })!;
    assert.ok(f.every((v) => Math.abs(v - 5000) < 0.5), `${m}: ${f[0]}`);
  }
  const f = forecastHourly(values, { horizonHours: 24, phase: 3 });
  assert.deepEqual(f.low95, f.point);
  assert.deepEqual(f.high95, f.point);
});

test('a step change is followed within a day', () => {
  const n = 28 * 24;
  const stepAt = n - 30;
  const f = (h: number) => daily(h) * (h >= stepAt ? 3 : 1);
  const values = series(n, f);
  const truth = series(n + 24, f).slice(n);
  const pick = forecastHourly(values, { horizonHours: 24, phase: 0 });
  const err = maxRelError(pick.point, truth);
  assert.ok(err < 0.1, `${pick.method}: ${err}`);
});

test('fewer than 14 days of history: no forecast', () => {
  assert.throws(() => forecastHourly(series(MIN_HISTORY_HOURS - 1, daily), { horizonHours: 24, phase: 0 }), HistoryTooShortError);
  const f = forecastHourly(series(MIN_HISTORY_HOURS, daily), { horizonHours: 24, phase: 0 });
  assert.equal(f.point.length, 24);
  // With exactly two weeks only the naive methods have a backtest.
  assert.ok(['sn24', 'sn168'].includes(f.method));
});

test('a daily repeat with one giant spike: AutoSelect keeps "same hour yesterday", nothing is NaN or above the clamp', () => {
  const rand = prng(7);
  const values = series(30 * 24, (h) => daily(h) * (1 + 0.001 * rand()));
  values[values.length - 200] = 1000 * values[values.length - 200]!;
  for (let i = 0; i < 50; i++) values[100 + i] = 0;
  const f = forecastHourly(values, { horizonHours: 168, phase: 0 });
  assert.equal(f.method, 'sn24');
  const limit = clampLimit(values);
  for (const arr of [f.point, f.low80, f.high80, f.low95, f.high95]) assert.ok(arr.every((v) => Number.isFinite(v) && v >= 0 && v <= limit * 1.000001 * 100));
  assert.ok(f.point.every((v) => v <= limit));
  for (const m of ['dshw', 'ridge24', 'combo'] as MethodName[]) assert.ok(forecastMethod(m, values, values.length, 168, { phase: 0 })!.every((v) => Number.isFinite(v) && v >= 0 && v <= limit), m);
});

test('on a daily × weekly pattern with log-normal noise AutoSelect beats "same hour yesterday" and the 80 % band covers about 80 %', () => {
  const rand = prng(42);
  const values = series(56 * 24, (h) => daily(h) * weekly(h) * Math.exp(0.1 * gaussian(rand)));
  const r = backtestSeries(values, { phase: 0, minHistoryHours: 14 * 24, methods: ['sn24'] });
  assert.ok(r.origins >= 40);
  assert.ok(r.absError.auto < 0.9 * r.absError.sn24, `auto/sn24 = ${r.absError.auto / r.absError.sn24}`);
  const coverage = r.covered80 / r.points;
  assert.ok(coverage > 0.72 && coverage < 0.88, `80 % band covered ${coverage}`);
});
