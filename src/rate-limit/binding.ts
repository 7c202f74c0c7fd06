import type { RateLimiter } from "../../durable-objects/rate-limiter";
import type { ConsumeRequest, ConsumeResult, LimiterStats } from "./protocol";

/** The global instance that limiter shards report their rejections to; never a shard name. */
export const STATS_INSTANCE = "__stats__";

/**
 * Shards per location. Every client address of a location hashes to one of these warm
 * objects, so no client costs an object construction: 16 objects at ~1 000 req/s each is
 * ~16 000 limited requests/s per location before an object queues, and a location with
 * traffic at all keeps all 16 warm.
 */
export const SHARDS_PER_LOCATION = 16;

/** The location part of a shard's name when the request carries no usable colo (local dev, tests). */
export const ANY_LOCATION = "any";
const COLO = /^[A-Z0-9]{2,8}$/;

/** What the middleware calls: the limit of one client key, decided by that key's shard. */
export interface ClientLimiter {
  consume(request: ConsumeRequest): Promise<ConsumeResult>;
  /** The shard's counters (every client of the shard), for tests and diagnostics. */
  stats(): Promise<LimiterStats>;
  /** The shard object that holds this client's buckets (tests inject clocks through it). */
  readonly shard: DurableObjectStub<RateLimiter>;
  readonly shardName: string;
}

/**
 * The limiter of one client key: `consume` is one RPC to the shard object
 * `rl:<colo>:<fnv1a(key) % 16>`, which keeps that key's buckets among many others'.
 *
 * Keyed by location (`request.cf.colo`) so that the shard lives next to the clients that use
 * it: the limit is exact per client per location. An address seen at two locations at once
 * (rare: anycast routes one address to one location) has one bucket in each.
 *
 * @example
 * const decision = await limiterFor(c.env, "203.0.113.7", "FRA").consume({ zone: "api", cost: 1, ratePerS: 20, burst: 40 });
 */
export function limiterFor(env: Pick<Env, "RATE_LIMITER">, key: string, colo?: unknown): ClientLimiter {
  const shardName = shardNameFor(key, colo);
  const shard = env.RATE_LIMITER.get(idFor(env.RATE_LIMITER, shardName));
  return {
    shard,
    shardName,
    consume: (request) => shard.consume(key, request),
    stats: () => shard.stats(),
  };
}

/** `rl:<colo>:<n>`: `n` from a hash of the key, so one key always meets the same shard at one location. */
export function shardNameFor(key: string, colo?: unknown): string {
  const location = isLocationCode(colo) ? colo : ANY_LOCATION;
  return `rl:${location}:${fnv1a(key) % SHARDS_PER_LOCATION}`;
}

/** A data centre's code as `cf.colo` and `CF-Ray` give it ("FRA"); anything else names no location. */
export function isLocationCode(colo: unknown): colo is string {
  return typeof colo === "string" && COLO.test(colo);
}

/** The global stats instance (`idFromName("__stats__")`). */
export function statsLimiter(env: Pick<Env, "RATE_LIMITER">): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(idFor(env.RATE_LIMITER, STATS_INSTANCE));
}

/**
 * `idFromName` hashes the name (SHA-256) on every call; the few shard names of an isolate
 * are worth remembering. Ids (not stubs, which belong to one request) are reusable.
 */
const ids = new WeakMap<object, Map<string, DurableObjectId>>();
const MAX_CACHED_IDS = 1024;

function idFor(namespace: Env["RATE_LIMITER"], name: string): DurableObjectId {
  let byName = ids.get(namespace);
  if (!byName) {
    byName = new Map();
    ids.set(namespace, byName);
  }
  let id = byName.get(name);
  if (!id) {
    if (byName.size >= MAX_CACHED_IDS) byName.clear();
    id = namespace.idFromName(name);
    byName.set(name, id);
  }
  return id;
}

/** 32-bit FNV-1a: cheap, stable across isolates and deploys, spreads similar addresses. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
