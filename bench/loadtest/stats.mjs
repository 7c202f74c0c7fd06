// Latency and error bookkeeping for the load test: one recorder per named step.

/** The value at quantile `q` (0..1) of an ascending array (nearest rank). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export class Steps {
  constructor() {
    /** name -> { kind, times: number[], errors: number, reasons: Map<string, number> } */
    this.steps = new Map();
    /** Steps started and not finished: name -> { kind, started: Map<token, start time> } */
    this.running = new Map();
    this.closed = false;
  }

  #get(name, kind) {
    let step = this.steps.get(name);
    if (!step) {
      step = { kind, times: [], errors: 0, reasons: new Map() };
      this.steps.set(name, step);
    }
    return step;
  }

  ok(name, kind, ms) {
    this.#get(name, kind).times.push(ms);
  }

  fail(name, kind, ms, reason) {
    const step = this.#get(name, kind);
    step.errors += 1;
    step.times.push(ms);
    step.reasons.set(reason, (step.reasons.get(reason) ?? 0) + 1);
  }

  /** Runs `fn`, timing it; a throw (or a false `check`) counts as an error of the step. */
  async time(name, kind, fn) {
    const started = performance.now();
    const running = this.running.get(name) ?? { kind, started: new Map() };
    this.running.set(name, running);
    const token = Symbol(name);
    running.started.set(token, started);
    try {
      const value = await fn();
      if (!this.closed) this.ok(name, kind, performance.now() - started);
      return value;
    } catch (error) {
      if (!this.closed)
        this.fail(name, kind, performance.now() - started, String(error?.message ?? error).slice(0, 80));
      throw error;
    } finally {
      running.started.delete(token);
    }
  }

  /** Ends the run: steps still in flight count as errors ("unfinished at the end of the run"). */
  close() {
    const now = performance.now();
    for (const [name, { kind, started }] of this.running) {
      for (const at of started.values()) this.fail(name, kind, now - at, "unfinished at the end of the run");
    }
    this.closed = true;
  }

  summary() {
    const rows = [];
    const api = [];
    let apiErrors = 0;
    let total = 0;
    let errors = 0;
    for (const [name, step] of this.steps) {
      const sorted = [...step.times].sort((a, b) => a - b);
      rows.push({
        name,
        kind: step.kind,
        count: step.times.length,
        errors: step.errors,
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
        p99: quantile(sorted, 0.99),
        reasons: Object.fromEntries(step.reasons),
      });
      total += step.times.length;
      errors += step.errors;
      if (step.kind === "api") {
        api.push(...step.times);
        apiErrors += step.errors;
      }
    }
    api.sort((a, b) => a - b);
    return {
      rows,
      total,
      errors,
      errorRate: total ? errors / total : 0,
      api: {
        count: api.length,
        errors: apiErrors,
        p50: quantile(api, 0.5),
        p95: quantile(api, 0.95),
        p99: quantile(api, 0.99),
      },
    };
  }
}
