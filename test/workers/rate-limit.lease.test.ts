import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import type { ClientLimiter } from "../../src/rate-limit/binding";
import { BucketStore } from "../../src/rate-limit/bucket-store";
import { IsolateLeases } from "../../src/rate-limit/isolate-lease";
import type { ConsumeRequest, ConsumeResult } from "../../src/rate-limit/protocol";
import { type Bucket, LEASE_RESERVE_MS, LEASE_SPEND_MS, take } from "../../src/rate-limit/token-bucket";
import {
  appWith,
  flushReports,
  limiterOf,
  ManualClock,
  rateLimitHeaders,
  statusCounts,
  uniqueColo,
  uniqueIp,
  useClock,
} from "./rate-limit.support";

const API = { ratePerS: 20, burst: 40 };
const REQUEST: ConsumeRequest = { zone: "api", cost: 1, ...API };
const T0 = 1_700_000_000_000;

describe("a shard's lease (token bucket)", () => {
  it("grants extra tokens only from the upper half of the bucket, and counts them in remaining", () => {
    const first = take(undefined, API, 1, T0, 8);
    expect(first.leased).toBe(8);
    expect(first.result).toMatchObject({ allowed: true, remaining: 39 });
    expect(first.bucket.tokens).toBe(31);

    // 22 tokens left: taking one leaves 21, only one above half the burst.
    const low: Bucket = { tokens: 22, updatedMs: T0 };
    expect(take(low, API, 1, T0, 8).leased).toBe(1);
    expect(take({ tokens: 20, updatedMs: T0 }, API, 1, T0, 8).leased).toBe(0);
    // A refusal leases nothing.
    const empty = take({ tokens: 0, updatedMs: T0 }, API, 1, T0, 8);
    expect(empty).toMatchObject({ leased: 0, result: { allowed: false } });
  });

  it("never lets more through than the exact bucket, however late the lease is spent", () => {
    // Isolate A takes 1 + 8 at T0 and spends its 8 at the last moment it may.
    const leased = take(undefined, API, 1, T0, 8);
    const spendAt = T0 + LEASE_SPEND_MS - 1;
    // Meanwhile isolate B drains the shard at that moment.
    let bucket = leased.bucket;
    let passedB = 0;
    for (let i = 0; i < 60; i++) {
      const next = take(bucket, API, 1, spendAt);
      bucket = next.bucket;
      if (next.result.allowed) passedB += 1;
    }
    // The exact bucket would hold 40 at `spendAt` (refilled to its cap): A's 8 + B's share = 40.
    // Without the reservation the shard would have refilled to 40 and B would get 40 (48 in all).
    expect(8 + passedB).toBe(40);

    // Once the reservation has ended, the bucket refills to its full burst again.
    const after = take(bucket, API, 1, T0 + LEASE_RESERVE_MS + 2_000);
    expect(after.result).toMatchObject({ allowed: true, remaining: 39 });
  });

  it("counts a lease still running when the clock has moved past part of it", () => {
    const leased = take(undefined, API, 1, T0, 8).bucket; // 31 tokens, 8 reserved
    // 100 ms later 2 tokens have refilled, but only up to the cap of 40 - 8: 32, then one is taken.
    const soon = take(leased, API, 1, T0 + 100);
    expect(soon.result.remaining).toBe(31);
    expect(soon.bucket.leases).toEqual([{ tokens: 8, untilMs: T0 + LEASE_RESERVE_MS }]);
    // At the reservation's end it may grow past the cap; 1 s after that the bucket is full.
    expect(take(soon.bucket, API, 1, T0 + LEASE_RESERVE_MS + 1_000).result.remaining).toBe(39);
  });

  it("stops counting a lease reported spent in full, after the refill it still capped", () => {
    const leased = take(undefined, API, 1, T0, 8).bucket; // 31 tokens, 8 reserved
    // 100 ms later: 2 tokens refilled up to the cap of 32 (the lease still capped that), one taken.
    const settled = take(leased, API, 1, T0 + 100, 0, 8);
    expect(settled.result.remaining).toBe(31);
    expect(settled.bucket.leases).toBeUndefined();
    // From then on the bucket refills to its full burst: 31 + 400 ms at 20/s = 39, one taken.
    expect(take(settled.bucket, API, 1, T0 + 500).result.remaining).toBe(38);
    // Without the report the lease would cap it at 32 for the whole reservation.
    const unsettled = take(take(leased, API, 1, T0 + 100).bucket, API, 1, T0 + 500);
    expect(unsettled.result.remaining).toBe(31);
  });

  it("stops counting each lease at its own end, not at a newer lease's", () => {
    const first = take(undefined, API, 1, T0, 8).bucket; // 31 tokens; 8 counted until T0 + reserve
    // The first lease lapses unspent in its isolate, which asks for another one.
    const second = take(first, API, 1, T0 + LEASE_SPEND_MS, 8);
    expect(second.leased).toBe(8);
    expect(second.bucket.leases?.map((l) => l.tokens)).toEqual([8, 8]);
    // 10 s later the first lease has ended: only the second caps the refill (40 - 8 = 32).
    const later = take(second.bucket, API, 1, T0 + LEASE_SPEND_MS + 10_000);
    expect(later.result.remaining).toBe(31);
    expect(later.bucket.leases).toEqual([{ tokens: 8, untilMs: T0 + LEASE_SPEND_MS + LEASE_RESERVE_MS }]);
  });

  it("takes a reported lease off the leases that end first, and keeps at most four", () => {
    const wide = { ratePerS: 20, burst: 400 };
    let bucket: Bucket | undefined;
    for (let i = 0; i < 5; i++) bucket = take(bucket, wide, 1, T0 + i, 8).bucket;
    // Five leases: the two that end first are counted as one, until the later end of the two.
    expect(bucket?.leases).toEqual([
      { tokens: 16, untilMs: T0 + 1 + LEASE_RESERVE_MS },
      ...[2, 3, 4].map((i) => ({ tokens: 8, untilMs: T0 + i + LEASE_RESERVE_MS })),
    ]);
    const settled = take(bucket, wide, 1, T0 + 10, 0, 20).bucket;
    expect(settled.leases).toEqual([
      { tokens: 4, untilMs: T0 + 2 + LEASE_RESERVE_MS },
      { tokens: 8, untilMs: T0 + 3 + LEASE_RESERVE_MS },
      { tokens: 8, untilMs: T0 + 4 + LEASE_RESERVE_MS },
    ]);
  });

  it("never counts below zero when a report outlives the reservation it was for", () => {
    const leased = take(undefined, API, 1, T0, 4).bucket;
    expect(take(leased, API, 1, T0 + 10, 0, 8).bucket.leases).toBeUndefined();
    // A bucket made again (evicted, or a restarted shard) has nothing reserved to stop counting.
    expect(take(undefined, API, 1, T0, 0, 8).bucket.leases).toBeUndefined();
  });
});

/**
 * A shard stand-in built from the real `BucketStore`: decides in arrival order (as the single-threaded
 * object does) and lets the test choose the order in which answers reach the isolate.
 */
function shardWithDelayedAnswers(store = new BucketStore(100)) {
  const pending: Array<() => void> = [];
  let calls = 0;
  const ask = (request: ConsumeRequest): Promise<ConsumeResult> => {
    calls += 1;
    const { result, leased } = store.take(
      request.zone,
      "203.0.113.7",
      request,
      request.cost,
      T0,
      request.lease,
    );
    const answer = leased > 0 ? { ...result, leased } : result;
    return new Promise((resolve) => pending.push(() => resolve(answer)));
  };
  return {
    ask,
    get calls() {
      return calls;
    },
    /** Delivers every answer decided so far, newest first: refusals reach the isolate before the lease. */
    deliverNewestFirst() {
      for (const deliver of pending.splice(0).reverse()) deliver();
    },
  };
}

/** The real `BucketStore` answering at once at the test's clock; `sent` keeps every request it got. */
function shardAnsweringAt(now: () => number) {
  const store = new BucketStore(10);
  const sent: ConsumeRequest[] = [];
  const ask = async (request: ConsumeRequest): Promise<ConsumeResult> => {
    sent.push(request);
    const { result, leased } = store.take("api", "k", request, 1, now(), request.lease, request.settled);
    return leased > 0 ? { ...result, leased } : result;
  };
  return { ask, sent };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

async function burst(leases: IsolateLeases, shard: ReturnType<typeof shardWithDelayedAnswers>, n: number) {
  const decisions = Array.from({ length: n }, () =>
    leases.consume("api\nany\n203.0.113.7", REQUEST, 8, shard.ask),
  );
  // Keep delivering until every request has its answer (waiters send their own calls later).
  let done = false;
  const all = Promise.all(decisions).then((results) => {
    done = true;
    return results;
  });
  while (!done) {
    shard.deliverNewestFirst();
    await settle();
  }
  return all;
}

describe("an isolate's leases", () => {
  it("lets exactly 40 of 100 concurrent requests through even when refusals arrive before the lease", async () => {
    const shard = shardWithDelayedAnswers();
    const results = await burst(new IsolateLeases(), shard, 100);
    expect(results.filter((r) => r.allowed)).toHaveLength(40);
    // Some of them were answered here, from leased tokens, without a call.
    expect(shard.calls).toBeLessThan(100);
    // Every admitted request reports a distinct count of tokens left, as without leases.
    const remaining = results.filter((r) => r.allowed).map((r) => r.remaining);
    expect(new Set(remaining).size).toBe(40);
    expect(results.every((r) => !("leased" in r))).toBe(true);
  });

  it("keeps one lease request in flight per client; the others wait for it instead of asking", async () => {
    const shard = shardWithDelayedAnswers();
    const leases = new IsolateLeases();
    const decisions = Array.from({ length: 9 }, () =>
      leases.consume("api\nany\n203.0.113.7", REQUEST, 8, shard.ask),
    );
    await settle();
    expect(shard.calls).toBe(1);
    shard.deliverNewestFirst();
    const results = await Promise.all(decisions);
    expect(results.map((r) => r.remaining).sort((a, b) => b - a)).toEqual([
      39, 38, 37, 36, 35, 34, 33, 32, 31,
    ]);
    expect(shard.calls).toBe(1);
  });

  it("backs off while it waits for a slow lease answer (no timer storm when the shard is slow)", async () => {
    const sleeps: number[] = [];
    const leases = new IsolateLeases(10, Date.now, (ms) => {
      sleeps.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    });
    let release = () => {};
    const ask = () =>
      new Promise<ConsumeResult>((resolve) => {
        release = () =>
          resolve({ allowed: true, limit: 40, remaining: 39, resetS: 1, retryAfterS: 0, leased: 8 });
      });
    const first = leases.consume("k", REQUEST, 8, ask);
    const second = leases.consume("k", REQUEST, 8, ask);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    expect(await first).toMatchObject({ allowed: true, by: "shard", remaining: 39 });
    expect(await second).toMatchObject({ allowed: true, by: "lease", remaining: 38 });
    // 100 ms of waiting: 1, 2, 4, 8, then 16 ms polls, about ten timers (a 1 ms poll would be ~100).
    expect(sleeps.length).toBeLessThan(15);
    expect(Math.max(...sleeps)).toBe(16);
  });

  it("spends a lease only within its window, then asks the shard again", async () => {
    let now = T0;
    const leases = new IsolateLeases(10, () => now);
    const { ask, sent } = shardAnsweringAt(() => now);
    await leases.consume("k", REQUEST, 8, ask);
    now += LEASE_SPEND_MS - 1;
    await leases.consume("k", REQUEST, 8, ask);
    expect(sent).toHaveLength(1);
    now += 1;
    await leases.consume("k", REQUEST, 8, ask);
    expect(sent).toHaveLength(2);
  });

  it("spendHeld answers from a held lease synchronously, and changes nothing when it cannot", async () => {
    let now = T0;
    const leases = new IsolateLeases(10, () => now);
    const { ask, sent } = shardAnsweringAt(() => now);
    expect(leases.spendHeld("k", 1)).toBeNull();
    expect(leases.size).toBe(0);
    const first = await leases.consume("k", REQUEST, 8, ask);
    expect(first).toMatchObject({ allowed: true, by: "shard" });
    // The same sequence of decisions as consume would give: 8 leased tokens, remaining counting down.
    const held = Array.from({ length: 8 }, () => leases.spendHeld("k", 1));
    expect(held.map((d) => d?.by)).toEqual(Array(8).fill("lease"));
    expect(held.map((d) => d?.remaining)).toEqual([...Array(8).keys()].map((i) => first.remaining - 1 - i));
    expect(leases.spendHeld("k", 1)).toBeNull();
    expect(sent).toHaveLength(1);
    // Spent in full: the next consume asks and reports the lease settled, as if spendHeld had been consume.
    await leases.consume("k", REQUEST, 8, ask);
    expect(sent.map((r) => r.settled ?? 0)).toEqual([0, 8]);
    // Past the window a held token is not spent.
    now += LEASE_SPEND_MS;
    expect(leases.spendHeld("k", 1)).toBeNull();
  });

  it.each([
    // A person browsing: a page every 3 s. Each lease is spent in full and reported so.
    { everyMs: 3_000, requests: 90, calls: 10, settled: [0, 8, 8, 8, 8, 8, 8, 8, 8, 8] },
    // A person reading: a request every 15 s. Each lease covers the next minute, then lapses.
    { everyMs: 15_000, requests: 20, calls: 5, settled: [0, 0, 0, 0, 0] },
  ])(
    "keeps a light client on leases: a request every $everyMs ms, $calls calls for $requests",
    async (shape) => {
      let now = T0;
      const leases = new IsolateLeases(10, () => now);
      const { ask, sent } = shardAnsweringAt(() => now);
      for (let i = 0; i < shape.requests; i++) {
        expect(await leases.consume("k", REQUEST, 8, ask)).toMatchObject({ allowed: true });
        now += shape.everyMs;
      }
      expect(sent).toHaveLength(shape.calls);
      expect(sent.map((r) => r.settled ?? 0)).toEqual(shape.settled);
    },
  );

  it("reports only a lease spent in full within its window", async () => {
    let now = T0;
    const leases = new IsolateLeases(10, () => now);
    const { ask, sent } = shardAnsweringAt(() => now);
    const consume = () => leases.consume("k", REQUEST, 8, ask);
    await consume(); // a call, 8 leased
    for (let i = 0; i < 8; i++) await consume();
    now += LEASE_SPEND_MS; // spent in full, but the next request comes after the window
    await consume();
    expect(sent.map((r) => r.settled)).toEqual([undefined, undefined]);
    await consume(); // 2 of the new lease's 8 spent, then it lapses
    now += LEASE_SPEND_MS;
    await consume();
    expect(sent.map((r) => r.settled)).toEqual([undefined, undefined, undefined]);
  });

  it("does not hang or leak a waiter when the lease request fails", async () => {
    const leases = new IsolateLeases();
    let fail = true;
    const ask = async (request: ConsumeRequest): Promise<ConsumeResult> => {
      await settle();
      if (fail) throw new Error("shard unreachable");
      return { allowed: true, limit: request.burst, remaining: 10, resetS: 1, retryAfterS: 0 };
    };
    const [first, second] = await Promise.allSettled([
      leases.consume("k", REQUEST, 8, ask),
      leases.consume("k", REQUEST, 8, ask).finally(() => {
        fail = false;
      }),
    ]);
    expect(first.status).toBe("rejected");
    expect(second.status).toBe("rejected");
    fail = false;
    expect(await leases.consume("k", REQUEST, 8, ask)).toMatchObject({ allowed: true, remaining: 10 });
  });

  it("holds at most its bound of clients, forgetting the oldest", async () => {
    const leases = new IsolateLeases(3);
    const store = new BucketStore(10);
    const askAs = (key: string) => async (request: ConsumeRequest) => {
      const { result, leased } = store.take("api", key, request, 1, Date.now(), request.lease);
      return leased > 0 ? { ...result, leased } : result;
    };
    for (const key of ["a", "b", "c", "d"]) await leases.consume(key, REQUEST, 8, askAs(key));
    expect(leases.size).toBe(3);
  });
});

describe("leases through the real shard", () => {
  const used: ClientLimiter[] = [];
  afterEach(async () => {
    await flushReports(...used.splice(0));
  });

  async function shardCounts(limiter: ClientLimiter) {
    const { allowed, rejected } = await limiter.stats();
    return allowed.api + rejected.api;
  }

  it("answers most of a busy client's requests without a Durable Object call, headers unchanged", async () => {
    const colo = uniqueColo();
    const ip = uniqueIp();
    const limiter = limiterOf(ip, colo);
    used.push(limiter);
    await useClock(limiter, new ManualClock());
    const fetchApp = appWith({ RATE_API_PER_S: "20", RATE_API_BURST: "40" });
    const remaining: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetchApp("/api/v1/characters", { ip, colo });
      expect(res.status).toBe(200);
      remaining.push(rateLimitHeaders(res).remaining ?? "");
    }
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => String(39 - i)));
    // 1 + 8, 1 + 8, then 1 + 1 (only one token above half the burst): 3 calls decided 20 requests.
    expect(await shardCounts(limiter)).toBe(3);
  });

  it("with RATE_API_LEASE=0, asks the shard for every request", async () => {
    const colo = uniqueColo();
    const ip = uniqueIp();
    const limiter = limiterOf(ip, colo);
    used.push(limiter);
    const fetchApp = appWith({ RATE_API_PER_S: "20", RATE_API_BURST: "40", RATE_API_LEASE: "0" });
    for (let i = 0; i < 10; i++) await fetchApp("/api/v1/characters", { ip, colo });
    expect(await shardCounts(limiter)).toBe(10);
  });

  // With CF-Ray (the edge: its end names the location) the lease table files each request
  // under it and reads no request.cf on a hit; without (tests, wrangler dev) under cf.colo.
  it.each([
    ["request.cf.colo", false],
    ["CF-Ray", true],
  ])(
    "keeps 40 of 100 concurrent at two locations at once, each with its own shard and lease (location from %s)",
    async (_, withRay) => {
      const fetchApp = appWith({ RATE_API_PER_S: "0.001", RATE_API_BURST: "40" });
      const ip = uniqueIp();
      const [fra, sjc] = [uniqueColo(), uniqueColo()];
      used.push(limiterOf(ip, fra), limiterOf(ip, sjc));
      const at = (colo: string) =>
        fetchApp("/api/v1/characters", {
          ip,
          colo,
          ...(withRay && { headers: { "CF-Ray": `8f1c2d3e4a5b6c7d-${colo}` } }),
        });
      const both = await Promise.all(Array.from({ length: 200 }, (_, i) => at(i % 2 ? fra : sjc)));
      expect(statusCounts(both.filter((_, i) => i % 2))).toEqual({ 200: 40, 429: 60 });
      expect(statusCounts(both.filter((_, i) => !(i % 2)))).toEqual({ 200: 40, 429: 60 });
    },
  );

  it("files a lease under CF-Ray's location but takes its tokens from the shard request.cf.colo names", async () => {
    const fetchApp = appWith({ RATE_API_PER_S: "0.001", RATE_API_BURST: "40" });
    const ip = uniqueIp();
    const colo = uniqueColo();
    const limiter = limiterOf(ip, colo);
    used.push(limiter);
    const headers = { "CF-Ray": `8f1c2d3e4a5b6c7d-${uniqueColo()}` };
    const all = await Promise.all(
      Array.from({ length: 100 }, () => fetchApp("/api/v1/characters", { ip, colo, headers })),
    );
    expect(statusCounts(all)).toEqual({ 200: 40, 429: 60 });
    const calls = await shardCounts(limiter);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(100);
  });

  it("admits no more than the bucket when every request names another location in CF-Ray", async () => {
    const fetchApp = appWith({ RATE_API_PER_S: "0.001", RATE_API_BURST: "40" });
    const ip = uniqueIp();
    const colo = uniqueColo();
    const limiter = limiterOf(ip, colo);
    used.push(limiter);
    const forged = (i: number) => ({ "CF-Ray": `8f1c2d3e4a5b6c7d-R${i}` });
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) => fetchApp("/api/v1/characters", { ip, colo, headers: forged(i) })),
    );
    const passed = all.filter((res) => res.status === 200).length;
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(40);
    expect(passed + all.filter((res) => res.status === 429).length).toBe(100);
    // No held token matched a new location: every request asked the one shard of cf.colo.
    expect(await shardCounts(limiter)).toBe(100);
    const again = await fetchApp("/api/v1/characters", { ip, colo, headers: forged(1000) });
    expect(again.status).toBe(429);
  });

  it("counts the eviction of a bucket with tokens leased out as one that cost something", async () => {
    const colo = uniqueColo();
    const limiter = limiterOf(uniqueIp(), colo);
    used.push(limiter);
    const clock = new ManualClock();
    await useClock(limiter, clock);
    await runInDurableObject(limiter.shard, (instance: RateLimiter) => {
      instance.buckets.maxBuckets = 1;
    });
    expect(await limiter.consume({ ...REQUEST, lease: 8 })).toMatchObject({ allowed: true, leased: 8 });
    // 9 tokens refill in 450 ms, but the isolate may spend its lease until the reservation ends.
    clock.advance(1_000);
    await limiter.shard.consume("10.203.0.1", REQUEST);
    expect((await limiter.stats()).buckets).toMatchObject({ evicted: 1, evictedBeforeFull: 1 });
  });
});
