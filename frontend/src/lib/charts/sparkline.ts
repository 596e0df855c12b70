/**
 * SVG paths for the live sparkline: the last `capacity` samples, newest at the right edge, scaled to a
 * shared maximum so download and upload are comparable. No Chart.js here: two paths are cheaper.
 */

export interface SparklineGeometry {
  width: number;
  height: number;
  /** Slots across the width; fewer samples than slots start part-way in. */
  capacity: number;
  /** Value drawn at the top edge. */
  maxValue: number;
}

function coordinates(values: readonly number[], g: SparklineGeometry): [number, number][] {
  const step = g.capacity > 1 ? g.width / (g.capacity - 1) : 0;
  const offset = g.capacity - values.length;
  const top = g.maxValue > 0 ? g.maxValue : 1;
  const pad = 1;
  return values.map((value, i) => {
    const x = (offset + i) * step;
    const y = g.height - pad - (Math.max(0, Math.min(value, top)) / top) * (g.height - 2 * pad);
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  });
}

/** "M x y L x y …" through the values; '' for fewer than two. */
export function sparklineLine(values: readonly number[], g: SparklineGeometry): string {
  if (values.length < 2) return '';
  return coordinates(values, g)
    .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x} ${y}`)
    .join(' ');
}

/** The line closed down to the baseline, for a soft fill. */
export function sparklineArea(values: readonly number[], g: SparklineGeometry): string {
  const line = sparklineLine(values, g);
  if (line === '') return '';
  const points = coordinates(values, g);
  const firstX = points[0]![0];
  const lastX = points[points.length - 1]![0];
  return `${line} L${lastX} ${g.height} L${firstX} ${g.height} Z`;
}

/** A top for the scale that moves in round steps, so the lines don't jitter with every sample. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.5, 2, 3, 5, 7.5, 10]) if (value <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}
