// Small load-generation helpers shared by the soak's phases.

/**
 * Runs `task(i)` for i in 0..count-1 with at most `concurrency` in flight.
 * @returns {Promise<{results: any[], seconds: number}>}
 */
export async function runPool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { results, seconds: (performance.now() - started) / 1000 };
}

/** The p-th percentile (0..100) of numbers, nearest-rank. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summary(values) {
  const round = (n) => Math.round(n);
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
