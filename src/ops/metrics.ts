/**
 * Analytics Engine events of this service. Every data point has `index1` = `blob1` = the
 * event name and `double1` = the count it adds (1, or -1 for a socket closing), so
 * `SUM(_sample_interval * double1)` counts events of any kind. The other columns per event
 * (docs/operations.md has the SQL that reads them):
 *
 * | event           | blob2..                                   | double2..                                  |
 * | `request`       | route, method, status, rate-limit zone, decision | duration ms, status                 |
 * | `job`           | status, error code                        | queue ms, run ms, total ms, attempts       |
 * | `queue_message` | queue, outcome, message type              | duration ms, delivery attempt              |
 * | `socket`        | connect / disconnect                      | the user's open sockets after the change   |
 * | `credits`       | what (image / reply), outcome (charged / refused), user id | credits                   |
 *
 * `rate_limited` and `rate_limiter_unreachable` (blob2 zone) come from `src/rate-limit/metrics.ts`.
 */
export type MetricEvent = "request" | "job" | "queue_message" | "socket" | "credits";

/** Analytics Engine caps a data point at 16 KB of blobs; ours are short labels. */
const MAX_BLOB = 256;

/**
 * Writes one data point to `METRICS`: fire-and-forget (no round trip), and a missing binding
 * or a failing write never fails the caller.
 *
 * @example
 * writeMetric(c.env, "request", ["/api/v1/characters", "GET", "200", "api", "allowed"], [1, 12, 200]);
 */
export function writeMetric(
  env: Partial<Pick<Env, "METRICS">>,
  event: MetricEvent,
  blobs: readonly string[],
  doubles: readonly number[],
): void {
  const dataset = env.METRICS;
  if (!dataset) return;
  try {
    dataset.writeDataPoint({
      indexes: [event],
      blobs: [event, ...blobs.map((blob) => blob.slice(0, MAX_BLOB))],
      doubles: doubles.map((value) => (Number.isFinite(value) ? value : 0)),
    });
  } catch {
    // Metrics are best-effort; the work they describe must not fail because of them.
  }
}
