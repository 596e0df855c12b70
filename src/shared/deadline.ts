/**
 * Bounded waits for the way out: a shutdown must end within its budget whatever a peer does (a PostgreSQL
 * that never answers, a webhook that hangs, a client that stops reading).
 */

/**
 * Resolves true when `promise` settles (fulfilled or rejected) within `ms`, false when the time ran out
 * first; the promise then runs on unobserved. Infinity waits as long as it takes.
 */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  if (ms === Infinity) return settled;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  return Promise.race([settled, expired]).finally(() => clearTimeout(timer));
}

/** A budget that started now: how many ms are left of it (never negative). */
export function startBudget(ms: number): () => number {
  const end = performance.now() + ms;
  return () => Math.max(0, end - performance.now());
}
