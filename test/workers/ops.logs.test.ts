import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { type QueueLogLine, withQueueLog } from "../../src/ops/queue-log";
import { loggablePath } from "../../src/ops/redact";
import { type RequestLogLine, requestWeight, SLOW_REQUEST_MS } from "../../src/ops/request-log";
import { createJob, harness, newUser } from "./generation.support";
import { captureConsole, RecordingDataset } from "./ops.support";

const ORIGIN = "http://127.0.0.1:8787";

/** The test environment with every routine request logged (the shipped default keeps 1 in 100). */
const EVERY_LINE = { ...env, LOG_SAMPLE_RATE: "1" } as Env;

/** Calls the deployed handler in this isolate (so console spies see the Worker's lines). */
async function call(path: string, init: RequestInit = {}, testEnv: Env = EVERY_LINE): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${ORIGIN}${path}`, init) as Parameters<typeof worker.fetch>[0],
    testEnv,
    ctx,
  );
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

let logs = captureConsole();
afterEach(() => {
  logs.restore();
  logs = captureConsole();
});

describe("the request log line", () => {
  it("is one JSON line per request with request id, method, route pattern, status, duration, user and rate-limit decision", async () => {
    const user = await newUser();
    logs.restore();
    logs = captureConsole();
    const res = await call("/api/v1/me", {
      headers: {
        Authorization: `Bearer ${user.token}`,
        "X-Request-Id": "req-shape-1",
        "CF-Connecting-IP": user.ip,
      },
    });
    expect(res.status).toBe(200);
    const lines = logs.lines<RequestLogLine>("request");
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).toEqual({
      level: "info",
      msg: "request",
      request_id: "req-shape-1",
      method: "GET",
      route: "/api/v1/me",
      path: "/api/v1/me",
      status: 200,
      duration_ms: expect.any(Number),
      user_id: user.user.id,
      rate_limit: {
        zone: "api",
        allowed: true,
        remaining: expect.any(Number),
        by: expect.stringMatching(/^(lease|shard)$/),
      },
      weight: 1,
    });
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("names the route pattern, not the concrete path, and null for no route", async () => {
    await call("/api/v1/characters/chr_sample_marrow_vell");
    await call("/api/v1/no-such-thing");
    await call("/api/v1/characters/popular?limit=abc");
    const [found, missing, popular] = logs.lines<RequestLogLine>("request");
    expect(found).toMatchObject({ route: "/api/v1/characters/:id", status: 200, user_id: null });
    expect(missing).toMatchObject({ route: null, path: "/api/v1/no-such-thing", status: 404 });
    // `/characters/:id` matches this path too, but the popular route answered (with a 400).
    expect(popular).toMatchObject({ route: "/api/v1/characters/popular", status: 400 });
  });

  it("records a refused request with its zone and decision", async () => {
    const strict = { ...EVERY_LINE, RATE_API_PER_S: "0.001", RATE_API_BURST: "1" } as Env;
    const ip = `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    await call("/api/v1/characters", { headers: { "CF-Connecting-IP": ip } }, strict);
    const refused = await call("/api/v1/characters", { headers: { "CF-Connecting-IP": ip } }, strict);
    expect(refused.status).toBe(429);
    const [, line] = logs.lines<RequestLogLine>("request");
    expect(line).toMatchObject({
      status: 429,
      route: "/api/v1/characters",
      rate_limit: { zone: "api", allowed: false, remaining: 0, by: "shard" },
    });
  });

  it("never contains a bearer token, a ?token= or a webhook secret", async () => {
    const user = await newUser();
    const webhookSecret = "test-webhook-secret";
    const pathToken = "pathtoken0123456789secret";
    logs.restore();
    logs = captureConsole();
    await call("/api/v1/me", { headers: { Authorization: `Bearer ${user.token}` } });
    await call(`/api/v1/ws?token=${encodeURIComponent(user.token)}`);
    await call(`/api/v1/webhooks/runpod/job_x/${pathToken}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "x", status: "COMPLETED" }),
    });
    await call(`/api/v1/webhooks/runpod/${webhookSecret}/job_x/${pathToken}?secret=${webhookSecret}`, {
      method: "POST",
    });
    await call(`/api/v1/admin/stats`, { headers: { Authorization: "Bearer test-admin-token" } });
    await call("/images/abcdefghijklmnopqrstuvwxyz234567/x.png");

    const lines = logs.lines<RequestLogLine>("request");
    expect(lines.length).toBeGreaterThanOrEqual(6);
    const everything = logs.raw.join("\n");
    for (const secret of [
      user.token,
      encodeURIComponent(user.token),
      pathToken,
      webhookSecret,
      "test-admin-token",
      "abcdefghijklmnopqrstuvwxyz234567",
    ]) {
      expect(everything).not.toContain(secret);
    }
    const paths = lines.map((l) => l.path);
    expect(paths).toContain("/api/v1/ws");
    expect(paths).toContain("/api/v1/webhooks/runpod/[redacted]");
    expect(paths).toContain("/images/[redacted]");
    expect(lines.find((l) => l.route === "/api/v1/webhooks/runpod/:job_id/:token")?.status).toBe(401);
  });

  it("writes one `request` data point per request when METRICS is bound, and none is needed", async () => {
    const metrics = new RecordingDataset();
    await call("/api/v1/characters/chr_sample_marrow_vell", {}, {
      ...EVERY_LINE,
      METRICS: metrics,
    } as unknown as Env);
    const [point] = metrics.of("request");
    expect(point).toEqual({
      indexes: ["request"],
      blobs: ["request", "/api/v1/characters/:id", "GET", "200", "api", "allowed"],
      doubles: [1, expect.any(Number), 200],
    });
    const unbound = { ...EVERY_LINE } as Partial<Env>;
    delete unbound.METRICS;
    expect((await call("/api/v1/characters", {}, unbound as Env)).status).toBe(200);
  });
});

describe("the request log's sampling (LOG_SAMPLE_RATE)", () => {
  it("keeps every 5xx, every 4xx but 429 and every slow request; samples the routine rest", () => {
    const random = vi.spyOn(Math, "random");
    try {
      random.mockReturnValue(0.999); // a draw that keeps no sampled request
      for (const status of [400, 401, 404, 409, 413, 500, 503])
        expect(requestWeight(status, 3, "0.01")).toBe(1);
      expect(requestWeight(200, SLOW_REQUEST_MS, "0.01")).toBe(1);
      for (const status of [101, 200, 201, 204, 302, 429]) expect(requestWeight(status, 3, "0.01")).toBe(0);
      random.mockReturnValue(0.0099); // below 1 in 100: kept, standing for 100 requests
      for (const status of [200, 302, 429]) expect(requestWeight(status, 3, "0.01")).toBe(100);
      random.mockReturnValue(0.01);
      expect(requestWeight(200, 3, "0.01")).toBe(0);
      random.mockReturnValue(0.49);
      expect(requestWeight(200, 3, "0.5")).toBe(2);
      random.mockReturnValue(0.999);
      expect(requestWeight(200, 3, "1")).toBe(1);
    } finally {
      random.mockRestore();
    }
  });

  it.each([undefined, "", "abc", "0", "-1", "1.5", "NaN", "Infinity"])(
    "takes LOG_SAMPLE_RATE=%j as the default, one in 100",
    (rate) => {
      const random = vi.spyOn(Math, "random");
      try {
        random.mockReturnValue(0.0099);
        expect(requestWeight(200, 3, rate)).toBe(100);
        random.mockReturnValue(0.011);
        expect(requestWeight(200, 3, rate)).toBe(0);
      } finally {
        random.mockRestore();
      }
    },
  );

  it("as shipped, logs about one routine request in 100 with weight 100, and every failure", async () => {
    const metrics = new RecordingDataset();
    const shipped = { ...env, METRICS: metrics } as unknown as Env;
    delete (shipped as { LOG_SAMPLE_RATE?: string }).LOG_SAMPLE_RATE;
    for (let i = 0; i < 400; i++)
      expect((await call("/api/v1/characters/popular", {}, shipped)).status).toBe(200);
    expect((await call("/api/v1/no-such-thing", {}, shipped)).status).toBe(404);
    expect((await call("/api/v1/characters/popular?limit=abc", {}, shipped)).status).toBe(400);

    const lines = logs.lines<RequestLogLine>("request");
    const routine = lines.filter((l) => l.status === 200);
    // Binomial(400, 1/100): mean 4; 30 or more has probability far below 1e-15.
    expect(routine.length).toBeLessThan(30);
    for (const line of routine) expect(line.weight).toBe(100);
    expect(lines.filter((l) => l.status !== 200).map((l) => [l.status, l.weight])).toEqual([
      [404, 1],
      [400, 1],
    ]);
    // The data points follow the lines: one per kept line, double1 its weight.
    const points = metrics.of("request");
    expect(points.map((p) => p.doubles?.[0])).toEqual(lines.map((l) => l.weight));
  });

  it("keeps about LOG_SAMPLE_RATE of routine requests, and their weights add up to the requests", async () => {
    const half = { ...env, LOG_SAMPLE_RATE: "0.5" } as Env;
    for (let i = 0; i < 400; i++) await call("/api/v1/characters/popular", {}, half);
    const lines = logs.lines<RequestLogLine>("request");
    // Binomial(400, 1/2): mean 200, sd 10; 140..260 is six sd either way.
    expect(lines.length).toBeGreaterThan(140);
    expect(lines.length).toBeLessThan(260);
    expect(new Set(lines.map((l) => l.weight))).toEqual(new Set([2]));
    const counted = lines.reduce((sum, l) => sum + l.weight, 0);
    expect(Math.abs(counted - 400)).toBeLessThan(120);
  });
});

describe("loggablePath", () => {
  it.each([
    ["/api/v1/webhooks/runpod/job_1/s3cret", "/api/v1/webhooks/runpod/[redacted]"],
    ["/api/v1/webhooks/runpod/s3cret/job_1/more", "/api/v1/webhooks/runpod/[redacted]"],
    ["/api/v1/webhooks/%2e%2e/x", "/api/v1/webhooks/[redacted]"],
    ["/images/tok/file.png", "/images/[redacted]"],
    ["/api/v1/ws?token=abc", "/api/v1/ws"],
    ["/api/v1/chars\u0000\u001b[31m", "/api/v1/chars[31m"],
  ])("%s -> %s", (path, expected) => {
    expect(loggablePath(path)).toBe(expected);
  });

  it("truncates long paths", () => {
    expect(loggablePath(`/api/v1/${"a".repeat(500)}`)).toHaveLength(203);
  });
});

describe("the queue message log line", () => {
  it("is one line per message with queue, message id, job id, attempt, outcome and duration", async () => {
    const metrics = new RecordingDataset();
    const h = harness({ METRICS: metrics });
    const user = await newUser();
    const job = await createJob(user, { prompt: "a queue log line" }, h.fetch);
    const [submit] = h.queue.take();
    if (!submit) throw new Error("no submit message");
    logs.restore();
    logs = captureConsole();
    await h.deliver([submit.body, { type: "submit", job_id: "../../etc" } as never], "generation", 3);
    const lines = logs.lines<QueueLogLine>("queue message");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      level: "info",
      msg: "queue message",
      queue: "generation",
      message_id: expect.stringMatching(/^msg-/),
      message_type: "submit",
      job_id: job.id,
      attempt: 3,
      outcome: "ack",
      retry_delay_s: null,
      duration_ms: expect.any(Number),
    });
    // The malformed body's job id is not logged: it is not an id.
    expect(lines[1]).toMatchObject({ job_id: null, outcome: "ack" });
    expect(metrics.of("queue_message")[0]?.blobs).toEqual(["queue_message", "generation", "ack", "submit"]);
    // The submit's job transitions were counted as `job` points (queued -> running).
    expect(metrics.of("job").map((p) => p.blobs?.[1])).toContain("running");
  });

  it("records a retry with its delay", async () => {
    const h = harness();
    logs.restore();
    logs = captureConsole();
    const ctx = createExecutionContext();
    const batch = createMessageBatch<unknown>("generation", [
      { id: "retry-me", timestamp: new Date(), attempts: 1, body: { type: "submit", job_id: "job_absent" } },
    ]);
    await withQueueLog(async (b) => {
      b.messages[0]?.retry({ delaySeconds: 7 });
    })(batch, h.env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["retry-me"]);
    expect(logs.lines<QueueLogLine>("queue message")[0]).toMatchObject({
      outcome: "retry",
      retry_delay_s: 7,
      level: "warn",
    });
  });
});
