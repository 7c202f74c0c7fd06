import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import {
  ANY_LOCATION,
  type ClientLimiter,
  SHARDS_PER_LOCATION,
  shardNameFor,
} from "../../src/rate-limit/binding";
import type { ConsumeRequest } from "../../src/rate-limit/protocol";
import {
  appWith,
  flushReports,
  limiterOf,
  ManualClock,
  statusCounts,
  uniqueColo,
  uniqueIp,
  useClock,
} from "./rate-limit.support";

const API: ConsumeRequest = { zone: "api", cost: 1, ratePerS: 20, burst: 40 };

const used: ClientLimiter[] = [];
afterEach(async () => {
  await flushReports(...used.splice(0));
});

/** A limiter at a location of its own, its shard on a clock the test moves. */
async function isolatedLimiter(ip = uniqueIp(), colo = uniqueColo()) {
  const limiter = limiterOf(ip, colo);
  used.push(limiter);
  const clock = new ManualClock();
  await useClock(limiter, clock);
  return { limiter, clock, ip, colo };
}

async function drain(limiter: ClientLimiter, request: ConsumeRequest, n: number) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await limiter.consume(request));
  return results;
}

async function setMaxBuckets(limiter: ClientLimiter, max: number) {
  await runInDurableObject(limiter.shard, (instance: RateLimiter) => {
    instance.buckets.maxBuckets = max;
  });
}

describe("shard naming", () => {
  it("sends one key to one shard per location, and spreads keys over every shard", () => {
    expect(shardNameFor("203.0.113.7", "FRA")).toBe(shardNameFor("203.0.113.7", "FRA"));
    expect(shardNameFor("203.0.113.7", "FRA")).toMatch(/^rl:FRA:\d+$/);
    expect(shardNameFor("203.0.113.7", "FRA").split(":")[2]).toBe(
      shardNameFor("203.0.113.7", "SJC").split(":")[2],
    );
    const perShard = new Map<string, number>();
    for (let i = 0; i < 4096; i++) {
      const name = shardNameFor(`10.${i >> 8}.${i & 255}.1`, "FRA");
      perShard.set(name, (perShard.get(name) ?? 0) + 1);
    }
    expect(perShard.size).toBe(SHARDS_PER_LOCATION);
    // 256 per shard on average; a hash that clustered similar addresses would leave shards near empty.
    expect(Math.min(...perShard.values())).toBeGreaterThan(128);
  });

  it("names no shard after a colo it cannot trust", () => {
    for (const colo of [undefined, null, "", "fra", "FRA:1", "A".repeat(20), 42]) {
      expect(shardNameFor("203.0.113.7", colo)).toMatch(new RegExp(`^rl:${ANY_LOCATION}:\\d+$`));
    }
  });
});

describe("many clients in one shard", () => {
  it("keeps each client's bucket apart inside one shard: 40 of 100 concurrent each, others untouched", async () => {
    const colo = uniqueColo();
    const { limiter: first } = await isolatedLimiter(uniqueIp(), colo);
    // Another address that hashes to the same shard.
    let neighbour = uniqueIp();
    while (limiterOf(neighbour, colo).shardName !== first.shardName) neighbour = uniqueIp();
    const second = limiterOf(neighbour, colo);

    const results = await Promise.all(Array.from({ length: 100 }, () => first.consume(API)));
    expect(results.filter((r) => r.allowed)).toHaveLength(40);
    expect(await second.consume(API)).toMatchObject({ allowed: true, remaining: 39 });
    expect((await first.stats()).buckets?.held).toBe(2);
  });

  it("serves 500 addresses from at most 16 objects per location, each with a full bucket of its own", async () => {
    const colo = uniqueColo();
    const limiters = Array.from({ length: 500 }, () => limiterOf(uniqueIp(), colo));
    used.push(...new Map(limiters.map((l) => [l.shardName, l])).values());
    const first = await Promise.all(limiters.map((l) => l.consume(API)));
    expect(first.every((r) => r.allowed && r.remaining === 39)).toBe(true);
    const shards = new Map(limiters.map((l) => [l.shardName, l]));
    expect(shards.size).toBe(SHARDS_PER_LOCATION);
    let held = 0;
    for (const shard of shards.values()) held += (await shard.stats()).buckets?.held ?? 0;
    expect(held).toBe(500);
  }, 60_000);
});

describe("bounded buckets per shard (LRU)", () => {
  it("never holds more than its bound, however many clients pass", async () => {
    const { limiter } = await isolatedLimiter();
    await setMaxBuckets(limiter, 10);
    // The shard does not check which keys hash to it: the Worker chooses the shard.
    for (let i = 0; i < 50; i++) await limiter.shard.consume(`10.200.0.${i}`, API);
    const { buckets } = await limiter.stats();
    expect(buckets?.held).toBe(10);
    expect(buckets?.evicted).toBe(40);
  });

  it("evicts the least recently used bucket; an evicted bucket restarts full (one extra burst at most)", async () => {
    const { limiter } = await isolatedLimiter();
    await setMaxBuckets(limiter, 3);
    const consumeAs = (key: string) => limiter.shard.consume(key, API);

    const burst = await drain(limiter, API, 41);
    expect(burst.filter((r) => r.allowed)).toHaveLength(40);
    await consumeAs("10.201.0.1");
    await consumeAs("10.201.0.2");
    // Touching the drained client keeps it: 10.201.0.1 is now the least recently used.
    expect(await limiter.consume(API)).toMatchObject({ allowed: false });
    await consumeAs("10.201.0.3");
    expect((await limiter.stats()).buckets).toEqual({ held: 3, evicted: 1, evictedBeforeFull: 1 });
    expect(await limiter.consume(API)).toMatchObject({ allowed: false });

    // Three more clients push the drained bucket out: it comes back full, as after an object eviction.
    await consumeAs("10.201.0.4");
    await consumeAs("10.201.0.5");
    await consumeAs("10.201.0.6");
    expect((await limiter.stats()).buckets?.evicted).toBe(4);
    const again = await drain(limiter, API, 41);
    expect(again.filter((r) => r.allowed)).toHaveLength(40);
  });

  it("counts an eviction of a bucket that had refilled as free", async () => {
    const { limiter, clock } = await isolatedLimiter();
    await setMaxBuckets(limiter, 1);
    await drain(limiter, API, 40);
    clock.advance(2_000); // 40 tokens at 20/s: full again.
    await limiter.shard.consume("10.202.0.1", API);
    expect((await limiter.stats()).buckets).toEqual({ held: 1, evicted: 1, evictedBeforeFull: 0 });
  });
});

describe("an address moving between locations", () => {
  it("has one bucket per location: a new location starts full, the old one keeps its state", async () => {
    const ip = uniqueIp();
    const { limiter: atFirst, clock } = await isolatedLimiter(ip);
    const { limiter: atSecond } = await isolatedLimiter(ip);
    expect(atSecond.shardName).not.toBe(atFirst.shardName);

    expect((await drain(atFirst, API, 41)).filter((r) => r.allowed)).toHaveLength(40);
    expect(await atSecond.consume(API)).toMatchObject({ allowed: true, remaining: 39 });
    expect(await atFirst.consume(API)).toMatchObject({ allowed: false, retryAfterS: 1 });
    clock.advance(1_000);
    expect((await drain(atFirst, API, 21)).filter((r) => r.allowed)).toHaveLength(20);
  });

  it("over HTTP, follows request.cf.colo", async () => {
    const fetchApp = appWith({ RATE_API_PER_S: "0.001", RATE_API_BURST: "40" });
    const ip = uniqueIp();
    const [fra, sjc] = [uniqueColo(), uniqueColo()];
    used.push(limiterOf(ip, fra), limiterOf(ip, sjc));
    const at = (colo: string) => fetchApp("/api/v1/characters", { ip, colo });
    const first = await Promise.all(Array.from({ length: 50 }, () => at(fra)));
    expect(statusCounts(first)).toEqual({ 200: 40, 429: 10 });
    const moved = await at(sjc);
    expect(moved.status).toBe(200);
    expect(moved.headers.get("RateLimit-Remaining")).toBe("39");
  });
});
