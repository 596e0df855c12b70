/** The log scale the smooth models work on: z = log(y + c), c = 1 % of the mean, so zero hours stay finite. */
export interface LogScale {
  offset: number;
  toLog(y: number): number;
  fromLog(z: number): number;
}

export function logScaleFor(values: ArrayLike<number>): LogScale {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = values.length === 0 ? 0 : sum / values.length;
  const offset = mean > 0 ? mean * 0.01 : 1;
  return {
    offset,
    toLog: (y) => Math.log(y + offset),
    fromLog: (z) => Math.max(0, Math.exp(z) - offset),
  };
}
