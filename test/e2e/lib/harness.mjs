/**
 * A very small sequential test runner: scenarios share one browser and run in order, because
 * later ones (reload, history) build on what earlier ones created.
 */
export function createHarness() {
  const tests = [];
  return {
    get count() {
      return tests.length;
    },
    /**
     * @param {string} name
     * @param {() => Promise<void>} fn
     * @param {{timeoutMs?: number, needs?: string[]}} [options] `needs`: names of tests that must have passed
     */
    test(name, fn, { timeoutMs = 60_000, needs = [] } = {}) {
      tests.push({ name, fn, timeoutMs, needs });
    },
    async run() {
      const results = new Map();
      for (const { name, fn, timeoutMs, needs } of tests) {
        const missing = needs.filter((dep) => results.get(dep) !== true);
        const started = Date.now();
        if (missing.length) {
          results.set(name, false);
          console.log(`✗ ${name}\n    not run: needs ${missing.map((m) => `"${m}"`).join(", ")}`);
          continue;
        }
        try {
          await withTimeout(fn(), timeoutMs, name);
          results.set(name, true);
          console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        } catch (error) {
          results.set(name, false);
          console.log(
            `✗ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n    ${String(error?.stack ?? error)
              .split("\n")
              .slice(0, 6)
              .join("\n    ")}`,
          );
        }
      }
      const passed = [...results.values()].filter(Boolean).length;
      return { passed, failed: results.size - passed };
    },
  };
}

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`"${name}" timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
