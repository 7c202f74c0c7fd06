import type { RateLimiter } from "../../durable-objects/rate-limiter";
import type { ConsumeItem, ConsumeResult } from "./protocol";

/** Decisions per RPC at most; more wait for the next call (an RPC argument stays small). */
export const MAX_BATCH = 256;

/**
 * A queued decision keeps a timer of this length pending in its own request. workerd cancels
 * a request that awaits only a promise another request will settle ("the script will never
 * generate a response": no I/O of its own is pending), so the timer is what keeps it alive.
 * It is also the stall guard: if the shard's batches made no progress for this long (a
 * sender's request died before handing over), the waiting decisions fail (each zone's failure
 * mode) and the lane starts afresh. Batching itself waits for nothing but the call in flight.
 */
export const WAITER_TIMEOUT_MS = 5_000;

/** What the batcher needs from the request: `ctx.waitUntil`, so a batch outlives its sender's response. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** Settles a queued decision: its answer, an error, or `TURN` (this request sends the next batch). */
const TURN = Symbol("turn");
type Outcome = ConsumeResult | typeof TURN;

interface Waiter {
  item: ConsumeItem;
  settle: (outcome: Outcome) => void;
  fail: (error: unknown) => void;
}

/** One shard as this isolate sees it: whether a call is in flight, and the decisions waiting for it. */
interface Lane {
  busy: boolean;
  queue: Waiter[];
  /** When the current sender started (or was handed the turn): the stall guard's reference. */
  sinceMs: number;
  /** Bumped when a stalled lane is reset, so a sender that answers late hands nothing over. */
  generation: number;
}

type Namespace = Env["RATE_LIMITER"];

/**
 * Whether decisions of different requests may share a call. A batch settles the promises of
 * other requests than its sender's, which workerd supports with the compatibility flag
 * `handle_cross_request_promise_resolution` (on by default since 2024-10-14; wrangler.toml's
 * date is later). Without it (e.g. the vitest pool, which sets
 * `no_handle_cross_request_promise_resolution`) a request woken by another hangs, so each
 * decision is then its own call, as before batching. Tests that drive many decisions from
 * one request context switch batching on here.
 */
export const batching = { enabled: crossRequestSettlement() };

function crossRequestSettlement(): boolean {
  const runtime = (globalThis as { Cloudflare?: { compatibilityFlags?: Record<string, boolean> } })
    .Cloudflare;
  return runtime?.compatibilityFlags?.handle_cross_request_promise_resolution === true;
}
const lanes = new WeakMap<Namespace, Map<string, Lane>>();

/**
 * One decision of a shard, batched with the others of this isolate (Nagle-style, no timers):
 * when no call to the shard is in flight, this request calls it at once with its own decision,
 * as it would alone; while one is in flight, decisions queue here, and when it returns, the
 * first queued request sends every queued decision (up to `MAX_BATCH`) in ONE RPC, which
 * the shard decides in order. Light load costs one RPC per decision, as before; heavy load
 * at most one RPC per round trip per shard, which bounds the isolate's serialising and the
 * billed Durable Object requests.
 *
 * Exactness: one call per shard in flight per isolate, and a FIFO queue, so the shard sees
 * this isolate's decisions in arrival order (100 concurrent requests of one address: the
 * first 40 pass, the rest are refused, as with one RPC each). Nothing is decided here.
 *
 * Each RPC is made by a request whose own decision is in it, in its own request context
 * (an I/O object of one request cannot be used by another): the previous sender hands the
 * turn to the first waiter by settling its promise, and the runtime runs that continuation
 * in the waiter's context. `waitUntil` keeps a sender's context alive until its batch is
 * answered and a waiter's until it is decided, so a client that hangs up cannot strand the
 * others' decisions.
 *
 * A failed call fails every decision in it (each zone then follows its failure mode).
 *
 * @example
 * const result = await decide(env.RATE_LIMITER, "rl:FRA:3", { key: "203.0.113.7", zone: "api", cost: 1, ratePerS: 20, burst: 40 });
 */
export async function decide(
  namespace: Namespace,
  shardName: string,
  item: ConsumeItem,
  stubOf: () => DurableObjectStub<RateLimiter>,
  waitUntil?: WaitUntil,
): Promise<ConsumeResult> {
  if (!batching.enabled) return stubOf().consume(item.key, item);
  const lane = laneOf(namespace, shardName);
  if (lane.busy) {
    const outcome = await enqueue(lane, item, waitUntil);
    if (outcome !== TURN) return outcome;
    return sendBatch(lane, stubOf, waitUntil, undefined);
  }
  lane.busy = true;
  lane.sinceMs = Date.now();
  return sendBatch(lane, stubOf, waitUntil, item);
}

/** How many decisions wait for a shard in this isolate (tests). */
export function queuedFor(namespace: Namespace, shardName: string): number {
  return lanes.get(namespace)?.get(shardName)?.queue.length ?? 0;
}

function enqueue(lane: Lane, item: ConsumeItem, waitUntil: WaitUntil | undefined): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<Outcome>((settle, fail) => {
    lane.queue.push({ item, settle, fail });
    const guard = () => {
      if (Date.now() - lane.sinceMs < WAITER_TIMEOUT_MS) timer = setTimeout(guard, WAITER_TIMEOUT_MS);
      else resetStalled(lane);
    };
    timer = setTimeout(guard, WAITER_TIMEOUT_MS);
  });
  const settled = promise.finally(() => clearTimeout(timer));
  waitUntil?.(settled.catch(() => {}));
  return settled;
}

/** No progress for `WAITER_TIMEOUT_MS`: every waiting decision fails, and the lane is idle again. */
function resetStalled(lane: Lane): void {
  lane.generation += 1;
  lane.busy = false;
  const error = new Error(`rate limiter shard made no progress for ${WAITER_TIMEOUT_MS} ms`);
  for (const waiter of lane.queue.splice(0)) waiter.fail(error);
}

/**
 * Sends `own` (an idle lane's first decision) or, after a hand-over, the queue (this
 * request's decision first in it), and settles the other decisions of the batch.
 */
async function sendBatch(
  lane: Lane,
  stubOf: () => DurableObjectStub<RateLimiter>,
  waitUntil: WaitUntil | undefined,
  own: ConsumeItem | undefined,
): Promise<ConsumeResult> {
  const generation = lane.generation;
  lane.sinceMs = Date.now();
  const others = own ? [] : lane.queue.splice(0, MAX_BATCH);
  // After a hand-over this request is the queue's head: its own entry is others[0].
  const items = own ? [own] : others.map((w) => w.item);
  let results: ConsumeResult[];
  try {
    const call = stubOf().consumeBatch(items) as Promise<ConsumeResult[]>;
    if (others.length > 1) waitUntil?.(call.catch(() => {}));
    results = await call;
    if (!Array.isArray(results) || results.length !== items.length) {
      throw new Error(`rate limiter answered ${describe(results)} to a batch of ${items.length}`);
    }
  } catch (error) {
    handOver(lane, generation);
    for (let i = 1; i < others.length; i++) others[i]?.fail(error);
    throw error;
  }
  handOver(lane, generation);
  for (let i = 1; i < others.length; i++) others[i]?.settle(results[i] as ConsumeResult);
  return results[0] as ConsumeResult;
}

/** The first waiter sends next (in its own request context); with none, the lane goes idle. */
function handOver(lane: Lane, generation: number): void {
  if (lane.generation !== generation) return; // reset as stalled meanwhile: the lane is someone else's
  lane.sinceMs = Date.now();
  const next = lane.queue[0];
  if (next) next.settle(TURN);
  else lane.busy = false;
}

function laneOf(namespace: Namespace, shardName: string): Lane {
  let byShard = lanes.get(namespace);
  if (!byShard) {
    byShard = new Map();
    lanes.set(namespace, byShard);
  }
  let lane = byShard.get(shardName);
  if (!lane) {
    lane = { busy: false, queue: [], sinceMs: 0, generation: 0 };
    byShard.set(shardName, lane);
  }
  return lane;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `${value.length} results` : typeof value;
}
