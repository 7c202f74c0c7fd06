import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SUBMIT_LEASE_S } from "../../src/generation/job-service";
import {
  createJob,
  directive,
  emulatorJobs,
  getJob,
  harness,
  newUser,
  storedImagesOf,
  uniqueTag,
  upstreamStatus,
  waitForEmulatorJob,
} from "./generation.support";

/**
 * At-least-once delivery: every message and webhook may arrive twice, concurrently or
 * later. These tests deliver them by hand (the harness's queue only records) and check that
 * no second upstream job and no second image set ever appears.
 */
describe("queue redelivery", { timeout: 30_000 }, () => {
  it("submits once when the same submit message is delivered twice at once, and again later", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `twice delivered ${tag}` }, h.fetch);
    const [submit] = h.queue.take();
    expect(submit?.body).toEqual({ type: "submit", job_id: job.id });
    if (!submit) return;

    const [first, second] = await Promise.all([h.deliver([submit.body]), h.deliver([submit.body])]);
    // One delivery submitted; the other either found the claim (retry later) or the recorded id (poll).
    expect([
      first.explicitAcks.length + first.retryMessages.length,
      second.explicitAcks.length + second.retryMessages.length,
    ]).toEqual([1, 1]);
    expect(await emulatorJobs(tag)).toHaveLength(1);

    await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    const late = await h.deliver([submit.body]);
    expect(late.explicitAcks).toHaveLength(1);
    expect(await emulatorJobs(tag)).toHaveLength(1);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("succeeded");

    // Every poll message scheduled so far, delivered twice more: still one image set.
    const polls = h.queue.take().map((m) => m.body);
    await Promise.all([h.deliver(polls), h.deliver(polls)]);
    const done = await getJob(user, job.id, h.fetch);
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toBe(1);
    expect(await storedImagesOf(job.id)).toHaveLength(1);
    expect(await emulatorJobs(tag)).toHaveLength(1);
  });

  it("schedules delayed /status polls after submitting, backing off", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `slow ${tag} ${directive({ gpu: 60_000 })}` }, h.fetch);
    await h.deliverSent();
    const [firstPoll] = h.queue.take();
    expect(firstPoll).toEqual({ body: { type: "poll", job_id: job.id, n: 0 }, delaySeconds: 1 });
    await h.deliver([{ type: "poll", job_id: job.id, n: 3 }]);
    expect(h.queue.take()).toEqual([{ body: { type: "poll", job_id: job.id, n: 4 }, delaySeconds: 2 }]);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("running");
  });

  it("acks and drops a malformed message without touching any job", async () => {
    const h = harness();
    const result = await h.deliver([{ type: "submit", job_id: "../../etc/passwd" } as never]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });
});

describe("the crash window between claiming a submit and recording the upstream id", {
  timeout: 30_000,
}, () => {
  async function claimedButNotRecorded(h: ReturnType<typeof harness>, prompt: string, claimedAgoS: number) {
    const user = await newUser();
    const job = await createJob(user, { prompt }, h.fetch);
    const [submit] = h.queue.take();
    const claimedAt = new Date(Date.now() - claimedAgoS * 1000).toISOString();
    // What a consumer that died right after its claim leaves behind.
    await env.DB.prepare(
      "UPDATE image_generation_history SET status = 'running', attempts = 1, started_at = ?, updated_at = ? WHERE id = ?",
    )
      .bind(claimedAt, claimedAt, job.id)
      .run();
    return { user, job, submit: submit?.body ?? { type: "submit" as const, job_id: job.id } };
  }

  it("does not submit while the claim is fresh: the message comes back after the lease", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, job, submit } = await claimedButNotRecorded(h, `fresh claim ${tag}`, 5);
    const result = await h.deliver([submit]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.delaySeconds).toBeGreaterThan(SUBMIT_LEASE_S - 10);
    expect(await emulatorJobs(tag)).toEqual([]);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("running");
  });

  it("starts a second attempt once the claim is stale, and that attempt submits exactly once", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, job, submit } = await claimedButNotRecorded(h, `stale claim ${tag}`, SUBMIT_LEASE_S + 5);
    await Promise.all([h.deliver([submit]), h.deliver([submit])]);
    expect(await emulatorJobs(tag)).toHaveLength(1);
    await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    await h.deliverSent();
    const done = await getJob(user, job.id, h.fetch);
    expect(done.status).toBe("succeeded");
    expect(done.attempts).toBe(2);
  });

  it("gives the claim back when /run keeps failing, so the redelivery submits at once", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `outage ${tag} ${directive({ submit: "503x4" })}` }, h.fetch);
    const [submit] = h.queue.take();
    if (!submit) throw new Error("no submit message");

    const first = await h.deliver([submit.body]);
    expect(first.retryMessages).toHaveLength(1);
    expect(await getJob(user, job.id, h.fetch)).toMatchObject({
      status: "queued",
      attempts: 1,
      started_at: null,
    });
    expect(await emulatorJobs(tag)).toEqual([]);

    const second = await h.deliver([submit.body], "generation", 2);
    expect(second.explicitAcks).toHaveLength(1);
    expect(await getJob(user, job.id, h.fetch)).toMatchObject({ status: "running", attempts: 2 });
    expect(await emulatorJobs(tag)).toHaveLength(1);
  });

  it("keeps the claim when /run got no answer at all, so only the lease's end allows a new attempt", async () => {
    const h = harness({ RUNPOD_API_BASE: "http://127.0.0.1:9/v2" });
    const user = await newUser();
    const job = await createJob(user, { prompt: `unreachable ${uniqueTag()}` }, h.fetch);
    const [submit] = h.queue.take();
    if (!submit) throw new Error("no submit message");
    const first = await h.deliver([submit.body]);
    expect(first.retryMessages).toHaveLength(1);
    expect(await getJob(user, job.id, h.fetch)).toMatchObject({ status: "running", attempts: 1 });
    const second = await h.deliver([submit.body], "generation", 2);
    expect(second.retryMessages[0]?.delaySeconds).toBeGreaterThan(SUBMIT_LEASE_S - 10);
    expect((await getJob(user, job.id, h.fetch)).attempts).toBe(1);
  });

  it("cancels the upstream job it just created when the job was cancelled during the submit", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    // Each /run waits out two 429s (Retry-After: 1 s), leaving time to cancel mid-submit.
    const job = await createJob(
      user,
      { prompt: `raced ${tag} ${directive({ submit: "429x2", job: "hang" })}` },
      h.fetch,
    );
    const delivering = h.deliverSent();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancel = await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    await delivering;
    const [upstream] = await emulatorJobs(tag);
    expect(upstream).toMatchObject({ cancelled: true, status: "CANCELLED" });
    expect((await getJob(user, job.id, h.fetch)).status).toBe("cancelled");
  });
});

describe("webhooks", { timeout: 30_000 }, () => {
  it("stores one image set when RunPod calls the webhook twice at once", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `echo ${tag} ${directive({ webhook: "twice" })}` }, h.fetch);
    await h.deliverSent();
    const upstream = await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    const payload = await upstreamStatus(upstream);

    const responses = await Promise.all([
      h.deliverWebhook(upstream, payload),
      h.deliverWebhook(upstream, payload),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const done = await getJob(user, job.id, h.fetch);
    expect(done.status).toBe("succeeded");
    expect(await storedImagesOf(job.id)).toHaveLength(1);

    // RunPod's retry of the same webhook, after the fact, changes nothing.
    const retried = await h.deliverWebhook(upstream, payload);
    expect(retried.status).toBe(200);
    expect(await getJob(user, job.id, h.fetch)).toEqual(done);
    expect(await emulatorJobs(tag)).toHaveLength(1);
  });

  it("finishes a job from the webhook alone, confirmed with /status", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `hinted ${tag}` }, h.fetch);
    await h.deliverSent();
    h.queue.take(); // the scheduled polls never run
    const upstream = await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    // The body claims failure; /status says COMPLETED, and /status wins.
    const res = await h.deliverWebhook(upstream, { id: upstream.id, status: "FAILED", error: "lies" });
    expect(await res.json()).toEqual({ received: true });
    expect((await getJob(user, job.id, h.fetch)).status).toBe("succeeded");
  });

  it("ignores a webhook about an upstream job the job never recorded", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `orphan ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    const upstream = await waitForEmulatorJob(tag, () => true);
    const before = await getJob(user, job.id, h.fetch);
    const res = await h.deliverWebhook(upstream, { id: "some-other-upstream-job", status: "COMPLETED" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: false });
    expect(await getJob(user, job.id, h.fetch)).toEqual(before);
  });
});
