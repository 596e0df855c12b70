/**
 * The usage bar chart: days or billing months, download and upload stacked, the current period's
 * estimate as a pale cap on top. Chart.js is tree-shaken to a bar chart on a category and a linear axis
 * (the Usage view is loaded on demand, so these controllers stay out of the first download); colours
 * come from the page's theme like the traffic chart's.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
  type ChartDataset,
  type TooltipItem,
} from 'chart.js';
import { formatBytes, formatExact, type PrefixSystem } from '../format/units';
import { applyChartTheme, baseChartOptions, plainAxis, tooltipBox, valueAxis, type ChartColors } from './chart-theme';
import { pickVolumeScale, type UsageBars } from './usage-bars';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface UsageChartColors extends ChartColors {
  /** The estimate segment's fill. */
  estimate: string;
}

export interface UsageChartView {
  bars: UsageBars;
  prefixSystem: PrefixSystem;
  colors: UsageChartColors;
}

export interface UsageChart {
  update(view: UsageChartView): void;
  destroy(): void;
}

/** `#rrggbb` (or `#rgb`) with an alpha; other colour syntaxes are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  let hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())?.[1];
  if (!hex) return color;
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join('');
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export function readUsageChartColors(base: ChartColors, element: Element): UsageChartColors {
  const faint = getComputedStyle(element).getPropertyValue('--text-faint').trim() || '#8a93a1';
  return { ...base, estimate: withAlpha(faint, 0.28) };
}

const DATASET_LABELS = ['Download', 'Upload', 'Estimate for the rest'] as const;

export function createUsageChart(canvas: HTMLCanvasElement, initial: UsageChartView): UsageChart {
  let view = initial;

  const dataset = (index: 0 | 1 | 2): ChartDataset<'bar', number[]> => ({
    label: DATASET_LABELS[index],
    data: [],
    stack: 'usage',
    borderWidth: 0,
    // Only the top segment of each stack is rounded, so the stack reads as one bar.
    borderRadius: (ctx) => (topSegment(ctx.dataIndex) === index ? { topLeft: 3, topRight: 3, bottomLeft: 0, bottomRight: 0 } : 0),
    borderSkipped: false,
    maxBarThickness: 34,
    categoryPercentage: 0.78,
    barPercentage: 0.92,
  });

  const topSegment = (dataIndex: number): number => {
    const bar = view.bars.bars[dataIndex];
    if (!bar) return -1;
    return bar.restBytes > 0 ? 2 : bar.txBytes > 0 ? 1 : 0;
  };

  const bytesOf = (item: TooltipItem<'bar'>): number | null => {
    const bar = view.bars.bars[item.dataIndex];
    if (!bar) return null;
    return item.datasetIndex === 0 ? bar.rxBytes : item.datasetIndex === 1 ? bar.txBytes : bar.restBytes;
  };

  const chart = new Chart<'bar', number[], string | string[]>(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [dataset(0), dataset(1), dataset(2)] },
    options: {
      ...baseChartOptions,
      scales: {
        x: {
          type: 'category',
          stacked: true,
          ...plainAxis,
          ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 10 },
        },
        y: { ...valueAxis(), stacked: true },
      },
      plugins: {
        tooltip: {
          ...tooltipBox,
          filter: (item) => {
            const bar = view.bars.bars[item.dataIndex];
            if (!bar?.recorded) return item.datasetIndex === 0;
            return item.datasetIndex < 2 || bar.restBytes > 0;
          },
          callbacks: {
            title: (items: TooltipItem<'bar'>[]) => {
              const bar = view.bars.bars[items[0]?.dataIndex ?? -1];
              if (!bar) return '';
              return bar.current ? `${bar.title} (so far)` : bar.title;
            },
            label: (item: TooltipItem<'bar'>) => {
              const bytes = bytesOf(item);
              if (bytes === null) return '';
              if (!view.bars.bars[item.dataIndex]?.recorded) return 'No data: nothing was stored yet';
              if (item.datasetIndex === 2) {
                const bar = view.bars.bars[item.dataIndex];
                const whole = bar?.estimateBytes ?? 0;
                return `Estimate: ${formatBytes(whole, view.prefixSystem)} by the end of the ${view.bars.period}`;
              }
              return `${item.dataset.label}: ${formatBytes(bytes, view.prefixSystem)} (${formatExact(bytes)} bytes)`;
            },
            footer: (items: TooltipItem<'bar'>[]) => {
              const bar = view.bars.bars[items[0]?.dataIndex ?? -1];
              return bar?.recorded ? `Total: ${formatBytes(bar.totalBytes, view.prefixSystem)} (${formatExact(bar.totalBytes)} bytes)` : '';
            },
          },
        },
      },
    },
  });

  function apply(next: UsageChartView): void {
    view = next;
    const { bars, prefixSystem, colors } = next;
    const scale = pickVolumeScale(bars.maxBytes, prefixSystem);
    chart.data.labels = bars.bars.map((b) => b.label);
    const [rx, tx, rest] = chart.data.datasets;
    if (rx && tx && rest) {
      rx.data = bars.bars.map((b) => b.rxBytes / scale.divisor);
      tx.data = bars.bars.map((b) => b.txBytes / scale.divisor);
      rest.data = bars.bars.map((b) => b.restBytes / scale.divisor);
      rx.backgroundColor = colors.rx;
      tx.backgroundColor = colors.tx;
      rest.backgroundColor = colors.estimate;
      rx.hoverBackgroundColor = colors.rx;
      tx.hoverBackgroundColor = colors.tx;
      rest.hoverBackgroundColor = colors.estimate;
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
