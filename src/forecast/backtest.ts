/**
 * The rolling-origin backtest (research note §2): an origin every 24 h after the minimum history, each
 * forecasting 24 h ahead from all data before it; MAE relative to both naive baselines on the same origins,
 * and how often the truth fell in the 80 % / 95 % bands. Used by `npm run bench:forecast` and a test.
 */
import { forecastHourly, forecastMethod, type MethodName } from './forecaster.js';

const DAY = 24;

export interface BacktestResult {
  origins: number;
  /** Sum of absolute errors per method over every origin's 24 h (AutoSelect as "auto"). */
  absError: Record<MethodName | 'auto', number>;
  /** How often AutoSelect picked each method. */
  picks: Partial<Record<MethodName, number>>;
  covered80: number;
  covered95: number;
  points: number;
  /** Wall time of the AutoSelect forecasts (ms), all origins. */
  fitMs: number;
}

export function backtestSeries(values: readonly number[], opts: { phase: number; minHistoryHours: number; everyHours?: number; methods?: readonly MethodName[]; now?: () => number }): BacktestResult {
  const every = opts.everyHours ?? DAY;
  const now = opts.now ?? (() => performance.now());
  const methods = opts.methods ?? (['sn24', 'sn168', 'dshw', 'ridge24', 'combo'] as const);
  const memo = new Map<string, number[] | null>();
  const absError = Object.fromEntries([...methods, 'auto', 'sn24', 'sn168'].map((m) => [m, 0])) as BacktestResult['absError'];
  const picks: BacktestResult['picks'] = {};
  let origins = 0;
  let covered80 = 0;
  let covered95 = 0;
  let points = 0;
  let fitMs = 0;
  for (let o = opts.minHistoryHours; o + DAY <= values.length; o += every) {
    const history = values.slice(0, o);
    const started = now();
    const f = forecastHourly(history, { horizonHours: DAY, phase: opts.phase, memo, minHistoryHours: opts.minHistoryHours });
    fitMs += now() - started;
    picks[f.method] = (picks[f.method] ?? 0) + 1;
    for (let k = 0; k < DAY; k++) {
      const y = values[o + k]!;
      absError.auto += Math.abs(y - f.point[k]!);
      if (y >= f.low80[k]! && y <= f.high80[k]!) covered80++;
      if (y >= f.low95[k]! && y <= f.high95[k]!) covered95++;
      points++;
    }
    for (const m of new Set<MethodName>([...methods, 'sn24', 'sn168'])) {
      const fm = forecastMethod(m, values, o, DAY, { phase: opts.phase, memo });
      if (fm === null) {
        absError[m] = NaN;
        continue;
      }
      for (let k = 0; k < DAY; k++) absError[m] += Math.abs(values[o + k]! - fm[k]!);
    }
    origins++;
  }
  return { origins, absError, picks, covered80, covered95, points, fitMs };
}
