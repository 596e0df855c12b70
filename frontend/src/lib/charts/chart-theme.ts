/**
 * What the traffic and usage charts share: the theme colours read from the page's CSS custom properties,
 * the options both charts start from (value axis, tooltip box), and applying a theme to a built chart.
 */
import { Chart } from 'chart.js';
import { formatAxisNumber } from '../format/units';

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

/** Calls `onChange` whenever the OS switches between light and dark; returns the unsubscribe. */
export function onColorSchemeChange(onChange: () => void): () => void {
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', onChange);
  return () => scheme.removeEventListener('change', onChange);
}

/** The chart-wide options both charts use. */
export const baseChartOptions = {
  animation: false,
  maintainAspectRatio: false,
  responsive: true,
  interaction: { mode: 'index', intersect: false, axis: 'x' },
  layout: { padding: { top: 4, right: 4 } },
} as const;

/** The x axis' look: no grid lines, no border. */
export const plainAxis = {
  grid: { display: false },
  border: { display: false },
} as const;

/** The y axis: values from zero in the unit named by its title (set by `applyChartTheme`). */
export function valueAxis() {
  return {
    type: 'linear',
    beginAtZero: true,
    grace: '5%',
    border: { display: false },
    ticks: { maxTicksLimit: 6, callback: (value: string | number) => formatAxisNumber(Number(value)) },
    title: { display: true, text: '' },
  } as const;
}

/** The tooltip box. */
export const tooltipBox = {
  displayColors: true,
  boxPadding: 4,
  padding: 10,
} as const;

/** Colours (and the y axis' unit title) applied to a built chart's axes, tooltip and Chart.js defaults. */
export function applyChartTheme(chart: Chart<'line' | 'bar', unknown[], unknown>, colors: ChartColors, valueTitle: string): void {
  const options = chart.options;
  const x = options.scales?.x;
  const y = options.scales?.y;
  if (x?.ticks) x.ticks.color = colors.text;
  if (y) {
    if (y.ticks) y.ticks.color = colors.text;
    if (y.grid) y.grid.color = colors.grid;
    if ('title' in y && y.title) {
      y.title.text = valueTitle;
      y.title.color = colors.text;
    }
  }
  const tooltip = options.plugins?.tooltip;
  if (tooltip) {
    tooltip.backgroundColor = colors.tooltipBackground;
    tooltip.titleColor = colors.tooltipText;
    tooltip.bodyColor = colors.tooltipText;
    tooltip.footerColor = colors.tooltipText;
  }
  Chart.defaults.font.family = colors.font;
  Chart.defaults.color = colors.text;
}

/**
 * What every chart component does on mount: reads the theme colours from its canvas, builds the chart with
 * them, reads them again when the OS switches between light and dark, and destroys the chart when it goes.
 * `onState` is told the chart and the colours (null, null once destroyed); returns the cleanup for onMount.
 */
export function mountThemedChart<C, T extends { destroy(): void }>(
  canvas: HTMLCanvasElement,
  readColors: (element: Element) => C,
  build: (colors: C) => T,
  onState: (chart: T | null, colors: C | null) => void,
): () => void {
  const chart = build(readColors(canvas));
  onState(chart, readColors(canvas));
  const stopFollowing = onColorSchemeChange(() => onState(chart, readColors(canvas)));
  return () => {
    stopFollowing();
    chart.destroy();
    onState(null, null);
  };
}
