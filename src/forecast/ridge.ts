/**
 * Ridge24: a direct ridge regression per horizon h = 1..24 on log(y + c). Target: z[t+h] minus the mean of the
 * last 24 hours; features: the last 24 hours (centred the same way), the same hour one week before the
 * target and the mean of it 1–3 weeks before, and one-hots of the target's hour of day and day of week.
 * λ = 0.01·n on standardised features, intercept unpenalised, solved by Cholesky. Beyond 24 h the 24 models
 * are applied again on their own forecasts.
 */
import { logScaleFor } from './log-scale.js';

const DAY = 24;
const WEEK = 168;
/** Training rows at most (the last 8 weeks): the cost grows with it and older weeks help little. */
export const RIDGE_WINDOW_HOURS = 8 * WEEK;
export const RIDGE_MIN_HOURS = 2 * WEEK;
const LAGS = 24;
const DENSE = LAGS + 2;
const P = DENSE + DAY + 7;
const LAMBDA = 0.01;

interface Model {
  intercept: number;
  beta: Float64Array;
}

/** Dense features of origin t for horizon h into `out`; returns the 24-hour mean m they are centred on. */
function denseFeatures(z: ArrayLike<number>, t: number, h: number, out: Float64Array): number {
  let m = 0;
  for (let i = 0; i < LAGS; i++) m += z[t - i]!;
  m /= LAGS;
  for (let i = 0; i < LAGS; i++) out[i] = z[t - i]! - m;
  const target = t + h;
  out[LAGS] = z[target - WEEK]! - m;
  let sum = 0;
  let count = 0;
  for (let k = 1; k <= 3 && target - k * WEEK >= 0; k++) {
    sum += z[target - k * WEEK]!;
    count++;
  }
  out[LAGS + 1] = sum / count - m;
  return m;
}

const hourOfDayColumn = (phase: number, index: number) => DENSE + ((phase + index) % DAY);
const dayOfWeekColumn = (phase: number, index: number) => DENSE + DAY + Math.floor(((phase + index) % WEEK) / DAY);

/** Solves A x = b for symmetric positive definite A (p × p, row-major) in place of b. */
function choleskySolve(a: Float64Array, b: Float64Array, p: number): void {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      l[i * p + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / l[j * p + j]!;
    }
  }
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * b[k]!;
    b[i] = s / l[i * p + i]!;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * b[k]!;
    b[i] = s / l[i * p + i]!;
  }
}

function fitHorizon(z: Float64Array, h: number, phase: number): Model {
  const n = z.length;
  const from = Math.max(WEEK, n - RIDGE_WINDOW_HOURS);
  const gram = new Float64Array(P * P);
  const sums = new Float64Array(P);
  const xy = new Float64Array(P);
  let sumY = 0;
  let rows = 0;
  const x = new Float64Array(DENSE);
  for (let t = from; t + h < n; t++) {
    const m = denseFeatures(z, t, h, x);
    const y = z[t + h]! - m;
    const a = hourOfDayColumn(phase, t + h);
    const b = dayOfWeekColumn(phase, t + h);
    for (let i = 0; i < DENSE; i++) {
      const xi = x[i]!;
      const row = i * P;
      for (let j = i; j < DENSE; j++) gram[row + j] = gram[row + j]! + xi * x[j]!;
      gram[row + a] = gram[row + a]! + xi;
      gram[row + b] = gram[row + b]! + xi;
      sums[i] = sums[i]! + xi;
      xy[i] = xy[i]! + xi * y;
    }
    gram[a * P + a] = gram[a * P + a]! + 1;
    gram[b * P + b] = gram[b * P + b]! + 1;
    gram[a * P + b] = gram[a * P + b]! + 1;
    sums[a] = sums[a]! + 1;
    sums[b] = sums[b]! + 1;
    xy[a] = xy[a]! + y;
    xy[b] = xy[b]! + y;
    sumY += y;
    rows++;
  }
  // Centre (the intercept is then ȳ − βᵀμ and stays unpenalised) and standardise.
  const mean = sums.map((s) => s / rows);
  const meanY = sumY / rows;
  const sd = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const v = gram[i * P + i]! / rows - mean[i]! * mean[i]!;
    sd[i] = v > 1e-12 ? Math.sqrt(v) : 0;
  }
  const a = new Float64Array(P * P);
  const rhs = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    for (let j = i; j < P; j++) {
      const g = i <= j ? gram[i * P + j]! : gram[j * P + i]!;
      const c = sd[i] === 0 || sd[j] === 0 ? 0 : (g - rows * mean[i]! * mean[j]!) / (sd[i]! * sd[j]!);
      a[i * P + j] = c;
      a[j * P + i] = c;
    }
    a[i * P + i] = a[i * P + i]! + LAMBDA * rows;
    rhs[i] = sd[i] === 0 ? 0 : (xy[i]! - rows * mean[i]! * meanY) / sd[i]!;
  }
  choleskySolve(a, rhs, P);
  const beta = new Float64Array(P);
  let intercept = meanY;
  for (let i = 0; i < P; i++) {
    beta[i] = sd[i] === 0 ? 0 : rhs[i]! / sd[i]!;
    intercept -= beta[i]! * mean[i]!;
  }
  return { intercept, beta };
}

/**
 * Forecast the next `horizon` hours after `values`; phase is the hour of the week (0 = Monday 00:00) of
 * values[0]. null with too little history.
 */
export function forecastRidge(values: ArrayLike<number>, horizon: number, phase: number): number[] | null {
  if (values.length < RIDGE_MIN_HOURS) return null;
  // Only the training window and the 3 weeks of lags before it are needed.
  const start = Math.max(0, values.length - RIDGE_WINDOW_HOURS - 3 * WEEK);
  const slice = Array.from({ length: values.length - start }, (_, i) => values[start + i]!);
  const localPhase = (phase + start) % WEEK;
  const scale = logScaleFor(slice);
  const z = Float64Array.from(slice, scale.toLog);
  const models = Array.from({ length: DAY }, (_, i) => fitHorizon(z, i + 1, localPhase));
  const extended = Array.from(z);
  const x = new Float64Array(DENSE);
  const out: number[] = [];
  while (out.length < horizon) {
    const t = extended.length - 1;
    const block: number[] = [];
    for (let h = 1; h <= DAY; h++) {
      const { intercept, beta } = models[h - 1]!;
      const m = denseFeatures(extended, t, h, x);
      let y = intercept + beta[hourOfDayColumn(localPhase, t + h)]! + beta[dayOfWeekColumn(localPhase, t + h)]!;
      for (let i = 0; i < DENSE; i++) y += beta[i]! * x[i]!;
      block.push(m + y);
    }
    extended.push(...block);
    for (const zh of block) if (out.length < horizon) out.push(scale.fromLog(zh));
  }
  return out;
}
