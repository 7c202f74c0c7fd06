import { type Bucket, type BucketRule, type TakeResult, take } from "../rate-limit/token-bucket";

/** API.md: chat turns are limited to `CHAT_TURNS_PER_MIN` with a burst of 5. */
export const CHAT_TURN_BURST = 5;

/** The part of a SQLite-backed Durable Object's synchronous KV the limiter uses. */
export interface TurnBucketStore {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
}

const KEY = "chat-turn-bucket";

/** The token bucket of chat turns for `turnsPerMin` (a refill of turnsPerMin/60 per second). */
export function chatTurnRule(turnsPerMin: number): BucketRule {
  return { ratePerS: turnsPerMin / 60, burst: CHAT_TURN_BURST };
}

/**
 * One user's chat-turn bucket, kept in memory and in the session object's own storage.
 *
 * Why storage: the object hibernates after seconds of idling and may be evicted; a bucket
 * held only in memory would come back full each time, so a client that waits out
 * hibernation would get a fresh burst for free. The stored copy is read once per wake and
 * written only when a turn is allowed (at most burst + rate writes, local SQLite, no
 * network); a refused turn writes nothing, so a flood of refused frames costs no writes.
 *
 * @example
 * const limiter = new TurnLimiter(ctx.storage.kv);
 * const result = limiter.take(chatTurnRule(20), Date.now());
 * if (!result.allowed) refuse("rate_limited", result.retryAfterS);
 */
export class TurnLimiter {
  private bucket: Bucket | undefined;
  private loaded = false;

  constructor(private readonly store: TurnBucketStore) {}

  take(rule: BucketRule, nowMs: number): TakeResult {
    if (!this.loaded) {
      this.bucket = this.store.get<Bucket>(KEY);
      this.loaded = true;
    }
    const { bucket, result } = take(this.bucket, rule, 1, nowMs);
    if (result.allowed) {
      this.bucket = bucket;
      this.store.put(KEY, bucket);
    }
    return result;
  }
}
