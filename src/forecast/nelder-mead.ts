/** Nelder–Mead simplex minimisation (no derivatives): enough for the three smoothing parameters of DSHW. */
export interface NelderMeadOptions {
  /** Largest number of iterations (each costs one to n + 2 evaluations). */
  maxIterations?: number;
  /** Stop when the simplex's values differ by less than this. */
  tolerance?: number;
  /** Size of the first simplex's steps. */
  step?: number;
}

export function nelderMead(f: (x: readonly number[]) => number, x0: readonly number[], options: NelderMeadOptions = {}): { x: number[]; value: number; evaluations: number } {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-8;
  const step = options.step ?? 0.5;
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  const simplex: { x: number[]; v: number }[] = [{ x: [...x0], v: evaluate([...x0]) }];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    x[i] = x[i]! + step;
    simplex.push({ x, v: evaluate(x) });
  }
  for (let it = 0; it < maxIterations; it++) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.v - best.v) <= tolerance * (Math.abs(best.v) + tolerance)) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] = centroid[j]! + simplex[i]!.x[j]! / n;
    const along = (t: number) => centroid.map((c, j) => c + t * (worst.x[j]! - c));
    const reflected = along(-1);
    const vr = evaluate(reflected);
    if (vr < best.v) {
      const expanded = along(-2);
      const ve = evaluate(expanded);
      simplex[n] = ve < vr ? { x: expanded, v: ve } : { x: reflected, v: vr };
    } else if (vr < simplex[n - 1]!.v) {
      simplex[n] = { x: reflected, v: vr };
    } else {
      const contracted = vr < worst.v ? along(-0.5) : along(0.5);
      const vc = evaluate(contracted);
      if (vc < Math.min(vr, worst.v)) {
        simplex[n] = { x: contracted, v: vc };
      } else {
        for (let i = 1; i <= n; i++) {
          const x = simplex[i]!.x.map((xj, j) => best.x[j]! + 0.5 * (xj - best.x[j]!));
          simplex[i] = { x, v: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v, evaluations };
}
