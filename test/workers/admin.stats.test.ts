import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { AdminStats } from "../../src/ops/admin/stats";
import { parseSocketReport } from "../../src/ops/sockets/protocol";
import { reconcileSocketCounts } from "../../src/ops/sockets/reconcile";
import { sessionStats } from "../../src/ops/sockets/report";
import { createJob, harness, newUser, sleep } from "./generation.support";
import { ADMIN_TOKEN, adminHeaders } from "./ops.support";
import { appWith, flushReports, limiterOf, uniqueIp } from "./rate-limit.support";
import { openSocket } from "./support/session";

const ORIGIN = "http://127.0.0.1:8787";

function stats(token?: string, testEnv?: Env): Promise<Response> {
  const headers = token === undefined ? {} : adminHeaders(token);
  if (!testEnv) return SELF.fetch(`${ORIGIN}/api/v1/admin/stats`, { headers });
  return viaApp(new Request(`${ORIGIN}/api/v1/admin/stats`, { headers }), testEnv);
}

async function viaApp(request: Request, testEnv: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp().fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function read(testEnv?: Env): Promise<AdminStats> {
  const res = await stats(ADMIN_TOKEN, testEnv);
  expect(res.status).toBe(200);
  return res.json<AdminStats>();
}

describe("GET /api/v1/admin/stats: authentication", () => {
  it("is 401 problem+json without a token", async () => {
    const res = await stats();
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it.each(["wrong", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN.toUpperCase()])(
    "is 401 with the wrong token %s",
    async (token) => {
      const res = await stats(token);
      expect(res.status).toBe(401);
      expect((await res.json<{ code: string }>()).code).toBe("unauthorized");
    },
  );

  it("is 401 with a user's (JWT) token", async () => {
    const user = await newUser();
    expect((await stats(user.token)).status).toBe(401);
  });

  it("is never open when ADMIN_TOKEN is unset: 401 for every token, the empty one included", async () => {
    for (const unset of ["", "   "]) {
      const testEnv = { ...env, ADMIN_TOKEN: unset } as Env;
      for (const token of [undefined, "", ADMIN_TOKEN, "undefined"]) {
        const res = await stats(token, testEnv);
        expect(res.status).toBe(401);
      }
      const body = await (await stats(ADMIN_TOKEN, testEnv)).json<{ detail: string }>();
      expect(body.detail).toContain("ADMIN_TOKEN is not configured");
    }
  });

  it("does not cover other routes: a user route is unaffected", async () => {
    expect((await SELF.fetch(`${ORIGIN}/api/v1/health`)).status).toBe(200);
  });

  it("is in the OpenAPI document as an admin route", async () => {
    const doc = await (await SELF.fetch(`${ORIGIN}/api/v1/openapi.json`)).json<{
      paths: Record<string, Record<string, { security?: unknown }>>;
    }>();
    expect(doc.paths["/api/v1/admin/stats"]?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/api/v1/admin/dead-letters"]?.get).toBeDefined();
    expect(doc.paths["/api/v1/admin/dead-letters/{id}/replay"]?.post).toBeDefined();
  });
});

describe("GET /api/v1/admin/stats: the figures", () => {
  it("counts jobs by status, jobs waiting in the queue and dead-lettered jobs", async () => {
    const h = harness();
    const before = await read();
    const user = await newUser();
    const queued = await createJob(user, { prompt: "stays queued" }, h.fetch);
    const cancelled = await createJob(user, { prompt: "to be cancelled" }, h.fetch);
    const dead = await createJob(user, { prompt: "to be dead-lettered" }, h.fetch);
    expect((await h.fetch(user, `/generations/${cancelled.id}/cancel`, { method: "POST" })).status).toBe(200);
    await h.deliver([{ type: "submit", job_id: dead.id }], "generation-dlq");
    h.queue.take();

    const after = await read();
    const by = (s: AdminStats) =>
      s.jobs?.by_status ?? { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    expect(by(after).queued - by(before).queued).toBe(1);
    expect(by(after).cancelled - by(before).cancelled).toBe(1);
    expect(by(after).failed - by(before).failed).toBe(1);
    expect(by(after).running - by(before).running).toBe(0);
    expect((after.jobs?.waiting_in_queue ?? 0) - (before.jobs?.waiting_in_queue ?? 0)).toBe(1);
    expect((after.jobs?.dead_lettered ?? 0) - (before.jobs?.dead_lettered ?? 0)).toBe(1);
    expect(after.jobs?.oldest_queued_age_s).toBeGreaterThanOrEqual(0);
    expect(queued.status).toBe("queued");
    expect(after.unavailable).toEqual([]);
  });

  it("reports database health on D1 and on PostgreSQL", async () => {
    const d1 = await read();
    expect(d1.database).toEqual({ backend: "d1", ok: true, latency_ms: expect.any(Number) });
    const pg = await read({ ...env, DB_BACKEND: "postgres" } as Env);
    expect(pg.database).toEqual({ backend: "postgres", ok: true, latency_ms: expect.any(Number) });
    expect(pg.jobs?.by_status).toBeDefined();
  });

  it("reports an unreachable database as not ok, and still answers the other figures", async () => {
    const broken = {
      ...env,
      DB_BACKEND: "postgres",
      HYPERDRIVE: { connectionString: "postgres://nobody:secretpw@127.0.0.1:1/none" },
    } as unknown as Env;
    const res = await stats(ADMIN_TOKEN, broken);
    expect(res.status).toBe(200);
    const body = await res.json<AdminStats>();
    expect(body.database).toEqual({ backend: "postgres", ok: false, latency_ms: null });
    expect(body.jobs).toBeNull();
    expect(body.unavailable).toEqual(["jobs", "credits"]);
    expect(body.sockets).not.toBeNull();
    expect(JSON.stringify(body)).not.toContain("secretpw");
  });

  it("counts open sockets, per user and in total, as they open and close", async () => {
    const user = await newUser();
    const base = (await read()).sockets?.open ?? 0;
    const first = await openSocket(user);
    const second = await openSocket(user);
    await waitFor(async () => (await sessionStats(env).openFor(user.user.id)) === 2);
    const during = await read();
    expect(during.sockets?.open).toBe(base + 2);
    expect(during.sockets?.users).toBeGreaterThanOrEqual(1);

    first.close();
    await waitFor(async () => (await sessionStats(env).openFor(user.user.id)) === 1);
    second.close();
    await waitFor(async () => (await sessionStats(env).openFor(user.user.id)) === 0);
    expect((await read()).sockets?.open).toBe(base);
  });

  it("counts rate-limit rejections per zone from the limiter's stats", async () => {
    const before = (await read()).rate_limit?.rejections ?? { api: 0, strict: 0 };
    const ip = uniqueIp();
    const fetchApp = appWith({ RATE_API_PER_S: "0.001", RATE_API_BURST: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetchApp("/api/v1/characters", { ip })).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    await flushReports(limiterOf(ip));
    const after = await read();
    expect((after.rate_limit?.rejections.api ?? 0) - before.api).toBe(3);
    expect(after.rate_limit?.lag_s).toBe(5);
  });
});

describe("the socket counter (SessionStats)", () => {
  it("refuses a malformed report", () => {
    expect(() => parseSocketReport({ userId: "../x", open: 1, at: Date.now() })).toThrow(/userId/);
    expect(() => parseSocketReport({ userId: "usr_ok", open: -1, at: Date.now() })).toThrow(/open/);
    expect(() => parseSocketReport({ userId: "usr_ok", open: 1.5, at: Date.now() })).toThrow(/open/);
    expect(() => parseSocketReport({ userId: "usr_ok", open: 1, at: "now" })).toThrow(/at/);
    expect(parseSocketReport({ userId: "usr_ok", open: 2, at: 5, extra: true })).toEqual({
      userId: "usr_ok",
      open: 2,
      at: 5,
    });
  });

  it("keeps the newer of two reports that overtook each other", async () => {
    const stub = sessionStats(env);
    const id = `usr_race${crypto.randomUUID().slice(0, 8)}`;
    await stub.report({ userId: id, open: 3, at: 2_000 });
    await stub.report({ userId: id, open: 1, at: 1_000 });
    expect(await stub.openFor(id)).toBe(3);
    await stub.report({ userId: id, open: 0, at: 1_500 });
    expect(await stub.openFor(id)).toBe(3);
    await stub.report({ userId: id, open: 0, at: 3_000 });
    expect(await stub.openFor(id)).toBe(0);
  });

  it("is reconciled by the nightly run for users silent for an hour", async () => {
    const user = await newUser();
    // A count left behind by a session that restarted without a close event.
    await sessionStats(env).report({ userId: user.user.id, open: 2, at: Date.now() - 2 * 3600_000 });
    const { checked } = await reconcileSocketCounts(env);
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(await sessionStats(env).openFor(user.user.id)).toBe(0);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(25);
  }
}

describe("GET /api/v1/admin/stats: spend", () => {
  it("shows today's spend and the top spenders, and writes a credits data point per charge", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const metrics = { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) };
    const h = harness({ METRICS: metrics });
    const big = await newUser("Big spender");
    const res = await h.fetch(big, "/generate", {
      json: { prompt: "spend", width: 1024, height: 1024, steps: 50 },
    });
    expect(res.status).toBe(202);
    const figures = await read();
    const today = new Date().toISOString().slice(0, 10);
    expect(figures.credits?.by_day[0]?.day).toBe(today);
    expect(figures.credits?.by_day[0]?.credits).toBeGreaterThanOrEqual(10);
    expect(figures.credits?.top_spenders).toContainEqual({ user_id: big.user.id, used: 10 });
    expect(points.find((p) => p.indexes?.[0] === "credits")).toEqual({
      indexes: ["credits"],
      blobs: ["credits", "image", "charged", big.user.id],
      doubles: [1, 10],
    });
  });
});
