import { describe, expect, it } from "vitest";
import {
  createJob,
  directive,
  getJob,
  harness,
  newUser,
  uniqueTag,
  upstreamStatus,
  waitForEmulatorJob,
} from "./generation.support";

describe("another user's job", { timeout: 30_000 }, () => {
  it("is 404 to read and to cancel, and absent from their history", async () => {
    const h = harness();
    const owner = await newUser();
    const intruder = await newUser();
    const job = await createJob(owner, { prompt: `mine ${uniqueTag()}` }, h.fetch);

    const read = await h.fetch(intruder, `/generations/${job.id}`);
    expect(read.status).toBe(404);
    expect(read.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    const cancel = await h.fetch(intruder, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(404);
    expect((await getJob(owner, job.id, h.fetch)).status).toBe("queued");
    const list = await (await h.fetch(intruder, "/generations")).json<{ items: unknown[] }>();
    expect(list.items).toEqual([]);
  });

  it("answers 400 for an id that is not an id and 401 without a token", async () => {
    const h = harness();
    const user = await newUser();
    expect((await h.fetch(user, "/generations/not%20an%20id")).status).toBe(400);
    expect((await h.fetch(null, "/generations")).status).toBe(401);
    expect((await h.fetch(null, "/generations/gen_x/cancel", { method: "POST" })).status).toBe(401);
  });
});

describe("RunPod webhook", { timeout: 30_000 }, () => {
  async function runningJob() {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `guarded ${tag} ${directive({ gpu: 50 })}` }, h.fetch);
    await h.deliverSent();
    h.queue.take();
    const upstream = await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    return { h, user, job, upstream, payload: await upstreamStatus(upstream) };
  }

  it("answers 401 to a forged token and changes nothing", async () => {
    const { h, user, job, upstream, payload } = await runningJob();
    const before = await getJob(user, job.id, h.fetch);
    expect(before.status).toBe("running");
    const real = new URL(upstream.webhook ?? "").pathname;
    const forged = [
      real.replace(/[0-9a-f]{64}$/, "0".repeat(64)),
      real.replace(/[0-9a-f]{64}$/, "short"),
      real.replace(/\/[0-9a-f]{64}$/, "/test-webhook-secret"),
      real.replace(/[0-9a-f]$/, (c) => (c === "0" ? "1" : "0")),
    ];
    for (const path of forged) {
      const res = await h.deliverWebhook(upstream, payload, path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    }
    expect(await getJob(user, job.id, h.fetch)).toEqual(before);
  });

  it("answers 401 to one job's token used for another job", async () => {
    const { h, upstream, payload } = await runningJob();
    const other = await runningJob();
    const token = new URL(upstream.webhook ?? "").pathname.split("/").pop();
    const res = await other.h.deliverWebhook(
      other.upstream,
      payload,
      `/api/v1/webhooks/runpod/${other.job.id}/${token}`,
    );
    expect(res.status).toBe(401);
    expect((await getJob(other.user, other.job.id, other.h.fetch)).status).toBe("running");
    expect((await h.deliverWebhook(upstream, payload)).status).toBe(200);
  });

  it("refuses every call when no RUNPOD_WEBHOOK_SECRET is configured, and registers no webhook", async () => {
    const h = harness({ RUNPOD_WEBHOOK_SECRET: "" });
    const user = await newUser();
    const tag = uniqueTag();
    await createJob(user, { prompt: `pollonly ${tag}` }, h.fetch);
    await h.deliverSent();
    const upstream = await waitForEmulatorJob(tag, () => true);
    expect(upstream.webhook).toBeNull();
    const res = await h.deliverWebhook(upstream, {}, `/api/v1/webhooks/runpod/gen_x/${"0".repeat(64)}`);
    expect(res.status).toBe(401);
  });

  it("validates the body only after the URL, and rejects a malformed one", async () => {
    const { h, user, job, upstream } = await runningJob();
    const res = await h.deliverWebhook(upstream, { status: 42 });
    expect(res.status).toBe(400);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("running");
  });
});

describe("secrets", { timeout: 30_000 }, () => {
  it("never shows the RunPod key or the webhook secret in a job or in the registered URL", async () => {
    const { h, user, job, upstream } = await (async () => {
      const h = harness();
      const user = await newUser();
      const tag = uniqueTag();
      const job = await createJob(user, { prompt: `secretive ${tag}` }, h.fetch);
      await h.deliverSent();
      return { h, user, job, upstream: await waitForEmulatorJob(tag, () => true) };
    })();
    expect(upstream.webhook).not.toContain("test-webhook-secret");
    const text = JSON.stringify(await getJob(user, job.id, h.fetch));
    expect(text).not.toContain("test-runpod-key");
    expect(text).not.toContain("test-webhook-secret");
  });
});
