/**
 * Marks on the traffic chart for intervals that could not be counted (GET /api/traffic/gaps): shaded x
 * ranges, clipped to the window, overlapping ones merged, each at least minWidthMs wide so a one-second gap
 * on a week's chart stays visible. Pure, plus a small Chart.js plugin that draws them under the lines.
 */
import type { Chart, Plugin } from 'chart.js';
import type { TrafficGap } from '../api/gaps';

export interface GapRange {
  fromMs: number;
  toMs: number;
}

export function gapRanges(gaps: readonly TrafficGap[], windowStartMs: number, windowEndMs: number, minWidthMs: number): GapRange[] {
  const ranges = gaps
    .map((g) => {
      const mid = (g.startMs + g.endMs) / 2;
      const half = Math.max(g.endMs - g.startMs, minWidthMs) / 2;
      return { fromMs: Math.max(windowStartMs, mid - half), toMs: Math.min(windowEndMs, mid + half) };
    })
    .filter((r) => r.toMs > r.fromMs)
    .sort((a, b) => a.fromMs - b.fromMs);
  const out: GapRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && r.fromMs <= last.toMs) last.toMs = Math.max(last.toMs, r.toMs);
    else out.push({ ...r });
  }
  return out;
}

/** Draws `ranges()` as translucent bands over the chart area, before the datasets. */
export function gapMarksPlugin(ranges: () => readonly GapRange[], color: string): Plugin<'line'> {
  return {
    id: 'netpulseGapMarks',
    beforeDatasetsDraw(chart: Chart<'line'>) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      if (x === undefined) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = color;
      for (const r of ranges()) {
        const left = Math.max(area.left, x.getPixelForValue(r.fromMs));
        const right = Math.min(area.right, x.getPixelForValue(r.toMs));
        if (right > left) ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      }
      ctx.restore();
    },
  };
}
