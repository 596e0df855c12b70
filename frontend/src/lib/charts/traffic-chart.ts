/**
 * The traffic line chart. Chart.js is tree-shaken to a line chart on two linear axes (x in ms since the
 * epoch, labelled through Intl — no date adapter); colours come from the page's theme. Rates are drawn
 * in one unit chosen from the window's maximum, so the y ticks land on round numbers in that unit.
 */
import {
  Chart,
  Filler,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Scale,
  type TooltipItem,
} from 'chart.js';
import type { ForecastRatePoint } from '../format/forecast';
import { buildTimeTicks, formatBucketSpan } from '../format/time';
import { formatBytes, formatExact, formatExactRate, formatRate, pickRateScale, type UnitPrefs } from '../format/units';
import type { TrafficGap } from '../api/gaps';
import { applyChartTheme, baseChartOptions, plainAxis, tooltipBox, valueAxis, type ChartColors } from './chart-theme';
import { gapMarksPlugin, gapRanges, type GapRange } from './gap-marks';
import { isolatedPoints, maxRate, type RatePoint, type TrafficSeries } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Filler);

export interface TrafficChartView {
  series: TrafficSeries;
  units: UnitPrefs;
  colors: ChartColors;
  /** The next hours after the window (dashed, with the 80 % band); empty: none. */
  forecast?: readonly ForecastRatePoint[];
  /** Intervals that could not be counted (GET /api/traffic/gaps): shaded; empty: none. */
  gaps?: readonly TrafficGap[];
}

/** Gap marks: a translucent red, visible on both themes under the lines. */
const GAP_COLOR = 'rgba(220, 60, 60, 0.16)';

/** Dataset indexes: the measured lines, the two bands (low, high filled to low), the dashed forecasts. */
const RX = 0;
const TX = 1;
const BANDS = [2, 3, 4, 5];
const RX_FORECAST = 6;
const TX_FORECAST = 7;

interface XY {
  x: number;
  y: number | null;
}

export interface TrafficChart {
  update(view: TrafficChartView): void;
  destroy(): void;
}

export function createTrafficChart(canvas: HTMLCanvasElement, initial: TrafficChartView): TrafficChart {
  let view = initial;
  let points: RatePoint[] = [];
  let isolated: boolean[][] = [[], []];
  let tickLabels = new Map<number, string>();
  let gaps: GapRange[] = [];

  const dataset = (index: 0 | 1, label: string): ChartDataset<'line', XY[]> => ({
    label,
    data: [],
    parsing: false,
    normalized: true,
    spanGaps: false,
    borderWidth: 1.75,
    tension: 0.2,
    fill: 'origin',
    pointRadius: (ctx) => (isolated[index]?.[ctx.dataIndex] ? 2.5 : 0),
    pointHoverRadius: 4,
    pointHitRadius: 6,
  });

  let forecast: readonly ForecastRatePoint[] = [];
  const band = (label: string, fill: false | '-1'): ChartDataset<'line', XY[]> => ({
    label,
    data: [],
    parsing: false,
    normalized: true,
    borderWidth: 0,
    pointRadius: 0,
    pointHitRadius: 0,
    tension: 0.2,
    fill,
  });
  const dashed = (label: string): ChartDataset<'line', XY[]> => ({
    label,
    data: [],
    parsing: false,
    normalized: true,
    borderWidth: 1.75,
    borderDash: [6, 4],
    tension: 0.2,
    fill: false,
    pointRadius: 0,
    pointHoverRadius: 4,
    pointHitRadius: 6,
  });

  const chart = new Chart<'line', XY[]>(canvas, {
    type: 'line',
    plugins: [gapMarksPlugin(() => gaps, GAP_COLOR)],
    data: {
      datasets: [
        dataset(0, 'Download'),
        dataset(1, 'Upload'),
        band('Download band low', false),
        band('Download band', '-1'),
        band('Upload band low', false),
        band('Upload band', '-1'),
        dashed('Download forecast'),
        dashed('Upload forecast'),
      ],
    },
    options: {
      ...baseChartOptions,
      scales: {
        x: {
          type: 'linear',
          ...plainAxis,
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            callback: (value) => tickLabels.get(Number(value)) ?? '',
          },
          afterBuildTicks: (axis: Scale) => {
            const width = axis.width || 600;
            const maxTicks = Math.max(3, Math.floor(width / (width < 500 ? 56 : 90)));
            const ticks = buildTimeTicks(axis.min, axis.max, maxTicks);
            tickLabels = new Map(ticks.map((t) => [t.valueMs, t.label]));
            axis.ticks = ticks.map((t) => ({ value: t.valueMs }));
          },
        },
        y: valueAxis(),
      },
      plugins: {
        tooltip: {
          ...tooltipBox,
          // Measured lines over the window, dashed forecasts after it; the bands are said in the label.
          filter: (item: TooltipItem<'line'>) =>
            !BANDS.includes(item.datasetIndex) && (item.datasetIndex >= RX_FORECAST) === (item.dataIndex >= points.length),
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => {
              const index = items[0]?.dataIndex ?? -1;
              const ahead = forecast[index - points.length];
              if (ahead) return `Forecast · ${formatBucketSpan(ahead.startMs, 3600)}`;
              const point = points[index];
              return point ? formatBucketSpan(point.startMs, view.series.bucketSeconds) : '';
            },
            label: (item: TooltipItem<'line'>) => {
              if (item.datasetIndex >= RX_FORECAST) {
                const ahead = forecast[item.dataIndex - points.length];
                if (!ahead) return '';
                const [mid, low, high] = item.datasetIndex === RX_FORECAST ? [ahead.rx, ahead.rxLow, ahead.rxHigh] : [ahead.tx, ahead.txLow, ahead.txHigh];
                return `${item.dataset.label}: ${formatRate(mid, view.units)} (80 % of past forecasts: ${formatRate(low, view.units)} – ${formatRate(high, view.units)})`;
              }
              const point = points[item.dataIndex];
              const rate = item.datasetIndex === 0 ? point?.rxBytesPerSec : point?.txBytesPerSec;
              if (rate === null || rate === undefined) return `${item.dataset.label}: no data`;
              return `${item.dataset.label}: ${formatRate(rate, view.units)}`;
            },
            afterLabel: (item: TooltipItem<'line'>) => {
              if (item.datasetIndex >= RX_FORECAST) return '';
              const point = points[item.dataIndex];
              const rate = item.datasetIndex === 0 ? point?.rxBytesPerSec : point?.txBytesPerSec;
              const bytes = item.datasetIndex === 0 ? point?.rxBytes : point?.txBytes;
              if (rate === null || rate === undefined || bytes === null || bytes === undefined) return '';
              return `  ${formatExactRate(rate, view.units)} · ${formatExact(bytes)} bytes (${formatBytes(bytes, view.units.prefixSystem)})`;
            },
          },
        },
      },
    },
  });

  function apply(next: TrafficChartView): void {
    view = next;
    const { series, units, colors } = next;
    points = series.points;
    // Only forecast hours after the measured window are drawn.
    forecast = (next.forecast ?? []).filter((f) => f.startMs + 3_600_000 > series.endMs);
    const forecastMax = forecast.reduce((m, f) => Math.max(m, f.rxHigh, f.txHigh), 0);
    const scale = pickRateScale(Math.max(maxRate(series), forecastMax), units);
    const y = (v: number | null) => (v === null ? null : v / scale.divisor);
    // One x grid for every dataset (the window's buckets, then the forecast hours), so a tooltip's index
    // means the same time in each; a dataset is null where it has nothing.
    const pastNull: XY[] = points.map((p) => ({ x: p.startMs, y: null }));
    // x must ascend: the current hour's forecast is drawn from the window's last bucket on.
    const lastX = points[points.length - 1]?.startMs ?? -Infinity;
    const aheadX = forecast.map((f) => Math.max(f.startMs, lastX + 1));
    const aheadNull: XY[] = aheadX.map((x) => ({ x, y: null }));
    const rx: XY[] = points.map((p) => ({ x: p.startMs, y: y(p.rxBytesPerSec) }));
    const tx: XY[] = points.map((p) => ({ x: p.startMs, y: y(p.txBytesPerSec) }));
    isolated = [isolatedPoints(rx.map((p) => p.y)), isolatedPoints(tx.map((p) => p.y))];
    const ahead = (pick: (f: ForecastRatePoint) => number): XY[] => [...pastNull, ...forecast.map((f, i) => ({ x: aheadX[i]!, y: y(pick(f)) }))];

    const sets = chart.data.datasets;
    const data: XY[][] = [
      [...rx, ...aheadNull],
      [...tx, ...aheadNull],
      ahead((f) => f.rxLow),
      ahead((f) => f.rxHigh),
      ahead((f) => f.txLow),
      ahead((f) => f.txHigh),
      ahead((f) => f.rx),
      ahead((f) => f.tx),
    ];
    sets.forEach((set, i) => (set.data = data[i] ?? []));
    Object.assign(sets[RX]!, { borderColor: colors.rx, backgroundColor: colors.rxFill, pointBackgroundColor: colors.rx });
    Object.assign(sets[TX]!, { borderColor: colors.tx, backgroundColor: colors.txFill, pointBackgroundColor: colors.tx });
    for (const i of [2, 3]) Object.assign(sets[i]!, { borderColor: 'transparent', backgroundColor: colors.rxFill });
    for (const i of [4, 5]) Object.assign(sets[i]!, { borderColor: 'transparent', backgroundColor: colors.txFill });
    Object.assign(sets[RX_FORECAST]!, { borderColor: colors.rx, pointBackgroundColor: colors.rx });
    Object.assign(sets[TX_FORECAST]!, { borderColor: colors.tx, pointBackgroundColor: colors.tx });

    const firstStart = points[0]?.startMs ?? series.startMs;
    const x = chart.options.scales?.x;
    if (x) {
      x.min = Math.min(series.startMs, firstStart);
      x.max = forecast.length > 0 ? forecast[forecast.length - 1]!.startMs + 3_600_000 : series.endMs;
    }
    // At least half a bucket wide, so that a one-second gap shows on a long window.
    gaps = gapRanges(next.gaps ?? [], series.startMs, series.endMs, (series.bucketSeconds * 1000) / 2);
    applyChartTheme(chart, colors, scale.label);
    chart.update('none');
  }

  apply(initial);
  return {
    update: apply,
    destroy: () => chart.destroy(),
  };
}
