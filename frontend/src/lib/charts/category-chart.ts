/**
 * Traffic by category (issue #9): one bar per category over the chosen window, the reply direction (for a
 * LAN client that opened the flow: its download) and the original direction (its upload) stacked. The
 * same tree-shaken bar chart, theme and volume scale as the usage chart.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type TooltipItem } from 'chart.js';
import type { ApiCategoryTraffic } from '../api/flows';
import { formatBytes, formatExact, type PrefixSystem } from '../format/units';
import { applyChartTheme, baseChartOptions, plainAxis, tooltipBox, valueAxis, type ChartColors } from './chart-theme';
import { pickVolumeScale } from './usage-bars';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface CategoryChartView {
  /** Busiest first (categoryBars). */
  bars: readonly ApiCategoryTraffic[];
  prefixSystem: PrefixSystem;
  colors: ChartColors;
}

export interface CategoryChart {
  update(view: CategoryChartView): void;
  destroy(): void;
}

export const CATEGORY_LABELS: Record<ApiCategoryTraffic['category'], string> = {
  voice: 'Voice',
  video: 'Video',
  web: 'Web',
  file: 'Files',
  background: 'Background',
  other: 'Other',
  unknown: 'Unknown',
};

const DATASETS = ['Reply (to the side that opened it)', 'Original (from the side that opened it)'] as const;

export function createCategoryChart(canvas: HTMLCanvasElement, initial: CategoryChartView): CategoryChart {
  let view = initial;
  // Colours as scriptable options, read from the current view: Chart.js caches a dataset's plain options
  // once resolved, so a colour assigned later would not reach the bars.
  const color = (index: 0 | 1) => () => (index === 0 ? view.colors.rx : view.colors.tx);
  const dataset = (index: 0 | 1) => ({
    label: DATASETS[index],
    data: [] as number[],
    stack: 'bytes',
    borderWidth: 0,
    borderRadius: 3,
    maxBarThickness: 46,
    backgroundColor: color(index),
    hoverBackgroundColor: color(index),
  });
  const bytesOf = (item: TooltipItem<'bar'>): number => {
    const bar = view.bars[item.dataIndex];
    return bar === undefined ? 0 : item.datasetIndex === 0 ? bar.reply_bytes : bar.orig_bytes;
  };

  const chart = new Chart<'bar', number[], string>(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [dataset(0), dataset(1)] },
    options: {
      ...baseChartOptions,
      scales: {
        x: { type: 'category', stacked: true, ...plainAxis, ticks: { maxRotation: 0, autoSkip: false } },
        y: { ...valueAxis(), stacked: true },
      },
      plugins: {
        tooltip: {
          ...tooltipBox,
          callbacks: {
            label: (item: TooltipItem<'bar'>) => `${item.dataset.label}: ${formatBytes(bytesOf(item), view.prefixSystem)}`,
            footer: (items: TooltipItem<'bar'>[]) => {
              const bar = view.bars[items[0]?.dataIndex ?? -1];
              return bar ? `Total: ${formatBytes(bar.bytes, view.prefixSystem)} (${formatExact(bar.bytes)} bytes) in ${formatExact(bar.flows)} ended flows` : '';
            },
          },
        },
      },
    },
  });

  function apply(next: CategoryChartView): void {
    view = next;
    const scale = pickVolumeScale(Math.max(0, ...next.bars.map((b) => b.bytes)), next.prefixSystem);
    chart.data.labels = next.bars.map((b) => CATEGORY_LABELS[b.category]);
    const [reply, orig] = chart.data.datasets;
    if (reply && orig) {
      reply.data = next.bars.map((b) => b.reply_bytes / scale.divisor);
      orig.data = next.bars.map((b) => b.orig_bytes / scale.divisor);
    }
    applyChartTheme(chart, next.colors, scale.label);
    chart.update('none');
  }

  apply(initial);
  return { update: apply, destroy: () => chart.destroy() };
}
