/**
 * Taylor's double-seasonal Holt-Winters (periods 24 and 168) on a log scale, in error-correction form,
 * fitted on multi-step error: the three smoothing parameters minimise the squared 1..24-step-ahead errors
 * from every 3rd in-sample hour. Fitted the textbook way (one-step error) the same model loses to "same hour
 * yesterday" on real traffic (research note §3); the multi-step fit is the detail that matters.
 */
import { logScaleFor } from './log-scale.js';
import { nelderMead } from './nelder-mead.js';

const DAY = 24;
const WEEK = 168;
/** Hours of history the model is fitted on at most (older hours are left out: cost and adaptivity). */
export const DSHW_WINDOW_HOURS = 10 * WEEK;
/** Fewer hours than this: no DSHW (one week to start the states, one to fit them). */
export const DSHW_MIN_HOURS = 2 * WEEK;
const LOSS_HORIZON = 24;
const LOSS_EVERY = 3;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

interface State {
  level: number;
  daily: Float64Array;
  weekly: Float64Array;
}

/** Level = mean of the first two weeks; daily = mean deviation per hour of day; weekly = what is left per hour of week. */
function initialState(z: Float64Array): State {
  const span = Math.min(z.length, 2 * WEEK);
  let sum = 0;
  for (let i = 0; i < span; i++) sum += z[i]!;
  const level = sum / span;
  const daily = new Float64Array(DAY);
  const dailyCount = new Float64Array(DAY);
  for (let i = 0; i < span; i++) {
    daily[i % DAY] = daily[i % DAY]! + z[i]! - level;
    dailyCount[i % DAY] = dailyCount[i % DAY]! + 1;
  }
  for (let h = 0; h < DAY; h++) daily[h] = daily[h]! / dailyCount[h]!;
  const weekly = new Float64Array(WEEK);
  const weeklyCount = new Float64Array(WEEK);
  for (let i = 0; i < span; i++) {
    weekly[i % WEEK] = weekly[i % WEEK]! + z[i]! - level - daily[i % DAY]!;
    weeklyCount[i % WEEK] = weeklyCount[i % WEEK]! + 1;
  }
  for (let h = 0; h < WEEK; h++) weekly[h] = weeklyCount[h]! > 0 ? weekly[h]! / weeklyCount[h]! : 0;
  return { level, daily, weekly };
}

/**
 * Runs the recursions over z with (α, δ, ω). With lossFrom ≥ 0 it returns the multi-step loss; the final
 * state is left in `state` (slots are indexed by t mod 24 and t mod 168).
 */
function run(z: Float64Array, alpha: number, delta: number, omega: number, state: State, lossFrom: number): number {
  const { daily, weekly } = state;
  let level = state.level;
  let loss = 0;
  const n = z.length;
  for (let t = 0; t < n; t++) {
    if (lossFrom >= 0 && t >= lossFrom && t % LOSS_EVERY === 0 && t + LOSS_HORIZON < n) {
      // Forecasts made after seeing z[0..t-1], for t..t+23.
      for (let k = 0; k < LOSS_HORIZON; k++) {
        const e = z[t + k]! - (level + daily[(t + k) % DAY]! + weekly[(t + k) % WEEK]!);
        loss += e * e;
      }
    }
    const d = t % DAY;
    const w = t % WEEK;
    const e = z[t]! - (level + daily[d]! + weekly[w]!);
    level += alpha * e;
    daily[d] = daily[d]! + delta * e;
    weekly[w] = weekly[w]! + omega * e;
  }
  state.level = level;
  return loss;
}

export interface DshwFit {
  alpha: number;
  delta: number;
  omega: number;
}

/** Forecast the next `horizon` hours after `values`, or null with too little history. */
export function forecastDshw(values: ArrayLike<number>, horizon: number): { forecast: number[]; fit: DshwFit } | null {
  if (values.length < DSHW_MIN_HOURS) return null;
  const start = Math.max(0, values.length - DSHW_WINDOW_HOURS);
  const window = Array.from({ length: values.length - start }, (_, i) => values[start + i]!);
  const scale = logScaleFor(window);
  const z = Float64Array.from(window, scale.toLog);
  const init = initialState(z);
  const copy = (): State => ({ level: init.level, daily: Float64Array.from(init.daily), weekly: Float64Array.from(init.weekly) });
  const lossFrom = WEEK;
  const objective = (x: readonly number[]) => run(z, sigmoid(x[0]!), sigmoid(x[1]!), sigmoid(x[2]!), copy(), lossFrom);
  const best = nelderMead(objective, [logit(0.05), logit(0.1), logit(0.1)], { maxIterations: 120, step: 1 });
  const fit = { alpha: sigmoid(best.x[0]!), delta: sigmoid(best.x[1]!), omega: sigmoid(best.x[2]!) };
  const state = copy();
  run(z, fit.alpha, fit.delta, fit.omega, state, -1);
  const n = z.length;
  const forecast: number[] = [];
  for (let k = 0; k < horizon; k++) forecast.push(scale.fromLog(state.level + state.daily[(n + k) % DAY]! + state.weekly[(n + k) % WEEK]!));
  return { forecast, fit };
}
