/** A zone's rule: tokens refill continuously at `ratePerS`, up to `burst`. */
export interface BucketRule {
  ratePerS: number;
  burst: number;
}

/**
 * A bucket's state: `tokens` as of `updatedMs`, and the tokens leased to an isolate
 * (`reserved`) until `reservedUntilMs` (see `take`'s `leaseWanted`).
 */
export interface Bucket {
  tokens: number;
  updatedMs: number;
  reserved?: number;
  reservedUntilMs?: number;
}

/**
 * How long an isolate may spend leased tokens. Long enough that a light client, one that
 * comes back every few seconds as a person browsing does, spends a whole lease without a
 * call (a call per `lease + 1` requests, not per request); short enough that the tokens a
 * client leaves in an isolate it no longer reaches lower its burst elsewhere (by at most
 * the lease) only briefly.
 */
export const LEASE_SPEND_MS = 30_000;
/**
 * How long a shard counts leased tokens as possibly unspent: the spend window and a margin,
 * so clock skew between the isolate and the shard never lets a token be spent after the
 * shard stopped counting it (the isolate starts its window before it asks, too).
 */
export const LEASE_RESERVE_MS = LEASE_SPEND_MS + 2_000;

/** What one `take` decided, in the units of the `RateLimit-*` and `Retry-After` headers. */
export interface TakeResult {
  allowed: boolean;
  /** The bucket's capacity (`RateLimit-Limit`). */
  limit: number;
  /** Whole tokens left after this request (`RateLimit-Remaining`). */
  remaining: number;
  /** Whole seconds until the bucket is full again (`RateLimit-Reset`); 0 when full. */
  resetS: number;
  /** Whole seconds until this request would pass (`Retry-After`, >= 1); 0 when allowed. */
  retryAfterS: number;
}

/**
 * Refill arithmetic works in fractions of a token (1 ms at 20/s is 0.02); this absorbs the
 * floating-point error so that exactly one token accrued counts as one.
 */
const EPSILON = 1e-9;

/**
 * The bucket at `nowMs`: a missing bucket is full; a clock going backwards mints nothing.
 *
 * While tokens are leased, the bucket refills only up to `burst - reserved`: the leased
 * tokens are counted as still in the bucket until the lease ends, i.e. as if they were all
 * spent at the last moment they may be. So a lease never lets more through than the exact
 * bucket would have, wherever in its life its tokens are spent (it may let fewer through).
 */
export function refill(bucket: Bucket | undefined, rule: BucketRule, nowMs: number): Bucket {
  if (!bucket) return { tokens: rule.burst, updatedMs: nowMs };
  let { tokens, updatedMs } = bucket;
  const reserved = bucket.reserved ?? 0;
  const reservedUntilMs = bucket.reservedUntilMs ?? 0;
  if (reserved > 0 && reservedUntilMs > updatedMs) {
    const leaseEndMs = Math.min(nowMs, reservedUntilMs);
    tokens = grow(tokens, leaseEndMs - updatedMs, rule, rule.burst - reserved);
    updatedMs = Math.max(updatedMs, leaseEndMs);
    if (nowMs < reservedUntilMs) return { tokens, updatedMs, reserved, reservedUntilMs };
  }
  tokens = grow(tokens, nowMs - updatedMs, rule, rule.burst);
  return { tokens, updatedMs: Math.max(nowMs, updatedMs) };
}

/** `tokens` after `elapsedMs` of refill, never past `cap` (and never lowered to it). */
function grow(tokens: number, elapsedMs: number, rule: BucketRule, cap: number): number {
  if (tokens >= cap) return tokens;
  return Math.min(cap, tokens + (Math.max(0, elapsedMs) * rule.ratePerS) / 1000);
}

/**
 * Takes `cost` tokens when the bucket holds them. From a full bucket exactly `burst`
 * requests of cost 1 pass at once and the next one is refused.
 *
 * `leaseWanted` > 0 asks for up to that many more tokens, leased to the caller's isolate
 * (`src/rate-limit/isolate-lease.ts`) to spend without asking again within
 * `LEASE_SPEND_MS`. They are granted only from the upper half of the bucket (a client near
 * its limit gets none, so its refusals stay exact and cheap), and reserved until
 * `LEASE_RESERVE_MS` from now (see `refill`). `result.remaining` and `resetS` count the
 * leased tokens as the client's: they are still the client's to spend.
 *
 * `settled` is the size of a lease the caller's isolate was granted before and has spent in
 * full within its window: those tokens can no longer be spent late, so the shard stops
 * counting them (after this moment's refill, which they still capped). Without it every
 * lease of a steady client would stay reserved for the whole window, and after two or three
 * of them the bucket would be too low to lease again.
 *
 * @example
 * const rule = { ratePerS: 20, burst: 40 };
 * let bucket: Bucket | undefined;
 * const { bucket: next, result } = take(bucket, rule, 1, Date.now());
 * // result: { allowed: true, limit: 40, remaining: 39, resetS: 1, retryAfterS: 0 }
 */
export function take(
  bucket: Bucket | undefined,
  rule: BucketRule,
  cost: number,
  nowMs: number,
  leaseWanted = 0,
  settled = 0,
): { bucket: Bucket; result: TakeResult; leased: number } {
  const current = refill(bucket, rule, nowMs);
  if (settled > 0 && current.reserved) current.reserved = Math.max(0, current.reserved - settled);
  const allowed = current.tokens + EPSILON >= cost;
  const tokens = allowed ? Math.max(0, current.tokens - cost) : current.tokens;
  const leased = allowed
    ? Math.max(0, Math.min(leaseWanted, Math.floor(tokens - rule.burst / 2 + EPSILON)))
    : 0;
  const result: TakeResult = {
    allowed,
    limit: rule.burst,
    remaining: Math.floor(tokens + EPSILON),
    resetS: wholeSeconds((rule.burst - tokens) / rule.ratePerS),
    retryAfterS: allowed ? 0 : Math.max(1, wholeSeconds((cost - tokens) / rule.ratePerS)),
  };
  const next: Bucket = { ...current, tokens: tokens - leased };
  if (leased > 0) {
    // A new lease extends the reservation of any earlier one still running: it may only under-admit.
    next.reserved = (current.reserved ?? 0) + leased;
    next.reservedUntilMs = nowMs + LEASE_RESERVE_MS;
  }
  return { bucket: next, result, leased };
}

/** Rounds a wait up to whole seconds, ignoring rounding noise (2.0000000001 s is 2 s). */
export function wholeSeconds(seconds: number): number {
  return Math.max(0, Math.ceil(seconds - EPSILON));
}
