import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  createJob,
  directive,
  emulatorJobs,
  getJob,
  harness,
  newUser,
  uniqueTag,
  waitForEmulatorJob,
} from "./generation.support";

/** The cron sweep is the net under lost messages; this file holds no other running jobs. */
describe("scheduled sweep", { timeout: 30_000 }, () => {
  it("fails a running job past its deadline whose poll messages were lost, and cancels it upstream", async () => {
    const h = harness({ GENERATION_TIMEOUT_S: "1" });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `forgotten ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    h.queue.take(); // the poll messages are lost
    await waitForEmulatorJob(tag, (j) => j.status === "IN_PROGRESS");
    await new Promise((resolve) => setTimeout(resolve, 1200));

    await h.scheduled();
    const failed = await getJob(user, job.id, h.fetch);
    expect(failed).toMatchObject({ status: "failed", error: { code: "timeout" } });
    expect((await emulatorJobs(tag))[0]).toMatchObject({ cancelled: true, status: "CANCELLED" });
  });

  it("fails a running job RunPod forgot (a restarted dev server) with upstream_lost long before its deadline (16.9)", async () => {
    const h = harness({ GENERATION_TIMEOUT_S: "180" });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `restarted ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    h.queue.take(); // the local queue is gone with the restart...
    await waitForEmulatorJob(tag, (j) => j.status === "IN_PROGRESS");
    const forgot = await fetch(`${env.EMULATOR_URL}/_emulator/forget?prompt_contains=${tag}`, {
      method: "POST",
    });
    expect(await forgot.json()).toEqual({ forgotten: 1 }); // ...and so is the emulator's job
    // Last touched 90 s ago: past the sweep's minute, half-way to the 180 s deadline.
    const ninetySecondsAgo = new Date(Date.now() - 90_000).toISOString();
    await env.DB.prepare("UPDATE image_generation_history SET updated_at = ?, started_at = ? WHERE id = ?")
      .bind(ninetySecondsAgo, ninetySecondsAgo, job.id)
      .run();

    await h.scheduled();
    const failed = await getJob(user, job.id, h.fetch);
    expect(failed).toMatchObject({ status: "failed", error: { code: "upstream_lost" } });
    expect(failed.error?.message).toMatch(/GPU worker lost the job/);
  });

  it("leaves a running job RunPod still works on running, well inside its deadline", async () => {
    const h = harness({ GENERATION_TIMEOUT_S: "180" });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `busy ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    h.queue.take();
    await waitForEmulatorJob(tag, (j) => j.status === "IN_PROGRESS");
    const ninetySecondsAgo = new Date(Date.now() - 90_000).toISOString();
    await env.DB.prepare("UPDATE image_generation_history SET updated_at = ?, started_at = ? WHERE id = ?")
      .bind(ninetySecondsAgo, ninetySecondsAgo, job.id)
      .run();
    await h.scheduled();
    expect((await getJob(user, job.id, h.fetch)).status).toBe("running");
    await fetch(`${env.EMULATOR_URL}/_emulator/forget?prompt_contains=${tag}`, { method: "POST" });
  });

  it("finishes instead of failing a job RunPod completed while its messages were lost", async () => {
    const h = harness({ GENERATION_TIMEOUT_S: "1" });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `late ${tag}` }, h.fetch);
    await h.deliverSent();
    h.queue.take();
    await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await h.scheduled();
    expect((await getJob(user, job.id, h.fetch)).status).toBe("succeeded");
  });

  it("re-sends the submit message of a job queued for over 10 minutes, once", async () => {
    const h = harness();
    const user = await newUser();
    const job = await createJob(user, { prompt: `stranded ${uniqueTag()}` }, h.fetch);
    h.queue.take();
    const longAgo = new Date(Date.now() - 11 * 60 * 1000).toISOString();
    await env.DB.prepare("UPDATE image_generation_history SET updated_at = ? WHERE id = ?")
      .bind(longAgo, job.id)
      .run();

    await h.scheduled();
    expect(h.queue.take()).toEqual([{ body: { type: "submit", job_id: job.id }, delaySeconds: undefined }]);
    await h.scheduled();
    expect(h.queue.take()).toEqual([]);
  });

  it("prunes idempotency keys older than 24 h", async () => {
    const h = harness();
    const old = new Date(Date.now() - 25 * 3600 * 1000).toISOString();
    await env.DB.prepare(
      "INSERT INTO idempotency_keys (user_id, key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)",
    )
      .bind("usr_sweep", "k", "h", "gen_x", old)
      .run();
    await h.scheduled();
    expect(
      await env.DB.prepare("SELECT * FROM idempotency_keys WHERE user_id = 'usr_sweep'").first(),
    ).toBeNull();
  });
});
