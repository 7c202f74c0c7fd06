import type { RateLimiter } from "../../durable-objects/rate-limiter";

/** The global instance that limiter instances report their rejections to; never a client key. */
export const STATS_INSTANCE = "__stats__";

/**
 * The limiter of one client key (`idFromName(key)`): one object per client, wherever it connects.
 *
 * @example
 * const decision = await limiterFor(c.env, "203.0.113.7").consume({ zone: "api", cost: 1, ratePerS: 20, burst: 40 });
 */
export function limiterFor(env: Pick<Env, "RATE_LIMITER">, key: string): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
}

/** The global stats instance (`idFromName("__stats__")`). */
export function statsLimiter(env: Pick<Env, "RATE_LIMITER">): DurableObjectStub<RateLimiter> {
  return limiterFor(env, STATS_INSTANCE);
}
