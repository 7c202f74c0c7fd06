import type { Zone } from "./zones";

export type RateLimitEvent = "rate_limited" | "rate_limiter_unreachable";

/**
 * Writes one Analytics Engine data point (`index1` = event; `blob1` = event, `blob2` = zone,
 * `blob3` = detail; `double1` = 1). Fire-and-forget: no round trip, and a missing or failing
 * `METRICS` binding never fails the request.
 *
 * @example
 * countEvent(c.env, "rate_limited", "strict");
 */
export function countEvent(
  env: Partial<Pick<Env, "METRICS">>,
  event: RateLimitEvent,
  zone: Zone,
  detail = "",
): void {
  try {
    env.METRICS?.writeDataPoint({ indexes: [event], blobs: [event, zone, detail], doubles: [1] });
  } catch {
    // Metrics are best-effort; the request must not fail because a data point could not be written.
  }
}
