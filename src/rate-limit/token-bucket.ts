/** A zone's rule: tokens refill continuously at `ratePerS`, up to `burst`. */
export interface BucketRule {
  ratePerS: number;
  burst: number;
}

/** A bucket's state: `tokens` as of `updatedMs`. */
export interface Bucket {
  tokens: number;
  updatedMs: number;
}

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

/** The bucket at `nowMs`: a missing bucket is full; a clock going backwards mints nothing. */
export function refill(bucket: Bucket | undefined, rule: BucketRule, nowMs: number): Bucket {
  if (!bucket) return { tokens: rule.burst, updatedMs: nowMs };
  const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
  const tokens = Math.min(rule.burst, bucket.tokens + (elapsedMs * rule.ratePerS) / 1000);
  return { tokens, updatedMs: Math.max(nowMs, bucket.updatedMs) };
}

/**
 * Takes `cost` tokens when the bucket holds them. From a full bucket exactly `burst`
 * requests of cost 1 pass at once and the next one is refused.
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
): { bucket: Bucket; result: TakeResult } {
  const current = refill(bucket, rule, nowMs);
  const allowed = current.tokens + EPSILON >= cost;
  const tokens = allowed ? Math.max(0, current.tokens - cost) : current.tokens;
  const result: TakeResult = {
    allowed,
    limit: rule.burst,
    remaining: Math.floor(tokens + EPSILON),
    resetS: wholeSeconds((rule.burst - tokens) / rule.ratePerS),
    retryAfterS: allowed ? 0 : Math.max(1, wholeSeconds((cost - tokens) / rule.ratePerS)),
  };
  return { bucket: { tokens, updatedMs: current.updatedMs }, result };
}

/** Rounds a wait up to whole seconds, ignoring rounding noise (2.0000000001 s is 2 s). */
function wholeSeconds(seconds: number): number {
  return Math.max(0, Math.ceil(seconds - EPSILON));
}
