/** A zone's rule: tokens refill continuously at `ratePerS`, up to `burst`. */
export interface BucketRule {
  ratePerS: number;
  burst: number;
}

/** Tokens leased to an isolate, counted as possibly unspent until `untilMs`. */
export interface Reservation {
  tokens: number;
  untilMs: number;
}

/**
 * A bucket's state: `tokens` as of `updatedMs`, and the leases still counted (see `take`'s
 * `leaseWanted`), earliest end first.
 */
export interface Bucket {
  tokens: number;
  updatedMs: number;
  leases?: Reservation[];
}

/**
 * Leases a bucket counts one by one. Past it the two that end first are counted as one,
 * ending at the later end: that counts some tokens a little longer (an under-admission)
 * and keeps a bucket's size bounded however many isolates a client reaches.
 */
const MAX_RESERVATIONS = 4;

/**
 * How long an isolate may spend leased tokens. Long enough that a light client, a person
 * browsing a page every few seconds or reading one for half a minute, spends its lease
 * without a call: a client that comes back every T s costs a call per `1 + 60/T` requests,
 * at most `lease + 1` (T = 15 s: one in 5; T <= 7.5 s with a lease of 8: one in 9). Short
 * enough that the tokens a client leaves in an isolate it no longer reaches lower its burst
 * elsewhere (by at most the lease, 8 of 40) for a minute at most; its rate is unchanged.
 */
export const LEASE_SPEND_MS = 60_000;
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
 * While tokens are leased, the bucket refills only up to `burst` minus the leased tokens
 * still counted: they are counted as still in the bucket until their lease ends, i.e. as
 * if they were all spent at the last moment they may be. So a lease never lets more
 * through than the exact bucket would have, wherever in its life its tokens are spent (it
 * may let fewer through). Each lease stops counting at its own end: a lapsed lease is not
 * carried along by a newer one.
 */
export function refill(bucket: Bucket | undefined, rule: BucketRule, nowMs: number): Bucket {
  if (!bucket) return { tokens: rule.burst, updatedMs: nowMs };
  let { tokens, updatedMs } = bucket;
  const leases = bucket.leases ?? [];
  let reserved = leases.reduce((sum, lease) => sum + lease.tokens, 0);
  let ended = 0;
  for (; ended < leases.length; ended++) {
    const lease = leases[ended] as Reservation;
    if (lease.untilMs > nowMs) break;
    tokens = grow(tokens, lease.untilMs - updatedMs, rule, rule.burst - reserved);
    updatedMs = Math.max(updatedMs, lease.untilMs);
    reserved -= lease.tokens;
  }
  tokens = grow(tokens, nowMs - updatedMs, rule, rule.burst - reserved);
  const next: Bucket = { tokens, updatedMs: Math.max(nowMs, updatedMs) };
  if (ended < leases.length) next.leases = leases.slice(ended);
  return next;
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
 * lease of a steady client would stay counted for the whole window, and after two or three
 * of them the bucket would be too low to lease again. Which lease was the caller's is not
 * known here; taking the tokens off the leases that end first never counts less than the
 * leases still out (the caller's lease ends no earlier than those it is taken from, or it
 * is among them).
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
  if (settled > 0 && current.leases) current.leases = withoutSettled(current.leases, settled);
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
  const next: Bucket = { tokens: tokens - leased, updatedMs: current.updatedMs };
  const leases =
    leased > 0
      ? withLease(current.leases ?? [], { tokens: leased, untilMs: nowMs + LEASE_RESERVE_MS })
      : current.leases;
  if (leases?.length) next.leases = leases;
  return { bucket: next, result, leased };
}

/** `leases` with `tokens` taken off those that end first (see `take`'s `settled`). */
function withoutSettled(leases: Reservation[], tokens: number): Reservation[] {
  const kept: Reservation[] = [];
  let left = tokens;
  for (const lease of leases) {
    const off = Math.min(left, lease.tokens);
    left -= off;
    if (lease.tokens > off) kept.push({ tokens: lease.tokens - off, untilMs: lease.untilMs });
  }
  return kept;
}

/** `leases` and a new one, in end order, at most `MAX_RESERVATIONS` (the two first merged). */
function withLease(leases: Reservation[], lease: Reservation): Reservation[] {
  const all = [...leases, lease].sort((a, b) => a.untilMs - b.untilMs);
  while (all.length > MAX_RESERVATIONS) {
    const [first, second] = all.splice(0, 2) as [Reservation, Reservation];
    all.unshift({ tokens: first.tokens + second.tokens, untilMs: second.untilMs });
  }
  return all;
}

/** Rounds a wait up to whole seconds, ignoring rounding noise (2.0000000001 s is 2 s). */
export function wholeSeconds(seconds: number): number {
  return Math.max(0, Math.ceil(seconds - EPSILON));
}
