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
      const only = selected(tests, process.env.E2E_ONLY);
      for (const { name, fn, timeoutMs, needs } of tests) {
        if (!only.has(name)) continue;
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

/**
 * E2E_ONLY=<regex> runs the tests whose names match it, plus what they need (for working on a
 * few scenarios; the whole suite is the one that counts).
 */
function selected(tests, pattern) {
  const byName = new Map(tests.map((test) => [test.name, test]));
  if (!pattern) return new Set(byName.keys());
  const wanted = new Set();
  const add = (name) => {
    if (wanted.has(name) || !byName.has(name)) return;
    wanted.add(name);
    for (const dep of byName.get(name).needs) add(dep);
  };
  for (const test of tests) if (new RegExp(pattern, "i").test(test.name)) add(test.name);
  return wanted;
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
