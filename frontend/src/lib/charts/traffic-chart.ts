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
import { formatAxisNumber, formatBytes, formatExact, formatExactRate, formatRate, pickRateScale, type UnitPrefs } from '../format/units';
import { isolatedPoints, maxRate, type RatePoint, type TrafficSeries } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Filler);

export interface ChartColors {
  rx: string;
  rxFill: string;
  tx: string;
  txFill: string;
  grid: string;
  text: string;
  tooltipBackground: string;
  tooltipText: string;
  font: string;
}

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

/** Colours from CSS custom properties on `element` (see app.css), so the chart follows the OS theme. */
export function readChartColors(element: Element): ChartColors {
  const style = getComputedStyle(element);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    rx: v('--rx', '#0e7c86'),
    rxFill: v('--rx-fill', 'rgba(14,124,134,0.15)'),
    tx: v('--tx', '#c2410c'),
    txFill: v('--tx-fill', 'rgba(194,65,12,0.10)'),
    grid: v('--chart-grid', 'rgba(0,0,0,0.08)'),
    text: v('--text-muted', '#5b6473'),
    tooltipBackground: v('--tooltip-bg', '#111827'),
    tooltipText: v('--tooltip-text', '#f9fafb'),
    font: style.fontFamily || 'system-ui, sans-serif',
  };
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
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      interaction: { mode: 'index', intersect: false, axis: 'x' },
      layout: { padding: { top: 4, right: 4 } },
      scales: {
        x: {
          type: 'linear',
          grid: { display: false },
          border: { display: false },
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
        y: {
          type: 'linear',
          beginAtZero: true,
          grace: '5%',
          border: { display: false },
          ticks: { maxTicksLimit: 6, callback: (value) => formatAxisNumber(Number(value)) },
          title: { display: true, text: '' },
        },
      },
      plugins: {
        tooltip: {
          displayColors: true,
          boxPadding: 4,
          padding: 10,
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

    const options = chart.options;
    const firstStart = points[0]?.startMs ?? series.startMs;
    const x = options.scales?.x;
    const y = options.scales?.y;
    if (x) {
      x.min = Math.min(series.startMs, firstStart);
      x.max = series.endMs;
      if (x.ticks) x.ticks.color = colors.text;
    }
    if (y) {
      if (y.ticks) y.ticks.color = colors.text;
      if (y.grid) y.grid.color = colors.grid;
      if ('title' in y && y.title) {
        y.title.text = scale.label;
        y.title.color = colors.text;
      }
    }
    const tooltip = options.plugins?.tooltip;
    if (tooltip) {
      tooltip.backgroundColor = colors.tooltipBackground;
      tooltip.titleColor = colors.tooltipText;
      tooltip.bodyColor = colors.tooltipText;
    }
    Chart.defaults.font.family = colors.font;
    Chart.defaults.color = colors.text;
    chart.update('none');
  }

  apply(initial);
  return {
    update: apply,
    destroy: () => chart.destroy(),
  };
}
