import { DurableObject } from "cloudflare:workers";
import { log } from "../src/ops/log";
import { STATS_INSTANCE, statsLimiter } from "../src/rate-limit/binding";
import { ZoneCounters } from "../src/rate-limit/counters";
import {
  type ConsumeRequest,
  type ConsumeResult,
  emptyCounts,
  type LimiterStats,
  parseConsumeRequest,
  parseZoneCounts,
  type ZoneCounts,
} from "../src/rate-limit/protocol";
import { type Bucket, take } from "../src/rate-limit/token-bucket";
import { ZONES, type Zone } from "../src/rate-limit/zones";

/**
 * Rejections wait this long before they are reported to the global instance: one report per
 * busy client per interval, sent well before an idle object may be evicted (about 10 s).
 */
const REPORT_DELAY_MS = 5_000;
/** A report that keeps failing is dropped after this many alarms rather than retried forever. */
const MAX_REPORT_ATTEMPTS = 3;
const TOTALS_KEY = "rejections";

/**
 * Per-client token buckets (zones `api` and `strict`), one instance per client key
 * (`idFromName(ip)`), so a limit holds across every isolate and location.
 *
 * Buckets live in memory only: a request costs one RPC and no storage write. When the
 * object is evicted (idle, deploy, restart) its next request finds a fresh, full bucket, so
 * a client gains at most one extra burst per eviction, and an idle object is one whose
 * bucket has mostly refilled anyway. Persisting every request would instead add a write
 * (about $1 per million) and its latency to every API call.
 *
 * Rejections are counted in memory and reported in batches from an alarm to the global
 * instance `idFromName("__stats__")`, the same class, which keeps the totals in its storage
 * for the admin stats endpoint (`src/rate-limit/stats.ts`).
 */
export class RateLimiter extends DurableObject<Env> {
  /** Wall clock of the buckets; tests swap it in `runInDurableObject` (fields are not reachable over RPC). */
  clock: () => number = () => Date.now();

  private readonly buckets = new Map<Zone, Bucket>();
  private readonly counters = new ZoneCounters();
  private reportPending = false;
  private reportAttempts = 0;

  /** Takes `cost` tokens from the zone's bucket if it holds them; returns the header values. */
  consume(request: ConsumeRequest): ConsumeResult {
    if (this.isGlobal) throw new Error("consume: the stats instance is not a client");
    const { zone, cost, ratePerS, burst } = parseConsumeRequest(request);
    const { bucket, result } = take(this.buckets.get(zone), { ratePerS, burst }, cost, this.clock());
    this.buckets.set(zone, bucket);
    this.counters.count(zone, result.allowed);
    if (!result.allowed) this.scheduleReport();
    return result;
  }

  /** This client's counters since the object loaded, or, on the stats instance, every client's rejections. */
  stats(): LimiterStats {
    if (!this.isGlobal) return this.counters.snapshot();
    return { scope: "global", allowed: emptyCounts(), rejected: this.totals(), unreported: emptyCounts() };
  }

  /** Stats instance only: adds one limiter instance's batch of rejections to the totals. */
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
    return this.ctx.storage.kv.get<ZoneCounts>(TOTALS_KEY) ?? emptyCounts();
  }

  /** At most one alarm write per report interval, and only once a request has been refused. */
  private scheduleReport(): void {
    if (this.reportPending) return;
    this.reportPending = true;
    this.ctx.storage.setAlarm(Date.now() + REPORT_DELAY_MS).catch((error: unknown) => {
      this.reportPending = false;
      log.error("rate limiter could not set its alarm", { error: String(error) });
    });
  }
}
