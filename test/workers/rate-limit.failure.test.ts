import { afterEach, describe, expect, it, vi } from "vitest";
import { appWith, flushReports, limiterOf, rateLimitHeaders, uniqueIp } from "./rate-limit.support";

/** A `RATE_LIMITER` whose every call fails, like an overloaded or unreachable object. */
const brokenLimiter = {
  idFromName: (name: string) => ({ name, toString: () => name, equals: () => false }),
  get: () => ({
    consume: () => Promise.reject(new Error("Durable Object is overloaded")),
  }),
};

/** A `METRICS` dataset that keeps the rate-limit data points (the request log writes its own too). */
function fakeMetrics() {
  const points: AnalyticsEngineDataPoint[] = [];
  const ours = new Set(["rate_limited", "rate_limiter_unreachable"]);
  return {
    points,
    writeDataPoint: (point: AnalyticsEngineDataPoint) => {
      if (ours.has(String(point.indexes?.[0]))) points.push(point);
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("when the limiter cannot be reached", () => {
  it("lets the request through by default (open), logs a JSON line and counts it", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const metrics = fakeMetrics();
    const fetchApp = appWith({ RATE_LIMITER: brokenLimiter, METRICS: metrics });
    const res = await fetchApp("/api/v1/characters", {
      ip: uniqueIp(),
      headers: { "X-Request-Id": "req-open-1" },
    });

    expect(res.status).toBe(200);
    expect(rateLimitHeaders(res)).toEqual({ limit: null, remaining: null, reset: null, retryAfter: null });
    const line = JSON.parse(String(warn.mock.calls[0]?.[0]));
    expect(line).toMatchObject({
      level: "warn",
      msg: "rate limiter unreachable",
      request_id: "req-open-1",
      zone: "api",
      failure_mode: "open",
    });
    expect(line.error).toContain("overloaded");
    expect(metrics.points).toEqual([
      {
        indexes: ["rate_limiter_unreachable"],
        blobs: ["rate_limiter_unreachable", "api", "open"],
        doubles: [1],
      },
    ]);
  });

  it("answers 503 upstream_unavailable when RATE_LIMIT_FAILURE_MODE=closed", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const metrics = fakeMetrics();
    const fetchApp = appWith({
      RATE_LIMITER: brokenLimiter,
      METRICS: metrics,
      RATE_LIMIT_FAILURE_MODE: "closed",
    });
    const res = await fetchApp("/api/v1/auth/guest", { method: "POST", ip: uniqueIp() });

    expect(res.status).toBe(503);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 503, code: "upstream_unavailable" });
    expect(res.headers.get("Retry-After")).toBe("1");
    expect(JSON.parse(String(warn.mock.calls[0]?.[0]))).toMatchObject({
      zone: "strict",
      failure_mode: "closed",
    });
    expect(metrics.points[0]?.blobs).toEqual(["rate_limiter_unreachable", "strict", "closed"]);
  });

  it("fails closed on the strict zone even with the default (open) setting", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const fetchApp = appWith({ RATE_LIMITER: brokenLimiter });
    const before = await fetchApp("/api/v1/characters", { ip: uniqueIp() });
    const res = await fetchApp("/api/v1/auth/guest", { method: "POST", ip: uniqueIp() });

    expect(before.status).toBe(200);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "upstream_unavailable" });
  });

  it("keeps serving unlimited routes without asking the limiter", async () => {
    const fetchApp = appWith({ RATE_LIMITER: brokenLimiter, RATE_LIMIT_FAILURE_MODE: "closed" });
    expect((await fetchApp("/api/v1/openapi.json", { ip: uniqueIp() })).status).toBe(200);
  });

  it("survives a missing METRICS binding", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const fetchApp = appWith({ RATE_LIMITER: brokenLimiter, METRICS: undefined });
    expect((await fetchApp("/api/v1/characters", { ip: uniqueIp() })).status).toBe(200);
  });
});

describe("rejection metrics", () => {
  it("writes one rate_limited data point per 429, with its zone", async () => {
    const metrics = fakeMetrics();
    const fetchApp = appWith({ METRICS: metrics, RATE_STRICT_BURST: "1", RATE_STRICT_PER_S: "0.001" });
    const ip = uniqueIp();
    const signIn = { method: "POST", ip };
    expect((await fetchApp("/api/v1/auth/guest", signIn)).status).toBe(201);
    expect((await fetchApp("/api/v1/auth/guest", signIn)).status).toBe(429);
    expect((await fetchApp("/api/v1/auth/guest", signIn)).status).toBe(429);
    expect(metrics.points.map((p) => p.blobs)).toEqual([
      ["rate_limited", "strict", ""],
      ["rate_limited", "strict", ""],
    ]);
    await flushReports(limiterOf(ip));
  });
});
