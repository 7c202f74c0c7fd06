import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import type { Job } from "../../src/db/models";
import { postgresClient } from "../../src/db/postgres-client";
import { type Repository, repositoryOn } from "../../src/db/repository";
import { newId } from "../../src/lib/ids";

/** The JobsRepo queries the generation state machine relies on, against both adapters. */
const backends: Array<[string, () => Repository]> = [
  ["d1", () => repositoryOn(d1Client(env.DB))],
  ["postgres", () => repositoryOn(postgresClient(env.HYPERDRIVE.connectionString))],
];

describe.each(backends)("generation queries on %s", (_backend, open) => {
  const repo = open();
  afterAll(() => repo.sql.close());
  const iso = (msAgo = 0) => new Date(Date.now() - msAgo).toISOString();

  async function user() {
    return repo.users.create({ id: newId("usr"), display_name: "gen", created_at: iso() });
  }
  function job(userId: string, createdAt = iso()): Job {
    return {
      id: newId("gen"),
      user_id: userId,
      status: "queued",
      prompt: "a cat",
      negative_prompt: "",
      character_id: null,
      params: { width: 512, height: 512, steps: 20, seed: 7, guidance: 7 },
      images: [],
      error: null,
      attempts: 0,
      upstream_id: null,
      dead_lettered: false,
      created_at: createdAt,
      started_at: null,
      completed_at: null,
      updated_at: createdAt,
    };
  }

  it("creates within the active-job quota, atomically under concurrency", async () => {
    const u = await user();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => open()).map(async (own) => {
        try {
          return (await own.jobs.create(job(u.id), undefined, { maxActive: 3 })).kind;
        } finally {
          await own.sql.close();
        }
      }),
    );
    expect(results.filter((k) => k === "created")).toHaveLength(3);
    expect(results.filter((k) => k === "quota_exceeded")).toHaveLength(5);
    expect(await repo.jobs.countActive(u.id)).toBe(3);
  });

  it("writes neither the key nor the job when over quota, and replays within it", async () => {
    const u = await user();
    const limits = { maxActive: 1 };
    const first = await repo.jobs.create(job(u.id), { key: "a", requestHash: "h" }, limits);
    expect(first.kind).toBe("created");
    expect((await repo.jobs.create(job(u.id), { key: "b", requestHash: "h" }, limits)).kind).toBe(
      "quota_exceeded",
    );
    expect(await repo.jobs.findByIdempotencyKey(u.id, "b")).toBeNull();
    const replay = await repo.jobs.create(job(u.id), { key: "a", requestHash: "h" }, limits);
    expect(replay.kind === "replayed" && replay.job.id).toBe(first.kind === "created" && first.job.id);
    const found = await repo.jobs.findByIdempotencyKey(u.id, "a");
    expect(Date.parse(found?.createdAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    await repo.jobs.forgetIdempotencyKey(u.id, "a", iso(60_000));
    expect(await repo.jobs.findByIdempotencyKey(u.id, "a")).not.toBeNull();
    await repo.jobs.forgetIdempotencyKey(u.id, "a", iso(-1000));
    expect(await repo.jobs.findByIdempotencyKey(u.id, "a")).toBeNull();
  });

  it("claims an attempt once, records its upstream id once, and gives it back only unrecorded", async () => {
    const u = await user();
    const created = job(u.id);
    await repo.jobs.create(created);
    const staleBefore = iso(60_000);
    const claimed = await repo.jobs.claimAttempt(created.id, 0, iso(), staleBefore);
    expect(claimed).toMatchObject({ status: "running", attempts: 1, upstream_id: null });
    expect(await repo.jobs.claimAttempt(created.id, 0, iso(), staleBefore)).toBeNull();
    // A fresh claim is not stale: nobody else may claim it.
    expect(await repo.jobs.claimAttempt(created.id, 1, iso(), staleBefore)).toBeNull();

    expect(await repo.jobs.releaseAttempt(created.id, 1, iso())).toMatchObject({
      status: "queued",
      started_at: null,
    });
    const again = await repo.jobs.claimAttempt(created.id, 1, iso(), staleBefore);
    expect(again?.attempts).toBe(2);
    expect(await repo.jobs.recordUpstream(created.id, 1, "up-old", iso())).toBe(false);
    expect(await repo.jobs.recordUpstream(created.id, 2, "up-1", iso())).toBe(true);
    expect(await repo.jobs.recordUpstream(created.id, 2, "up-2", iso())).toBe(false);
    expect(await repo.jobs.releaseAttempt(created.id, 2, iso())).toBeNull();
    expect((await repo.jobs.get(created.id))?.upstream_id).toBe("up-1");
  });

  it("claims a queued job without reading it first, once of two racing claims, never a running or finished one", async () => {
    const u = await user();
    const created = job(u.id);
    await repo.jobs.create(created);
    const now = iso();
    const [a, b] = await Promise.all([
      repo.jobs.claimQueued(created.id, now),
      repo.jobs.claimQueued(created.id, now),
    ]);
    expect([a, b].filter((claim) => claim !== null)).toHaveLength(1);
    expect(a ?? b).toMatchObject({ status: "running", attempts: 1, upstream_id: null, started_at: now });
    expect(await repo.jobs.claimQueued(created.id, iso())).toBeNull();
    expect(await repo.jobs.releaseAttempt(created.id, 1, iso())).toMatchObject({ status: "queued" });
    expect((await repo.jobs.claimQueued(created.id, iso()))?.attempts).toBe(2);
    await repo.jobs.transition(created.id, ["running"], { status: "cancelled" }, iso());
    expect(await repo.jobs.claimQueued(created.id, iso())).toBeNull();
    expect(await repo.jobs.claimQueued("gen_missing", iso())).toBeNull();
  });

  it("re-claims a running attempt that never recorded an upstream id once its claim is stale", async () => {
    const u = await user();
    const created = job(u.id);
    await repo.jobs.create(created);
    await repo.jobs.claimAttempt(created.id, 0, iso(120_000), iso(180_000));
    const reclaimed = await repo.jobs.claimAttempt(created.id, 1, iso(), iso(60_000));
    expect(reclaimed).toMatchObject({ status: "running", attempts: 2 });
  });

  it("lists stale jobs by status and touches them", async () => {
    const u = await user();
    const old = job(u.id, iso(3_600_000));
    await repo.jobs.create(old);
    const stale = await repo.jobs.listStale("queued", iso(600_000), 1000);
    expect(stale.map((j) => j.id)).toContain(old.id);
    expect(await repo.jobs.touch(old.id, "queued", iso())).toBe(true);
    expect((await repo.jobs.listStale("queued", iso(600_000), 1000)).map((j) => j.id)).not.toContain(old.id);
    expect(await repo.jobs.touch(old.id, "running", iso())).toBe(false);
  });
});
