import { emptyCounts, type LimiterStats, type ZoneCounts } from "./protocol";
import { ZONES, type Zone } from "./zones";

/**
 * A limiter shard's counters (all its clients), in memory only: `allowed`/`rejected` since the instance
 * loaded, and the rejections not yet reported to the global stats instance. Nothing here
 * touches storage, so counting costs nothing per request.
 */
export class ZoneCounters {
  private readonly allowed = emptyCounts();
  private readonly rejected = emptyCounts();
  private unreported = emptyCounts();

  count(zone: Zone, allowed: boolean): void {
    if (allowed) {
      this.allowed[zone] += 1;
    } else {
      this.rejected[zone] += 1;
      this.unreported[zone] += 1;
    }
  }

  /** Hands over the unreported rejections (and forgets them), or `null` when there are none. */
  takeUnreported(): ZoneCounts | null {
    const batch = this.unreported;
    if (ZONES.every((zone) => batch[zone] === 0)) return null;
    this.unreported = emptyCounts();
    return batch;
  }

  /** Puts back a batch whose report failed, to go out with the next one. */
  restore(batch: ZoneCounts): void {
    for (const zone of ZONES) this.unreported[zone] += batch[zone];
  }

  snapshot(): LimiterStats {
    return {
      scope: "shard",
      allowed: { ...this.allowed },
      rejected: { ...this.rejected },
      unreported: { ...this.unreported },
    };
  }
}
