/**
 * Measurement helpers for `npm run bench`. Figures are ratios measured side
 * by side in one process (or sizes), so they hold on a noisy machine.
 */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs fn `runs` times after one warm-up; returns each run's milliseconds and the last result. */
export async function timeIt<T>(runs: number, fn: () => T | Promise<T>): Promise<{ ms: number[]; result: T }> {
  let result = await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await fn();
    ms.push(performance.now() - t);
  }
  return { ms, result };
}

export function formatBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} B`;
}
