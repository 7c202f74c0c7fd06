import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { type ClientLimiter, statsLimiter } from "../../src/rate-limit/binding";
import type { ConsumeRequest } from "../../src/rate-limit/protocol";
import { rateLimitRejections } from "../../src/rate-limit/stats";
import { flushReports, limiterOf, ManualClock, uniqueColo, uniqueIp, useClock } from "./rate-limit.support";

const API: ConsumeRequest = { zone: "api", cost: 1, ratePerS: 20, burst: 40 };
const STRICT: ConsumeRequest = { zone: "strict", cost: 1, ratePerS: 5, burst: 10 };

const used: ClientLimiter[] = [];
/** A fresh client at a location of its own, so its shard's counters are this test's alone. */
function freshLimiter() {
  const stub = limiterOf(uniqueIp(), uniqueColo());
  used.push(stub);
  return stub;
}
afterEach(async () => {
  await flushReports(...used.splice(0));
});

async function consumeTimes(stub: ClientLimiter, request: ConsumeRequest, n: number) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await stub.consume(request));
  return results;
}

describe("RateLimiter RPC", () => {
  it("refills over injected time: 40 at once, then one per 50 ms, never past the burst", async () => {
    const stub = freshLimiter();
    const clock = new ManualClock();
    await useClock(stub, clock);

    const burst = await consumeTimes(stub, API, 41);
    expect(burst.filter((r) => r.allowed)).toHaveLength(40);
    expect(burst[40]).toEqual({ allowed: false, limit: 40, remaining: 0, resetS: 2, retryAfterS: 1 });

    clock.advance(50);
    expect(await stub.consume(API)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await stub.consume(API)).toMatchObject({ allowed: false });

    clock.advance(1000);
    const second = await consumeTimes(stub, API, 21);
    expect(second.filter((r) => r.allowed)).toHaveLength(20);

    clock.advance(3_600_000);
    const afterIdle = await consumeTimes(stub, API, 41);
    expect(afterIdle.filter((r) => r.allowed)).toHaveLength(40);
  });

  it("keeps the zones of one client apart", async () => {
    const stub = freshLimiter();
    await useClock(stub, new ManualClock());
    const strict = await consumeTimes(stub, STRICT, 11);
    expect(strict.map((r) => r.allowed).lastIndexOf(true)).toBe(9);
    expect(await stub.consume(API)).toMatchObject({ allowed: true, remaining: 39 });
  });

  it("answers 40 of 100 concurrent calls", async () => {
    const stub = freshLimiter();
    await useClock(stub, new ManualClock());
    const results = await Promise.all(Array.from({ length: 100 }, () => stub.consume(API)));
    expect(results.filter((r) => r.allowed)).toHaveLength(40);
  });

  // Called in the object rather than through the stub: a rejecting RPC leaks an unhandled
  // rejection in the Workers pool (cloudflare/workers-sdk#14736). The checks are the same code.
  it.each([
    [{ ...API, zone: "admin" }, /zone/],
    [{ ...API, cost: 0 }, /cost/],
    [{ ...API, cost: 41 }, /cost/],
    [{ ...API, cost: 1.5 }, /cost/],
    [{ ...API, ratePerS: 0 }, /ratePerS/],
    [{ ...API, ratePerS: Number.NaN }, /ratePerS/],
    [{ ...API, burst: 2.5 }, /burst/],
    [{ ...API, lease: 41 }, /lease/],
    [{ ...API, lease: 1.5 }, /lease/],
    [{ ...API, lease: -1 }, /lease/],
    [{ ...API, settled: 41 }, /settled/],
    [{ ...API, settled: 2.5 }, /settled/],
    [{ ...API, settled: "8" }, /settled/],
    [null, /object/],
  ])("rejects the invalid input %j", async (input, message) => {
    await runInDurableObject(freshLimiter().shard, (instance: RateLimiter) => {
      expect(() => instance.consume("10.0.0.1", input as ConsumeRequest)).toThrow(message);
    });
  });

  it("keeps buckets in memory: no storage write for any number of requests", async () => {
    const stub = freshLimiter();
    await useClock(stub, new ManualClock());
    await consumeTimes(stub, API, 30);
    const stored = await runInDurableObject(stub.shard, (_instance, state) => [...state.storage.kv.list()]);
    expect(stored).toEqual([]);
    expect(await runInDurableObject(stub.shard, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("counts rejections per zone and reports them to the stats instance from its alarm", async () => {
    const stub = freshLimiter();
    await useClock(stub, new ManualClock());
    await consumeTimes(stub, API, 43);
    await consumeTimes(stub, STRICT, 12);
    expect(await stub.stats()).toEqual({
      scope: "shard",
      allowed: { api: 40, strict: 10, identity: 0 },
      rejected: { api: 3, strict: 2, identity: 0 },
      unreported: { api: 3, strict: 2, identity: 0 },
      buckets: { held: 2, evicted: 0, evictedBeforeFull: 0 },
    });
    // One alarm for the whole batch, and nothing reported before it fires.
    expect(
      await runInDurableObject(stub.shard, (_instance, state) => state.storage.getAlarm()),
    ).not.toBeNull();

    const before = await rateLimitRejections(env);
    await flushReports(stub);
    const after = await rateLimitRejections(env);
    expect({ api: after.api - before.api, strict: after.strict - before.strict }).toEqual({
      api: 3,
      strict: 2,
    });
    expect((await stub.stats()).unreported).toEqual({ api: 0, strict: 0, identity: 0 });
    expect((await statsLimiter(env).stats()).scope).toBe("global");
  });

  it("accepts reports only on the stats instance, and only valid ones", async () => {
    await runInDurableObject(freshLimiter().shard, (instance: RateLimiter) => {
      expect(() => instance.record({ api: 1, strict: 0, identity: 0 })).toThrow(/only the stats instance/);
    });
    await runInDurableObject(statsLimiter(env), (instance: RateLimiter) => {
      expect(() => instance.record({ api: -1, strict: 0, identity: 0 })).toThrow(/non-negative/);
      expect(() => instance.record({ api: 1, strict: 0, identity: 0, admin: 5 } as never)).toThrow(
        /unknown zone/,
      );
      expect(() => instance.consume("10.0.0.1", API)).toThrow(/not a shard/);
    });
  });
});
