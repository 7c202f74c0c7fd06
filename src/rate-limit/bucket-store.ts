import { type Bucket, type BucketRule, type TakeResult, take } from "./token-bucket";

/** A bucket and the moment it will be full again (from then on it equals a missing bucket). */
interface Entry extends Bucket {
  fullAtMs: number;
}

/**
 * The token buckets of many clients in one shard, least recently used first, at most
 * `maxBuckets` of them. A client's bucket per zone is one entry (`zone` + key).
 *
 * Eviction drops the least recently used entry. A dropped bucket restarts full, exactly as
 * a bucket did when its per-client object was evicted: the client gains at most one extra
 * burst per eviction, and nothing at all when the dropped bucket had refilled already
 * (`fullAtMs` passed), which is the normal case: with 20 000 entries per shard, the least
 * recently used one has been idle far longer than a refill (2 s for `api`, 2 s for `strict`;
 * up to 62 s while a lease is out) unless more than 20 000 clients of one shard were active
 * within that time.
 * `evictedBeforeFull` counts the evictions that did cost an extra (partial) burst.
 */
export class BucketStore {
  private readonly entries = new Map<string, Entry>();
  evicted = 0;
  evictedBeforeFull = 0;

  constructor(public maxBuckets: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** `take` of `token-bucket.ts` on the client's bucket of `zone`, leases included. */
  take(
    zone: string,
    key: string,
    rule: BucketRule,
    cost: number,
    nowMs: number,
    leaseWanted = 0,
    settled = 0,
  ): { result: TakeResult; leased: number } {
    const id = `${zone}\n${key}`;
    const previous = this.entries.get(id);
    const { bucket, result, leased } = take(previous, rule, cost, nowMs, leaseWanted, settled);
    // Delete and re-insert: a Map iterates in insertion order, so the first entry is the LRU one.
    if (previous) this.entries.delete(id);
    // A bucket with leased tokens out is full no earlier than its lease's end.
    const fullAtMs = Math.max(
      bucket.leases?.at(-1)?.untilMs ?? 0,
      bucket.updatedMs + ((rule.burst - bucket.tokens) / rule.ratePerS) * 1000,
    );
    this.entries.set(id, { ...bucket, fullAtMs });
    this.evictBeyondBound(nowMs);
    return { result, leased };
  }

  /** Whether a client's bucket of `zone` is held (tests). */
  has(zone: string, key: string): boolean {
    return this.entries.has(`${zone}\n${key}`);
  }

  private evictBeyondBound(nowMs: number): void {
    while (this.entries.size > this.maxBuckets) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) return;
      this.entries.delete(oldest[0]);
      this.evicted += 1;
      if (oldest[1].fullAtMs > nowMs) this.evictedBeforeFull += 1;
    }
  }
}
