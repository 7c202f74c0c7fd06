import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { batching, queuedFor } from "../../src/rate-limit/batcher";
import { type ClientLimiter, limiterFor } from "../../src/rate-limit/binding";
import type { ConsumeItem, ConsumeRequest } from "../../src/rate-limit/protocol";
import { appWith, flushReports, limiterOf, statusCounts, uniqueColo, uniqueIp } from "./rate-limit.support";

const API: ConsumeRequest = { zone: "api", cost: 1, ratePerS: 0.001, burst: 40 };

/**
 * The real `RATE_LIMITER`, counting the batches the isolate sends (their sizes). The vitest
 * pool cannot settle one request's promise from another (it sets
 * `no_handle_cross_request_promise_resolution`), so these tests switch batching on and drive
 * every decision from this test's own context, where it works as in production.
 */
function countingNamespace(inner: Env["RATE_LIMITER"] = env.RATE_LIMITER) {
  const batches: number[] = [];
  const namespace = {
    idFromName: (name: string) => inner.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = inner.get(id);
      return {
        consume: (key: string, request: ConsumeRequest) => stub.consume(key, request),
        consumeBatch: (items: ConsumeItem[]) => {
          batches.push(items.length);
          return stub.consumeBatch(items);
        },
        stats: () => stub.stats(),
      };
    },
  } as unknown as Env["RATE_LIMITER"];
  return { namespace, batches };
}

const used: ClientLimiter[] = [];
let wasEnabled = batching.enabled;
beforeEach(() => {
  wasEnabled = batching.enabled;
  batching.enabled = true;
});
afterEach(async () => {
  batching.enabled = wasEnabled;
  vi.restoreAllMocks();
  await flushReports(...used.splice(0));
});

describe("batched limiter calls", () => {
  it("keeps exact semantics: 100 concurrent decisions of one address, exactly 40 pass, in fewer calls", async () => {
    const { namespace, batches } = countingNamespace();
    const ip = uniqueIp();
    const colo = uniqueColo();
    used.push(limiterOf(ip, colo));
    const limiter = limiterFor({ RATE_LIMITER: namespace }, ip, colo);

    const results = await Promise.all(Array.from({ length: 100 }, () => limiter.consume(API)));

    // Arrival order is decision order: the first 40 pass, every later one is refused.
    expect(results.map((r) => r.allowed)).toEqual([
      ...Array<boolean>(40).fill(true),
      ...Array<boolean>(60).fill(false),
    ]);
    expect(results[39]).toMatchObject({ remaining: 0 });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(100);
    // One call goes out at once; the 99 that arrive while it is in flight share the next one.
    expect(batches).toEqual([1, 99]);
    expect(queuedFor(namespace, limiter.shardName)).toBe(0);
  });

  it("decides each address of a mixed batch on its own bucket", async () => {
    const { namespace, batches } = countingNamespace();
    const colo = uniqueColo();
    // 30 addresses of one shard, each sending 3 concurrent requests against a burst of 2.
    const first = uniqueIp();
    const shardName = limiterFor(env, first, colo).shardName;
    const ips = [first];
    while (ips.length < 30) {
      const ip = uniqueIp();
      if (limiterFor(env, ip, colo).shardName === shardName) ips.push(ip);
    }
    used.push(limiterOf(first, colo));
    const rule: ConsumeRequest = { zone: "api", cost: 1, ratePerS: 0.001, burst: 2 };
    const calls = ips.flatMap((ip) =>
      [0, 1, 2].map(() => ({
        ip,
        decision: limiterFor({ RATE_LIMITER: namespace }, ip, colo).consume(rule),
      })),
    );

    const decided = await Promise.all(
      calls.map(async ({ ip, decision }) => ({ ip, result: await decision })),
    );

    for (const ip of ips) {
      const mine = decided.filter((d) => d.ip === ip).map((d) => d.result);
      expect(mine.map((r) => r.allowed)).toEqual([true, true, false]);
      expect(mine.map((r) => r.remaining)).toEqual([1, 0, 0]);
    }
    expect(batches).toEqual([1, 89]);
  });

  it("fails every decision of a failed batch; each zone then follows its failure mode", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    let calls = 0;
    const broken = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({
        consume: () => Promise.reject(new Error("Durable Object is overloaded")),
        consumeBatch: async (items: ConsumeItem[]) => {
          calls += 1;
          await scheduler.wait(1);
          throw new Error(`Durable Object is overloaded (${items.length} decisions)`);
        },
      }),
    };
    const fetchApp = appWith({ RATE_LIMITER: broken });
    const ip = uniqueIp();
    const reads = Array.from({ length: 10 }, () => fetchApp("/api/v1/characters", { ip }));
    const signIns = Array.from({ length: 10 }, () => fetchApp("/api/v1/auth/guest", { method: "POST", ip }));

    const [readResponses, signInResponses] = await Promise.all([Promise.all(reads), Promise.all(signIns)]);

    // `api` fails open (no RateLimit-* headers), `strict` fails closed.
    expect(statusCounts(readResponses)).toEqual({ 200: 10 });
    expect(readResponses.every((r) => r.headers.get("RateLimit-Remaining") === null)).toBe(true);
    expect(statusCounts(signInResponses)).toEqual({ 503: 10 });
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(20);
  });

  it("goes on after a failed batch: the next decisions are asked again and answered", async () => {
    const ip = uniqueIp();
    const colo = uniqueColo();
    used.push(limiterOf(ip, colo));
    let fail = true;
    const { namespace } = countingNamespace();
    const flaky = {
      idFromName: (name: string) => namespace.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = namespace.get(id);
        return {
          consumeBatch: (items: ConsumeItem[]) =>
            fail ? Promise.reject(new Error("reset")) : stub.consumeBatch(items),
        };
      },
    } as unknown as Env["RATE_LIMITER"];
    const limiter = limiterFor({ RATE_LIMITER: flaky }, ip, colo);
    const failed = await Promise.allSettled(Array.from({ length: 5 }, () => limiter.consume(API)));
    expect(failed.every((r) => r.status === "rejected")).toBe(true);
    fail = false;
    const results = await Promise.all(Array.from({ length: 41 }, () => limiter.consume(API)));
    expect(results.filter((r) => r.allowed)).toHaveLength(40);
  });
});

describe("RateLimiter.consumeBatch", () => {
  it("validates the whole batch before taking any token", async () => {
    const ip = uniqueIp();
    const limiter = limiterOf(ip, uniqueColo());
    used.push(limiter);
    const good: ConsumeItem = { key: ip, ...API };
    await runInDurableObject(limiter.shard, (instance: RateLimiter) => {
      expect(() =>
        instance.consumeBatch([good, { ...good, zone: "nope" } as unknown as ConsumeItem]),
      ).toThrow(/consumeBatch\[1\]: consume: zone must be one of/);
      expect(() => instance.consumeBatch([])).toThrow(/array of 1\.\.1024/);
      expect(() => instance.consumeBatch([{ ...good, key: "" }])).toThrow(/consumeBatch\[0\]: consume: key/);
    });
    expect(await limiter.shard.consumeBatch([good])).toEqual([
      { allowed: true, limit: 40, remaining: 39, resetS: expect.any(Number), retryAfterS: 0 },
    ]);
  });
});
