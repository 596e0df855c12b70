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
import { buildTimeTicks, formatBucketSpan } from '../format/time';
import { formatBytes, formatExact, formatExactRate, formatRate, pickRateScale, type UnitPrefs } from '../format/units';
import { applyChartTheme, baseChartOptions, plainAxis, tooltipBox, valueAxis, type ChartColors } from './chart-theme';
import { isolatedPoints, maxRate, type RatePoint, type TrafficSeries } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Filler);

export interface TrafficChartView {
  series: TrafficSeries;
  units: UnitPrefs;
  colors: ChartColors;
}

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

  const chart = new Chart<'line', XY[]>(canvas, {
    type: 'line',
    data: { datasets: [dataset(0, 'Download'), dataset(1, 'Upload')] },
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
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => {
              const point = points[items[0]?.dataIndex ?? -1];
              return point ? formatBucketSpan(point.startMs, view.series.bucketSeconds) : '';
            },
            label: (item: TooltipItem<'line'>) => {
              const point = points[item.dataIndex];
              const rate = item.datasetIndex === 0 ? point?.rxBytesPerSec : point?.txBytesPerSec;
              if (rate === null || rate === undefined) return `${item.dataset.label}: no data`;
              return `${item.dataset.label}: ${formatRate(rate, view.units)}`;
            },
            afterLabel: (item: TooltipItem<'line'>) => {
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
    const scale = pickRateScale(maxRate(series), units);
    const rx: XY[] = points.map((p) => ({ x: p.startMs, y: p.rxBytesPerSec === null ? null : p.rxBytesPerSec / scale.divisor }));
    const tx: XY[] = points.map((p) => ({ x: p.startMs, y: p.txBytesPerSec === null ? null : p.txBytesPerSec / scale.divisor }));
    isolated = [isolatedPoints(rx.map((p) => p.y)), isolatedPoints(tx.map((p) => p.y))];

    const [rxSet, txSet] = chart.data.datasets;
    if (rxSet && txSet) {
      rxSet.data = rx;
      txSet.data = tx;
      Object.assign(rxSet, { borderColor: colors.rx, backgroundColor: colors.rxFill, pointBackgroundColor: colors.rx });
      Object.assign(txSet, { borderColor: colors.tx, backgroundColor: colors.txFill, pointBackgroundColor: colors.tx });
    }

    const firstStart = points[0]?.startMs ?? series.startMs;
    const x = chart.options.scales?.x;
    if (x) {
      x.min = Math.min(series.startMs, firstStart);
      x.max = series.endMs;
    }
    applyChartTheme(chart, colors, scale.label);
    chart.update('none');
  }

  apply(initial);
  return {
    update: apply,
    destroy: () => chart.destroy(),
  };
}
