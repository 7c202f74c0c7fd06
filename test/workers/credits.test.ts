import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { d1Client } from "../../src/db/d1-client";
import { postgresClient } from "../../src/db/postgres-client";
import { type Repository, repositoryOn } from "../../src/db/repository";
import { newId } from "../../src/lib/ids";
import { harness } from "./generation.support";
import type { TestUser } from "./support/session";

type Harness = ReturnType<typeof harness>;

const BACKENDS = [
  { name: "d1", overrides: {}, open: () => repositoryOn(d1Client(env.DB)) },
  {
    name: "postgres",
    overrides: { DB_BACKEND: "postgres" },
    open: () => repositoryOn(postgresClient(env.HYPERDRIVE.connectionString)),
  },
] as const;

/** 512 x 512 at 20 steps: one credit. */
const UNIT = { width: 512, height: 512, steps: 20 } as const;

async function guestOn(h: Harness): Promise<TestUser> {
  const ip = `10.77.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const res = await h.fetchRaw("http://127.0.0.1:8787/api/v1/auth/guest", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: "{}",
  });
  expect(res.status).toBe(201);
  return { ...(await res.json<Omit<TestUser, "ip">>()), ip };
}

async function usageOf(h: Harness, user: TestUser) {
  const res = await h.fetch(user, "/me/usage");
  expect(res.status).toBe(200);
  return res.json<{
    day: string;
    credits: { limit: number; used: number; remaining: number };
    resets_at: string;
  }>();
}

async function ledgerRows(repo: Repository, userId: string) {
  return repo.sql.all<{ day: string; used: number }>(
    sql`SELECT day, used FROM credit_usage WHERE user_id = ${userId}`,
  );
}

async function jobCount(repo: Repository, userId: string): Promise<number> {
  const rows = await repo.sql.all<{ n: number | string }>(
    sql`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM image_generation_history WHERE user_id = ${userId}`,
  );
  return Number(rows[0]?.n ?? 0);
}

describe("GET /client-config", () => {
  it("names the allowances, the image unit and the limits, cacheable, without a site key when Turnstile is off", async () => {
    const h = harness({ TURNSTILE_SITE_KEY: "1x00000000000000000000AA", DAILY_CREDITS_GUEST: "7" });
    const res = await h.fetch(null, "/client-config");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toMatch(/public, max-age=\d+/);
    expect(await res.json()).toEqual({
      turnstile_site_key: null,
      credits: { guest_daily: 7, account_daily: 500, image_unit: { width: 512, height: 512, steps: 20 } },
      limits: { chat_turns_per_min: 20, max_active_jobs: 4 },
    });
  });

  it("names the site key when the secret is set", async () => {
    const h = harness({
      TURNSTILE_SITE_KEY: "1x00000000000000000000AA",
      TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA",
    });
    const body = await (await h.fetch(null, "/client-config")).json<{ turnstile_site_key: string }>();
    expect(body.turnstile_site_key).toBe("1x00000000000000000000AA");
  });
});

describe("credits for images", () => {
  it("charges ceil(w x h x steps / unit) on acceptance and shows it in /me/usage", async () => {
    const h = harness();
    const user = await guestOn(h);
    const fresh = await usageOf(h, user);
    expect(fresh.credits).toEqual({ limit: 100, used: 0, remaining: 100 });
    expect(fresh.day).toBe(new Date().toISOString().slice(0, 10));
    expect(Date.parse(fresh.resets_at)).toBe(Date.parse(`${fresh.day}T00:00:00.000Z`) + 86_400_000);

    const res = await h.fetch(user, "/generate", {
      json: { prompt: "a lighthouse", width: 1024, height: 1024, steps: 30 },
    });
    expect(res.status).toBe(202);
    expect((await usageOf(h, user)).credits).toEqual({ limit: 100, used: 6, remaining: 94 });
  });

  it("refuses past the allowance with 429 budget_exhausted and Retry-After, changing no row", async () => {
    const h = harness({ DAILY_CREDITS_GUEST: "3" });
    const user = await guestOn(h);
    expect((await h.fetch(user, "/generate", { json: { prompt: "two", ...UNIT, steps: 40 } })).status).toBe(
      202,
    );
    const repo = repositoryOn(d1Client(env.DB));
    const before = { ledger: await ledgerRows(repo, user.user.id), jobs: await jobCount(repo, user.user.id) };

    const res = await h.fetch(user, "/generate", { json: { prompt: "two more", ...UNIT, steps: 40 } });
    expect(res.status).toBe(429);
    const problem = await res.json<{ code: string }>();
    expect(problem.code).toBe("budget_exhausted");
    const retryAfter = Number(res.headers.get("Retry-After"));
    const toMidnight =
      (Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000;
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(retryAfter - toMidnight)).toBeLessThan(5);
    expect({
      ledger: await ledgerRows(repo, user.user.id),
      jobs: await jobCount(repo, user.user.id),
    }).toEqual(before);
    // What is left still buys a smaller image.
    expect((await h.fetch(user, "/generate", { json: { prompt: "one", ...UNIT } })).status).toBe(202);
  });

  it("leaves no charge behind when the active-job quota refuses the job", async () => {
    const h = harness({ MAX_ACTIVE_JOBS_PER_USER: "1" });
    const user = await guestOn(h);
    expect((await h.fetch(user, "/generate", { json: { prompt: "first", ...UNIT } })).status).toBe(202);
    const res = await h.fetch(user, "/generate", { json: { prompt: "second", ...UNIT } });
    expect(res.status).toBe(429);
    expect((await res.json<{ code: string }>()).code).toBe("quota_exceeded");
    expect((await usageOf(h, user)).credits.used).toBe(1);
  });

  it("refunds a job cancelled while queued, once, and not one cancelled again", async () => {
    const h = harness();
    const user = await guestOn(h);
    const job = await (
      await h.fetch(user, "/generate", { json: { prompt: "never mind", ...UNIT, steps: 60 } })
    ).json<{ id: string }>();
    expect((await usageOf(h, user)).credits.used).toBe(3);
    expect((await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status).toBe(200);
    expect(
      (await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status,
    ).toBeGreaterThanOrEqual(200);
    expect((await usageOf(h, user)).credits.used).toBe(0);
  });

  it("keeps the charge of a job cancelled while running (the GPU was used)", async () => {
    const h = harness();
    const user = await guestOn(h);
    const job = await (
      await h.fetch(user, "/generate", { json: { prompt: "started", ...UNIT, steps: 40 } })
    ).json<{ id: string }>();
    const repo = repositoryOn(d1Client(env.DB));
    await repo.jobs.transition(
      job.id,
      ["queued"],
      { status: "running", started_at: new Date().toISOString() },
      new Date().toISOString(),
    );
    expect((await h.fetch(user, `/generations/${job.id}/cancel`, { method: "POST" })).status).toBe(200);
    expect((await usageOf(h, user)).credits.used).toBe(2);
  });

  it("refunds a job that fails (here: the queue refused it)", async () => {
    const broken = {
      send: () => Promise.reject(new Error("queue down")),
      sendBatch: () => Promise.reject(new Error("down")),
    };
    const h = harness({ GENERATION_QUEUE: broken });
    const user = await guestOn(h);
    const res = await h.fetch(user, "/generate", { json: { prompt: "lost", ...UNIT, steps: 40 } });
    expect(res.status).toBe(503);
    expect((await usageOf(h, user)).credits.used).toBe(0);
  });
});

describe.each(BACKENDS)("the ledger under concurrency on $name", ({ overrides, open }) => {
  it("never charges past the allowance: parallel charges on separate connections", async () => {
    const userId = newId("usr");
    const day = "2026-01-01";
    const repos = Array.from({ length: 16 }, () => open());
    try {
      await repos[0]?.users.create({
        id: userId,
        display_name: "Spender",
        created_at: new Date().toISOString(),
      });
      const results = await Promise.all(
        repos.map((repo) => repo.credits.charge(userId, day, 1, { guest: 7, account: 70 })),
      );
      expect(results.filter((used) => used !== null)).toHaveLength(7);
      expect(results.filter((used) => used !== null).sort((a, b) => Number(a) - Number(b))).toEqual([
        1, 2, 3, 4, 5, 6, 7,
      ]);
      expect(await ledgerRows(repos[0] as Repository, userId)).toEqual([{ day, used: 7 }]);
    } finally {
      await Promise.all(repos.map((repo) => repo.sql.close()));
    }
  });

  it("accepts exactly the allowance of parallel POST /generate, refusing the rest with budget_exhausted", async () => {
    const h = harness({ ...overrides, DAILY_CREDITS_GUEST: "5", MAX_ACTIVE_JOBS_PER_USER: "50" });
    const user = await guestOn(h);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.fetch(user, "/generate", { json: { prompt: `p${i}`, ...UNIT } }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const repo = open();
    try {
      expect((await ledgerRows(repo, user.user.id)).map((row) => Number(row.used))).toEqual([5]);
      expect(await jobCount(repo, user.user.id)).toBe(5);
    } finally {
      await repo.sql.close();
    }
  });
});
