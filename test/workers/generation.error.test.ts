import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  createJob,
  directive,
  emulatorJobs,
  generate,
  getJob,
  harness,
  newUser,
  SMALL,
  uniqueTag,
  waitForEmulatorJob,
} from "./generation.support";
import { call } from "./support/session";

interface Problem {
  status: number;
  code: string;
  errors?: { path: string; message: string }[];
}

describe("POST /generate validation", { timeout: 30_000 }, () => {
  const cases: Array<[string, unknown, string]> = [
    ["a missing prompt", { width: 512 }, "prompt"],
    ["an empty prompt", { prompt: "   " }, "prompt"],
    ["a prompt over 2000 characters", { prompt: "x".repeat(2001) }, "prompt"],
    ["a width that is not a multiple of 64", { prompt: "a", width: 300 }, "width"],
    ["a height under 256", { prompt: "a", height: 192 }, "height"],
    ["a height over 1536", { prompt: "a", height: 1600 }, "height"],
    ["steps over 100", { prompt: "a", steps: 101 }, "steps"],
    ["a negative seed", { prompt: "a", seed: -1 }, "seed"],
    ["a seed over 2^32-1", { prompt: "a", seed: 2 ** 32 }, "seed"],
    ["guidance over 30", { prompt: "a", guidance: 31 }, "guidance"],
    ["a width given as a string", { prompt: "a", width: "512" }, "width"],
    ["an unknown field", { prompt: "a", sampler: "euler" }, "(root)"],
    ["a malformed character id", { prompt: "a", character_id: "../x" }, "character_id"],
  ];
  it.each(cases)("rejects %s with 400 naming the field", async (_name, body, path) => {
    const user = await newUser();
    const res = await generate(user, body);
    expect(res.status).toBe(400);
    const problem = await res.json<Problem>();
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it("rejects malformed JSON with 400 and a non-JSON body with 415", async () => {
    const user = await newUser();
    const bad = await call(user, "/generate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{",
    });
    expect(bad.status).toBe(400);
    const text = await call(user, "/generate", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(415);
  });

  it("rejects an Idempotency-Key longer than 128 characters", async () => {
    const user = await newUser();
    const res = await generate(user, { prompt: "a" }, { "Idempotency-Key": "k".repeat(129) });
    expect(res.status).toBe(400);
    expect(
      await generate(user, { ...SMALL, prompt: "a" }, { "Idempotency-Key": "k".repeat(128) }).then(
        (r) => r.status,
      ),
    ).toBe(202);
  });

  it("answers 404 for a character the caller cannot see, and accepts a public one", async () => {
    const h = harness();
    const owner = await newUser();
    const other = await newUser();
    const res = await call(owner, "/characters", { json: { name: "Private muse", is_public: false } });
    const privateCharacter = await res.json<{ id: string }>();
    const denied = await generate(other, { prompt: "a", character_id: privateCharacter.id }, {}, h.fetch);
    expect(denied.status).toBe(404);
    const publicList = await (await call(null, "/characters?limit=1")).json<{ items: { id: string }[] }>();
    const publicId = publicList.items[0]?.id;
    const job = await createJob(other, { prompt: "a", character_id: publicId }, h.fetch);
    expect(job.character_id).toBe(publicId);
  });

  it("requires a bearer token", async () => {
    const res = await call(null, "/generate", { json: { prompt: "a" } });
    expect(res.status).toBe(401);
  });
});

describe("Idempotency-Key", { timeout: 30_000 }, () => {
  it("returns the original job for the same key and body, 409 for another body", async () => {
    const h = harness();
    const user = await newUser();
    const body = { ...SMALL, prompt: `same ${uniqueTag()}` };
    const key = crypto.randomUUID();
    const first = await generate(user, body, { "Idempotency-Key": key }, h.fetch);
    expect(first.status).toBe(202);
    const job = await first.json<{ id: string }>();

    // Same body, with defaults spelled out and keys reordered: the same request.
    const replay = await generate(
      user,
      { negative_prompt: "", guidance: 7, ...body },
      { "Idempotency-Key": key },
      h.fetch,
    );
    expect(replay.status).toBe(200);
    expect(replay.headers.get("Location")).toBe(`/api/v1/generations/${job.id}`);
    expect((await replay.json<{ id: string }>()).id).toBe(job.id);

    const conflict = await generate(
      user,
      { ...body, prompt: "something else" },
      { "Idempotency-Key": key },
      h.fetch,
    );
    expect(conflict.status).toBe(409);
    expect((await conflict.json<Problem>()).code).toBe("conflict");
    // One job, one submit message.
    expect(h.queue.take()).toHaveLength(1);

    const stranger = await newUser();
    const theirs = await generate(stranger, body, { "Idempotency-Key": key }, h.fetch);
    expect(theirs.status).toBe(202);
    expect((await theirs.json<{ id: string }>()).id).not.toBe(job.id);
  });

  it("creates one job for concurrent requests with the same key", async () => {
    const h = harness();
    const user = await newUser();
    const key = crypto.randomUUID();
    const body = { ...SMALL, prompt: `racing ${uniqueTag()}` };
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => generate(user, body, { "Idempotency-Key": key }, h.fetch)),
    );
    const ids = new Set(await Promise.all(responses.map(async (r) => (await r.json<{ id: string }>()).id)));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
    expect(h.queue.take()).toHaveLength(1);
  });

  it("forgets a key after 24 h", async () => {
    const h = harness();
    const user = await newUser();
    const key = crypto.randomUUID();
    const body = { ...SMALL, prompt: `yesterday ${uniqueTag()}` };
    const first = await (await generate(user, body, { "Idempotency-Key": key }, h.fetch)).json<{
      id: string;
    }>();
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000 - 1000).toISOString();
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE user_id = ? AND key = ?")
      .bind(dayAgo, user.user.id, key)
      .run();
    const again = await generate(
      user,
      { ...body, prompt: "a different body is fine now" },
      { "Idempotency-Key": key },
      h.fetch,
    );
    expect(again.status).toBe(202);
    expect((await again.json<{ id: string }>()).id).not.toBe(first.id);
  });
});

describe("active-job quota", { timeout: 30_000 }, () => {
  it("answers 429 quota_exceeded past MAX_ACTIVE_JOBS_PER_USER and accepts again once one ends", async () => {
    const h = harness();
    const user = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await createJob(user, { prompt: `quota ${i}` }, h.fetch)).id);
    const over = await generate(user, { ...SMALL, prompt: "one too many" }, {}, h.fetch);
    expect(over.status).toBe(429);
    expect((await over.json<Problem>()).code).toBe("quota_exceeded");

    expect((await h.fetch(user, `/generations/${ids[0]}/cancel`, { method: "POST" })).status).toBe(200);
    expect((await generate(user, { ...SMALL, prompt: "now there is room" }, {}, h.fetch)).status).toBe(202);
    // Another user is not affected.
    expect((await generate(await newUser(), { ...SMALL, prompt: "mine" }, {}, h.fetch)).status).toBe(202);
  });

  it("holds under concurrent requests: exactly the quota is accepted", async () => {
    const h = harness();
    const user = await newUser();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => generate(user, { ...SMALL, prompt: `burst ${i}` }, {}, h.fetch)),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429, 429, 429, 429, 429]);
  });
});

describe("timeouts", { timeout: 30_000 }, () => {
  it("fails a job past GENERATION_TIMEOUT_S with code timeout and cancels it upstream", async () => {
    const h = harness({ GENERATION_TIMEOUT_S: "1" });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `stuck ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    const [poll] = h.queue.take();
    // The first poll is due at the deadline, not later.
    expect(poll).toEqual({ body: { type: "poll", job_id: job.id, n: 0 }, delaySeconds: 1 });
    await waitForEmulatorJob(tag, (j) => j.status === "IN_PROGRESS");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    if (poll) await h.deliver([poll.body]);

    const failed = await getJob(user, job.id, h.fetch);
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe("timeout");
    const [upstream] = await emulatorJobs(tag);
    expect(upstream).toMatchObject({ cancelled: true, status: "CANCELLED" });
  });
});

describe("dead-letter queue", { timeout: 30_000 }, () => {
  it("fails a queued job whose message was dead-lettered", async () => {
    const h = harness();
    const user = await newUser();
    const job = await createJob(user, { prompt: `lost ${uniqueTag()}` }, h.fetch);
    const result = await h.deliver(
      h.queue.take().map((m) => m.body),
      "generation-dlq",
    );
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await getJob(user, job.id, h.fetch);
    expect(failed).toMatchObject({ status: "failed", error: { code: "dead_lettered" } });
    const row = await env.DB.prepare("SELECT dead_lettered FROM image_generation_history WHERE id = ?")
      .bind(job.id)
      .first();
    expect(row).toEqual({ dead_lettered: 1 });
  });

  it("cancels the upstream work of a running job it fails", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `wedged ${tag} ${directive({ job: "hang" })}` }, h.fetch);
    await h.deliverSent();
    await waitForEmulatorJob(tag, (j) => j.status === "IN_PROGRESS");
    await h.deliver([{ type: "poll", job_id: job.id, n: 5 }], "generation-dlq");
    expect((await getJob(user, job.id, h.fetch)).error?.code).toBe("dead_lettered");
    expect((await emulatorJobs(tag))[0]).toMatchObject({ cancelled: true });
  });

  it("leaves a finished job alone", async () => {
    const h = harness();
    const user = await newUser();
    const job = await createJob(user, { prompt: `done ${uniqueTag()}` }, h.fetch);
    expect((await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status).toBe(200);
    await h.deliver(
      h.queue.take().map((m) => m.body),
      "generation-dlq",
    );
    expect((await getJob(user, job.id, h.fetch)).status).toBe("cancelled");
  });
});

describe("a queue that refuses the message", { timeout: 30_000 }, () => {
  it("answers 503, fails the job instead of leaving it queued, and lets the same key try again", async () => {
    let refuse = true;
    const sent: unknown[] = [];
    const flaky = {
      send: async (body: unknown) => {
        if (refuse) throw new Error("queue unavailable");
        sent.push(body);
      },
    };
    const h = harness({ GENERATION_QUEUE: flaky });
    const user = await newUser();
    const key = crypto.randomUUID();
    const body = { ...SMALL, prompt: `refused ${uniqueTag()}` };
    const res = await generate(user, body, { "Idempotency-Key": key }, h.fetch);
    expect(res.status).toBe(503);
    expect((await res.json<Problem>()).code).toBe("upstream_unavailable");
    const history = await (await h.fetch(user, "/generations")).json<{
      items: { status: string; error: unknown }[];
    }>();
    expect(history.items).toEqual([
      expect.objectContaining({
        status: "failed",
        error: expect.objectContaining({ code: "enqueue_failed" }),
      }),
    ]);

    refuse = false;
    const retry = await generate(user, body, { "Idempotency-Key": key }, h.fetch);
    expect(retry.status).toBe(202);
    expect(sent).toHaveLength(1);
  });
});

describe("cancel", { timeout: 30_000 }, () => {
  it("cancels a queued job so its submit message never reaches RunPod", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `never mind ${tag}` }, h.fetch);
    expect((await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status).toBe(200);
    const result = await h.deliverSent();
    expect(result.explicitAcks).toHaveLength(1);
    expect(await emulatorJobs(tag)).toEqual([]);
    expect((await getJob(user, job.id, h.fetch)).status).toBe("cancelled");
  });
});

describe("publishing", { timeout: 30_000 }, () => {
  it("never fails a job when live updates cannot be delivered", async () => {
    const broken = {
      idFromName: () => ({}),
      get: () => ({
        publish: () => Promise.reject(new Error("session object overloaded")),
      }),
    };
    const h = harness({ USER_SESSION: broken });
    const user = await newUser();
    const tag = uniqueTag();
    const job = await createJob(user, { prompt: `unheard ${tag}` }, h.fetch);
    await h.deliverSent();
    await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    await h.deliverSent();
    expect((await getJob(user, job.id, h.fetch)).status).toBe("succeeded");
  });
});
