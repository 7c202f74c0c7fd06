import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import type { ClientLimiter } from "../../src/rate-limit/binding";
import { zoneRule } from "../../src/rate-limit/zones";
import {
  appWith,
  flushReports,
  limiterOf,
  ManualClock,
  ORIGIN,
  rateLimitHeaders,
  statusCounts,
  uniqueIp,
  useClock,
} from "./rate-limit.support";

/** The production defaults of API.md (the suite's own bindings are generous). */
const DEFAULT_RATES = {
  RATE_API_PER_S: "20",
  RATE_API_BURST: "40",
  RATE_STRICT_PER_S: "5",
  RATE_STRICT_BURST: "10",
};

const used: ClientLimiter[] = [];
/** A fresh client whose limiter runs on a clock the test moves. */
async function frozenClient() {
  const ip = uniqueIp();
  const stub = limiterOf(ip);
  used.push(stub);
  const clock = new ManualClock();
  await useClock(stub, clock);
  return { ip, clock };
}
afterEach(async () => {
  await flushReports(...used.splice(0));
});

const guestSignIn = { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" };

describe("per-IP limits over HTTP", () => {
  it("lets exactly 40 of 100 concurrent requests from one IP through, in real time", async () => {
    // A refill of one token per 1000 s keeps the real clock from adding a token mid-test.
    const fetchApp = appWith({ ...DEFAULT_RATES, RATE_API_PER_S: "0.001" });
    const ip = uniqueIp();
    used.push(limiterOf(ip));
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => fetchApp("/api/v1/characters", { ip })),
    );
    expect(statusCounts(responses)).toEqual({ 200: 40, 429: 60 });
  });

  it("holds through the deployed Worker (SELF): 40 tokens left, 100 concurrent requests, 40 pass", async () => {
    const { ip } = await frozenClient();
    const rule = zoneRule(loadConfig(env), "api");
    await limiterOf(ip).consume({ zone: "api", cost: rule.burst - 40, ...rule });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        SELF.fetch(`${ORIGIN}/api/v1/characters`, { headers: { "CF-Connecting-IP": ip } }),
      ),
    );
    expect(statusCounts(responses)).toEqual({ 200: 40, 429: 60 });
    const remaining = responses
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers.get("RateLimit-Remaining")));
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("gives each IP its own bucket", async () => {
    const fetchApp = appWith(DEFAULT_RATES);
    const a = await frozenClient();
    const b = await frozenClient();
    for (let i = 0; i < 40; i++) await fetchApp("/api/v1/characters", { ip: a.ip });
    expect((await fetchApp("/api/v1/characters", { ip: a.ip })).status).toBe(429);
    const other = await fetchApp("/api/v1/characters", { ip: b.ip });
    expect(other.status).toBe(200);
    expect(other.headers.get("RateLimit-Remaining")).toBe("39");
  });

  it("carries RateLimit headers on 200 and 429, and Retry-After as the true wait", async () => {
    const fetchApp = appWith(DEFAULT_RATES);
    const { ip, clock } = await frozenClient();
    const first = await fetchApp("/api/v1/characters", { ip });
    expect(first.status).toBe(200);
    expect(rateLimitHeaders(first)).toEqual({ limit: "40", remaining: "39", reset: "1", retryAfter: null });
    for (let i = 0; i < 39; i++) await fetchApp("/api/v1/characters", { ip });

    const limited = await fetchApp("/api/v1/characters", { ip });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect(await limited.json()).toMatchObject({
      status: 429,
      code: "rate_limited",
      title: "Too Many Requests",
    });
    expect(rateLimitHeaders(limited)).toEqual({ limit: "40", remaining: "0", reset: "2", retryAfter: "1" });
    expect(limited.headers.get("Access-Control-Allow-Origin")).toBe("*");

    clock.advance(50);
    const refilled = await fetchApp("/api/v1/characters", { ip });
    expect(refilled.status).toBe(200);
    expect(rateLimitHeaders(refilled)).toMatchObject({ remaining: "0", reset: "2" });
  });

  it("rounds Retry-After up to the whole second the next token needs", async () => {
    const fetchApp = appWith({ ...DEFAULT_RATES, RATE_API_PER_S: "0.3", RATE_API_BURST: "2" });
    const { ip, clock } = await frozenClient();
    await fetchApp("/api/v1/characters", { ip });
    await fetchApp("/api/v1/characters", { ip });
    expect((await fetchApp("/api/v1/characters", { ip })).headers.get("Retry-After")).toBe("4");
    clock.advance(1000);
    expect((await fetchApp("/api/v1/characters", { ip })).headers.get("Retry-After")).toBe("3");
  });

  it("counts non-2xx answers of limited routes too", async () => {
    const fetchApp = appWith(DEFAULT_RATES);
    const { ip } = await frozenClient();
    const unauthorized = await fetchApp("/api/v1/me", { ip });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("RateLimit-Remaining")).toBe("39");
  });
});

describe("zones over HTTP", () => {
  it("puts POST /auth/guest on the strict zone: 10 pass, the 11th is 429, GET /characters is untouched", async () => {
    const fetchApp = appWith(DEFAULT_RATES);
    const { ip } = await frozenClient();
    const statuses = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await fetchApp("/api/v1/auth/guest", { ...guestSignIn, ip })).status);
    expect(statuses).toEqual([...Array(10).fill(201), 429]);

    const limited = await fetchApp("/api/v1/auth/guest", { ...guestSignIn, ip });
    expect(rateLimitHeaders(limited)).toEqual({ limit: "10", remaining: "0", reset: "2", retryAfter: "1" });

    const browse = await fetchApp("/api/v1/characters", { ip });
    expect(browse.status).toBe(200);
    expect(rateLimitHeaders(browse)).toMatchObject({ limit: "40", remaining: "39" });
  });

  it("does not let the api zone starve the strict one", async () => {
    const fetchApp = appWith(DEFAULT_RATES);
    const { ip } = await frozenClient();
    for (let i = 0; i < 40; i++) await fetchApp("/api/v1/characters", { ip });
    expect((await fetchApp("/api/v1/characters", { ip })).status).toBe(429);
    const signIn = await fetchApp("/api/v1/auth/guest", { ...guestSignIn, ip });
    expect(signIn.status).toBe(201);
    expect(rateLimitHeaders(signIn)).toMatchObject({ limit: "10", remaining: "9" });
  });

  it("never limits health and openapi.json", async () => {
    const fetchApp = appWith({ ...DEFAULT_RATES, RATE_API_BURST: "1", RATE_API_PER_S: "0.001" });
    const { ip } = await frozenClient();
    await fetchApp("/api/v1/characters", { ip });
    expect((await fetchApp("/api/v1/characters", { ip })).status).toBe(429);
    for (const path of ["/api/v1/health", "/api/v1/openapi.json"]) {
      const res = await fetchApp(path, { ip });
      expect(res.status).not.toBe(429);
      expect(res.headers.get("RateLimit-Limit")).toBeNull();
    }
  });
});

describe("client address", () => {
  it("reads the header named by CLIENT_IP_HEADER and ignores CF-Connecting-IP then", async () => {
    const fetchApp = appWith({
      ...DEFAULT_RATES,
      CLIENT_IP_HEADER: "X-Real-IP",
      RATE_API_BURST: "1",
      RATE_API_PER_S: "0.001",
    });
    const { ip } = await frozenClient();
    const viaProxy = (cf: string) =>
      fetchApp("/api/v1/characters", { headers: { "X-Real-IP": ip, "CF-Connecting-IP": cf } });
    expect((await viaProxy(uniqueIp())).status).toBe(200);
    expect((await viaProxy(uniqueIp())).status).toBe(429);
  });
});
