import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { decide, type WaitUntil } from "./batcher";
import type { ConsumeRequest, ConsumeResult, LimiterStats } from "./protocol";

/** The global instance that limiter shards report their rejections to; never a shard name. */
export const STATS_INSTANCE = "__stats__";

/**
 * Shards per location. Every client address of a location hashes to one of these warm
 * objects, so no client costs an object construction. Why 8 (it was 16 before batching):
 * an isolate batches its decisions per shard (`batcher.ts`), one call in flight per shard,
 * so the fewer the shards the more decisions share a call: at 8, a busy isolate sends each
 * shard at most one RPC per round trip carrying an eighth of its limited traffic. An object
 * serves on the order of 1 000 RPCs/s, and a batched RPC carries many decisions (each about
 * a microsecond of the object's time), so 8 objects hold well past ~8 000 limited requests/s
 * per location; a location with any traffic keeps all 8 warm. Changing the count moves
 * clients between shards once (each starts with a full bucket in its new one, as after an
 * eviction).
 */
export const SHARDS_PER_LOCATION = 8;

/** The location part of a shard's name when the request carries no usable colo (local dev, tests). */
export const ANY_LOCATION = "any";
const COLO = /^[A-Z0-9]{2,8}$/;

/** What the middleware calls: the limit of one client key, decided by that key's shard. */
export interface ClientLimiter {
  /** One decision, batched with this isolate's other decisions for the same shard (`batcher.ts`). */
  consume(request: ConsumeRequest): Promise<ConsumeResult>;
  /** The shard's counters (every client of the shard), for tests and diagnostics. */
  stats(): Promise<LimiterStats>;
  /** The shard object that holds this client's buckets (tests inject clocks through it). */
  readonly shard: DurableObjectStub<RateLimiter>;
  readonly shardName: string;
}

/**
 * The limiter of one client key: `consume` asks the shard object
 * `rl:<colo>:<fnv1a(key) % SHARDS_PER_LOCATION>`, which keeps that key's buckets among many
 * others', in a batch with this isolate's other decisions for that shard (`batcher.ts`).
 * The stub is made only when this request sends a batch (`RATE_LIMITER.get` per request
 * showed in the profile); `waitUntil` is the request's `ctx.waitUntil`.
 *
 * Keyed by location (`request.cf.colo`) so that the shard lives next to the clients that use
 * it: the limit is exact per client per location. An address seen at two locations at once
 * (rare: anycast routes one address to one location) has one bucket in each.
 *
 * @example
 * const decision = await limiterFor(c.env, "203.0.113.7", "FRA").consume({ zone: "api", cost: 1, ratePerS: 20, burst: 40 });
 */
export function limiterFor(
  env: Pick<Env, "RATE_LIMITER">,
  key: string,
  colo?: unknown,
  waitUntil?: WaitUntil,
): ClientLimiter {
  const namespace = env.RATE_LIMITER;
  const shardName = shardNameFor(key, colo);
  const stubOf = () => namespace.get(idFor(namespace, shardName));
  return {
    get shard() {
      return stubOf();
    },
    shardName,
    consume: (request) => decide(namespace, shardName, { key, ...request }, stubOf, waitUntil),
    stats: () => stubOf().stats(),
  };
}

/** `rl:<colo>:<n>`: `n` (0..SHARDS_PER_LOCATION-1) from a hash of the key, so one key always meets the same shard at one location. */
export function shardNameFor(key: string, colo?: unknown): string {
  const location = typeof colo === "string" && COLO.test(colo) ? colo : ANY_LOCATION;
  return `rl:${location}:${fnv1a(key) % SHARDS_PER_LOCATION}`;
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
