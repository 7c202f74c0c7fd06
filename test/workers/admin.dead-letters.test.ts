import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import { repositoryOn } from "../../src/db/repository";
import type { toAdminJob } from "../../src/ops/admin/dead-letters";
import {
  createJob,
  emulatorJobs,
  generate,
  harness,
  newUser,
  sleep,
  uniqueTag,
  waitForEmulatorJob,
} from "./generation.support";
import { adminHeaders } from "./ops.support";

type AdminJob = ReturnType<typeof toAdminJob>;
type H = ReturnType<typeof harness>;

const ORIGIN = "http://127.0.0.1:8787";

function admin(h: H, path: string, init: RequestInit = {}, token?: string) {
  return h.fetchRaw(`${ORIGIN}/api/v1/admin${path}`, { ...init, headers: adminHeaders(token) });
}

/** The job's whole row (updated_at, dead_lettered included), as the database holds it. */
function storedJob(id: string) {
  return repositoryOn(d1Client(env.DB)).jobs.get(id);
}

/** Delivers the job's messages until it succeeds against the emulator. */
async function runToSuccess(h: H, user: Awaited<ReturnType<typeof newUser>>, jobId: string, tag: string) {
  await h.deliverSent();
  await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
  for (let i = 0; i < 40; i++) {
    const polls = h.queue.take().map((m) => m.body);
    if (polls.length > 0) await h.deliver(polls);
    const current = await (await h.fetch(user, `/generations/${jobId}`)).json<{ status: string }>();
    if (current.status === "succeeded") return;
    await sleep(100);
  }
  throw new Error(`job ${jobId} did not succeed`);
}

/** A job failed by the dead-letter queue's consumer, as after five failed deliveries. */
async function deadLettered(h: H, prompt: string) {
  const user = await newUser();
  const job = await createJob(user, { prompt }, h.fetch);
  h.queue.take();
  const result = await h.deliver([{ type: "submit", job_id: job.id }], "generation-dlq", 1);
  expect(result.explicitAcks).toHaveLength(1);
  return { user, job };
}

describe("GET /api/v1/admin/dead-letters", () => {
  it("lists jobs failed by the dead-letter queue, newest first, with a cursor", async () => {
    const h = harness();
    const first = await deadLettered(h, "dead one");
    const second = await deadLettered(h, "dead two");
    const res = await admin(h, "/dead-letters?limit=1");
    expect(res.status).toBe(200);
    const page1 = await res.json<{ items: AdminJob[]; next_cursor: string | null }>();
    expect(page1.items.map((j) => j.id)).toEqual([second.job.id]);
    expect(page1.items[0]).toMatchObject({
      status: "failed",
      dead_lettered: true,
      user_id: second.user.user.id,
      error: { code: "dead_lettered" },
    });
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await (await admin(h, `/dead-letters?limit=1&cursor=${page1.next_cursor}`)).json<{
      items: AdminJob[];
    }>();
    expect(page2.items.map((j) => j.id)).toEqual([first.job.id]);
  });

  it("is 401 without the admin token and 400 on a bad limit", async () => {
    const h = harness();
    expect((await h.fetchRaw(`${ORIGIN}/api/v1/admin/dead-letters`)).status).toBe(401);
    expect((await admin(h, "/dead-letters", {}, "nope")).status).toBe(401);
    expect((await admin(h, "/dead-letters?limit=0")).status).toBe(400);
    expect((await admin(h, "/dead-letters?cursor=%%%")).status).toBe(400);
  });
});

describe("POST /api/v1/admin/dead-letters/:id/replay", { timeout: 30_000 }, () => {
  it("puts the job back in the queue for a fresh attempt, and it completes against the emulator", async () => {
    const h = harness();
    const tag = uniqueTag();
    const { user, job } = await deadLettered(h, `replayed ${tag}`);

    const replay = await admin(h, `/dead-letters/${job.id}/replay`, { method: "POST" });
    expect(replay.status).toBe(200);
    const queued = await replay.json<AdminJob>();
    expect(queued).toMatchObject({
      id: job.id,
      status: "queued",
      error: null,
      dead_lettered: false,
      completed_at: null,
    });
    expect(h.queue.take().map((m) => m.body)).toEqual([{ type: "submit", job_id: job.id }]);
    // Replayed once; a second replay finds it no longer dead-lettered.
    expect((await admin(h, `/dead-letters/${job.id}/replay`, { method: "POST" })).status).toBe(409);
    const listed = await (await admin(h, "/dead-letters?limit=100")).json<{ items: AdminJob[] }>();
    expect(listed.items.map((j) => j.id)).not.toContain(job.id);

    // The consumer takes the submit like any other: a new attempt, a new upstream job.
    await h.deliver([{ type: "submit", job_id: job.id }]);
    await waitForEmulatorJob(tag, (j) => j.status === "COMPLETED");
    for (let i = 0; i < 20; i++) {
      const polls = h.queue.take().map((m) => m.body);
      if (polls.length > 0) await h.deliver(polls);
      const current = await (await h.fetch(user, `/generations/${job.id}`)).json<{ status: string }>();
      if (current.status === "succeeded") break;
      await sleep(100);
    }
    const done = await (await h.fetch(user, `/generations/${job.id}`)).json<{
      status: string;
      attempts: number;
      images: unknown[];
      error: unknown;
    }>();
    expect(done).toMatchObject({ status: "succeeded", attempts: job.attempts + 1, error: null });
    expect(done.images).toHaveLength(1);
    expect(await emulatorJobs(tag)).toHaveLength(1);
  });

  it("is 409 for a job that is not dead-lettered (queued, cancelled) and 404 for an unknown one", async () => {
    const h = harness();
    const user = await newUser();
    const queued = await createJob(user, { prompt: "just queued" }, h.fetch);
    const cancelled = await createJob(user, { prompt: "cancelled" }, h.fetch);
    await h.fetch(user, `/generations/${cancelled.id}/cancel`, { method: "POST" });
    h.queue.take();
    for (const id of [queued.id, cancelled.id]) {
      const res = await admin(h, `/dead-letters/${id}/replay`, { method: "POST" });
      expect(res.status).toBe(409);
      expect((await res.json<{ code: string }>()).code).toBe("conflict");
    }
    expect((await admin(h, "/dead-letters/job_doesnotexist/replay", { method: "POST" })).status).toBe(404);
    expect((await admin(h, "/dead-letters/..%2Fetc/replay", { method: "POST" })).status).toBe(400);
    expect(h.queue.take()).toEqual([]);
  });

  it("never changes a terminal job that was not dead-lettered: succeeded, cancelled, failed otherwise", async () => {
    const h = harness();
    const user = await newUser();
    const tag = uniqueTag();
    const succeeded = await createJob(user, { prompt: `finished ${tag}` }, h.fetch);
    await runToSuccess(h, user, succeeded.id, tag);
    const cancelled = await createJob(user, { prompt: "cancelled" }, h.fetch);
    await h.fetch(user, `/generations/${cancelled.id}/cancel`, { method: "POST" });
    const refusing = harness({
      GENERATION_QUEUE: {
        send: async () => {
          throw new Error("queue unavailable");
        },
      },
    });
    expect((await generate(user, { prompt: "never queued" }, {}, refusing.fetch)).status).toBe(503);
    const history = await (await h.fetch(user, "/generations?status=failed")).json<{
      items: { id: string }[];
    }>();
    const failedId = history.items[0]?.id ?? "";
    h.queue.take();

    const ids = [succeeded.id, cancelled.id, failedId];
    const before = await Promise.all(ids.map(storedJob));
    expect(before.map((j) => [j?.status, j?.dead_lettered])).toEqual([
      ["succeeded", false],
      ["cancelled", false],
      ["failed", false],
    ]);
    for (const id of ids) {
      const res = await admin(h, `/dead-letters/${id}/replay`, { method: "POST" });
      expect(res.status).toBe(409);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    }
    // Byte for byte as they were: status, error, images, attempts, updated_at.
    expect(await Promise.all(ids.map(storedJob))).toEqual(before);
    expect(h.queue.take()).toEqual([]);
  });

  it("lets exactly one of two concurrent replays through, with one submit message", async () => {
    const h = harness();
    const { job } = await deadLettered(h, "replayed twice at once");
    const statuses = await Promise.all(
      [1, 2].map(async () => (await admin(h, `/dead-letters/${job.id}/replay`, { method: "POST" })).status),
    );
    expect(statuses.sort()).toEqual([200, 409]);
    expect(h.queue.take().map((m) => m.body)).toEqual([{ type: "submit", job_id: job.id }]);
    expect(await storedJob(job.id)).toMatchObject({ status: "queued", dead_lettered: false, error: null });
  });

  it("leaves the job dead-lettered and answers 503 when the queue refuses the message", async () => {
    const failing = {
      send: async () => {
        throw new Error("queue unavailable");
      },
    };
    const h = harness();
    const { job } = await deadLettered(h, "queue down");
    const before = await storedJob(job.id);
    const down = harness({ GENERATION_QUEUE: failing });
    const res = await admin(down, `/dead-letters/${job.id}/replay`, { method: "POST" });
    expect(res.status).toBe(503);
    const { updated_at: _, ...restored } = (await storedJob(job.id)) ?? {};
    const { updated_at: __, ...original } = before ?? {};
    expect(restored).toEqual(original);
    const listed = await (await admin(h, "/dead-letters?limit=100")).json<{ items: AdminJob[] }>();
    expect(listed.items.find((j) => j.id === job.id)).toMatchObject({
      status: "failed",
      dead_lettered: true,
      error: { code: "dead_lettered" },
    });
  });

  it("is 401 without the admin token and changes nothing", async () => {
    const h = harness();
    const { job } = await deadLettered(h, "no token");
    const res = await h.fetchRaw(`${ORIGIN}/api/v1/admin/dead-letters/${job.id}/replay`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(h.queue.take()).toEqual([]);
  });
});
