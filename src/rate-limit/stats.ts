import { statsLimiter } from "./binding";
import type { ZoneCounts } from "./protocol";

/**
 * Total rate-limit rejections per zone across every client, for `GET /api/v1/admin/stats`.
 * One RPC to the global stats instance; limiter instances report to it in batches, so the
 * figure lags the truth by at most one flush interval (5 s).
 *
 * @example
 * const rejections = await rateLimitRejections(c.env); // { api: 12, strict: 3 }
 */
export async function rateLimitRejections(env: Pick<Env, "RATE_LIMITER">): Promise<ZoneCounts> {
  const stats = await statsLimiter(env).stats();
  return stats.rejected;
}
