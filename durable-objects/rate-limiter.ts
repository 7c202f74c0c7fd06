import { DurableObject } from "cloudflare:workers";
import { log } from "../src/ops/log";
import { STATS_INSTANCE, statsLimiter } from "../src/rate-limit/binding";
import { BucketStore } from "../src/rate-limit/bucket-store";
import { ZoneCounters } from "../src/rate-limit/counters";
import {
  type ConsumeRequest,
  type ConsumeResult,
  emptyCounts,
  type LimiterStats,
  parseClientKey,
  parseConsumeRequest,
  parseZoneCounts,
  type ZoneCounts,
} from "../src/rate-limit/protocol";
import { ZONES } from "../src/rate-limit/zones";

/**
 * Rejections wait this long before they are reported to the global instance: one report per
 * busy shard per interval, sent well before an idle object may be evicted (about 10 s).
 */
const REPORT_DELAY_MS = 5_000;
/** A report that keeps failing is dropped after this many alarms rather than retried forever. */
const MAX_REPORT_ATTEMPTS = 3;
const TOTALS_KEY = "rejections";
/** Buckets per shard (about 100 bytes each): see `BucketStore` for what an eviction costs a client. */
const MAX_BUCKETS_PER_SHARD = 20_000;

/**
 * Token buckets of many clients (every zone), one shard of a location: the Worker sends each
 * client key to `rl:<colo>:<hash(key) % 16>` (`src/rate-limit/binding.ts`), so a handful of
 * objects per location stay warm and no client costs an object construction, while every
 * decision for one key at one location is still made by one single-threaded object: exact.
 *
 * Buckets live in memory only (`BucketStore`, bounded LRU): a request costs one RPC and no
 * storage write. When the shard is evicted (idle, deploy, restart) or drops a bucket from its
 * LRU, that client's next request finds a fresh, full bucket: at most one extra burst per
 * eviction, and an evicted bucket has normally refilled anyway. Persisting every request
 * would instead add a write (about $1 per million) and its latency to every API call.
 *
 * Rejections are counted in memory and reported in batches from an alarm to the global
 * instance `idFromName("__stats__")`, the same class, which keeps the totals in its storage
 * for the admin stats endpoint (`src/rate-limit/stats.ts`).
 */
export class RateLimiter extends DurableObject<Env> {
  /** Wall clock of the buckets; tests swap it in `runInDurableObject` (fields are not reachable over RPC). */
  clock: () => number = () => Date.now();

  /** Tests lower `buckets.maxBuckets` in `runInDurableObject` to exercise eviction. */
  readonly buckets = new BucketStore(MAX_BUCKETS_PER_SHARD);
  private readonly counters = new ZoneCounters();
  private reportPending = false;
  private reportAttempts = 0;

  /**
   * Takes `cost` tokens from the client's bucket of the zone if it holds them; returns the
   * header values, and the tokens leased to the caller's isolate when it asked for some.
   */
  consume(key: string, request: ConsumeRequest): ConsumeResult {
    if (this.isGlobal) throw new Error("consume: the stats instance is not a shard");
    const client = parseClientKey(key);
    const { zone, cost, ratePerS, burst, lease, settled } = parseConsumeRequest(request);
    const { result, leased } = this.buckets.take(
      zone,
      client,
      { ratePerS, burst },
      cost,
      this.clock(),
      lease,
      settled,
    );
    this.counters.count(zone, result.allowed);
    if (!result.allowed) this.scheduleReport();
    return leased > 0 ? { ...result, leased } : result;
  }

  /** This shard's counters since it loaded, or, on the stats instance, every shard's rejections. */
  stats(): LimiterStats {
    if (!this.isGlobal) {
      const { size: held, evicted, evictedBeforeFull } = this.buckets;
      return { ...this.counters.snapshot(), buckets: { held, evicted, evictedBeforeFull } };
    }
    return { scope: "global", allowed: emptyCounts(), rejected: this.totals(), unreported: emptyCounts() };
  }

  /** Stats instance only: adds one shard's batch of rejections to the totals. */
  record(batch: ZoneCounts): void {
    if (!this.isGlobal) throw new Error("record: only the stats instance accepts reports");
    const counts = parseZoneCounts(batch);
    const totals = this.totals();
    const sum = emptyCounts();
    for (const zone of ZONES) sum[zone] = (totals[zone] ?? 0) + counts[zone];
    this.ctx.storage.kv.put<ZoneCounts>(TOTALS_KEY, sum);
  }

  /** Reports the rejections counted since the last report to the stats instance. */
  override async alarm(): Promise<void> {
    this.reportPending = false;
    const batch = this.counters.takeUnreported();
    if (!batch) return;
    try {
      await statsLimiter(this.env).record(batch);
      this.reportAttempts = 0;
    } catch (error) {
      this.reportAttempts += 1;
      const retry = this.reportAttempts < MAX_REPORT_ATTEMPTS;
      log.error("rate limiter could not report rejections", {
        rejected: batch,
        attempt: this.reportAttempts,
        will_retry: retry,
        error: String(error),
      });
      if (retry) {
        this.counters.restore(batch);
        this.scheduleReport();
      } else {
        this.reportAttempts = 0;
      }
    }
  }

  private get isGlobal(): boolean {
    return this.ctx.id.name === STATS_INSTANCE;
  }

  private totals(): ZoneCounts {
    // Totals stored before a zone existed lack it: start it at 0.
    return { ...emptyCounts(), ...this.ctx.storage.kv.get<ZoneCounts>(TOTALS_KEY) };
  }

  /** At most one alarm write per shard per report interval, and only once a request has been refused. */
  private scheduleReport(): void {
    if (this.reportPending) return;
    this.reportPending = true;
    this.ctx.storage.setAlarm(Date.now() + REPORT_DELAY_MS).catch((error: unknown) => {
      this.reportPending = false;
      log.error("rate limiter could not set its alarm", { error: String(error) });
    });
  }
}
