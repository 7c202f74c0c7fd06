// The benchmark harness's own load tools: what they report is what bench/RESULTS.md is read from.
import { once } from "node:events";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pacedLoad } from "../../bench/lib/paced-load.mjs";
import { warmUntilSteady } from "../../bench/lib/warm-up.mjs";
import { quantile } from "../../bench/loadtest/stats.mjs";

describe("pacedLoad (open loop)", () => {
  let server;
  let url;
  /** Arrival times (ms since the first request) and the `x-client` header of each request. */
  let arrivals = [];
  let stallUntil = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const now = performance.now();
      arrivals.push({ at: now, client: req.headers["x-client"] });
      const answer = () => res.end(req.url === "/missing" ? "" : "ok");
      if (req.url === "/missing") res.statusCode = 404;
      // A stall: every request that arrives before `stallUntil` is answered only then.
      if (now < stallUntil) setTimeout(answer, stallUntil - now);
      else answer();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${server.address().port}`;
  });

  afterAll(() => server?.close());

  it("sends rate x duration requests spread over the duration, each with its own headers", async () => {
    arrivals = [];
    let n = 0;
    const r = await pacedLoad(`${url}/`, {
      rate: 200,
      durationS: 1,
      headers: () => ({ "x-client": `c${n++}` }),
    });
    expect(r.sent).toBe(200);
    expect(r.ok).toBe(200);
    expect(r.non2xx + r.errors).toBe(0);
    expect(r.latencies).toHaveLength(200);
    const first = arrivals[0].at;
    const spread = arrivals.at(-1).at - first;
    // 200 requests at 200/s: the last leaves ~995 ms after the first, not in a burst at the start.
    expect(spread).toBeGreaterThan(900);
    expect(arrivals.filter((a) => a.at - first < 500).length).toBeLessThan(120);
    expect(new Set(arrivals.map((a) => a.client)).size).toBe(200);
  });

  it("counts a stall for every request it delays, from the moment each was due", async () => {
    stallUntil = performance.now() + 400;
    const r = await pacedLoad(`${url}/`, { rate: 100, durationS: 1 });
    stallUntil = 0;
    // The first ~40 requests (400 ms at 100/s) wait for the stall's end; a closed loop would
    // have sent only as many as it had connections and counted their wait once.
    expect(r.ok).toBe(100);
    expect(r.latencies.filter((ms) => ms >= 100).length).toBeGreaterThanOrEqual(25);
    expect(quantile(r.latencies, 0.99)).toBeGreaterThanOrEqual(300);
    expect(quantile(r.latencies, 0.5)).toBeLessThan(100);
  });

  it("counts non-2xx answers apart from 2xx", async () => {
    const r = await pacedLoad(`${url}/missing`, { rate: 50, durationS: 0.2 });
    expect(r.ok).toBe(0);
    expect(r.non2xx).toBe(10);
  });
});

describe("quantile", () => {
  it("takes the nearest rank of sorted values", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    // The load test's helper, shared: an empty sample has no quantile.
    expect(quantile([], 0.5)).toBeNull();
  });
});

describe("warmUntilSteady", () => {
  /** A target whose figure per window follows `figures`, then stays at the last one. */
  const target = (figures) => {
    const windows = [];
    return {
      windows,
      measure: async (windowS) => {
        windows.push(windowS);
        return figures[Math.min(windows.length - 1, figures.length - 1)];
      },
    };
  };

  it("stops at the first window within the tolerance of the one before, once past the minimum", async () => {
    const t = target([1.35, 1.1, 0.9, 0.75, 0.72, 0.71, 0.5]);
    const figures = await warmUntilSteady(t.measure, { windowS: 4, minS: 8, maxS: 48, tolerance: 0.05 });
    expect(figures).toEqual([1.35, 1.1, 0.9, 0.75, 0.72]);
  });

  it("loads at least the minimum even when the first windows agree", async () => {
    const t = target([1, 1, 1, 1]);
    const figures = await warmUntilSteady(t.measure, { windowS: 2, minS: 6, maxS: 48, tolerance: 0.05 });
    expect(figures).toHaveLength(3);
  });

  it("gives up at the maximum when the figure never settles", async () => {
    const t = target([1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    const figures = await warmUntilSteady(t.measure, { windowS: 4, minS: 8, maxS: 20, tolerance: 0.05 });
    expect(figures).toHaveLength(5);
    expect(t.windows.every((s) => s === 4)).toBe(true);
  });
});
