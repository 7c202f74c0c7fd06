import type { SessionStats } from "../../../durable-objects/session-stats";
import { describeError, log } from "../log";
import { writeMetric } from "../metrics";
import type { SocketTotals } from "./protocol";

/** The one global `SessionStats` instance. */
export function sessionStats(env: Pick<Env, "SESSION_STATS">): DurableObjectStub<SessionStats> {
  return env.SESSION_STATS.get(env.SESSION_STATS.idFromName("global"));
}

/**
 * What a `UserSession` calls after a socket connects or closes: reports the user's count of
 * open sockets to the global counter (one RPC) and writes one `socket` data point. Never
 * throws: a lost report is corrected by the user's next one or the nightly reconciliation.
 *
 * @example
 * this.ctx.waitUntil(reportOpenSockets(this.env, userId, "connect", this.ctx.getWebSockets().length));
 */
export async function reportOpenSockets(
  env: Pick<Env, "SESSION_STATS"> & Partial<Pick<Env, "METRICS">>,
  userId: string,
  change: "connect" | "disconnect",
  open: number,
): Promise<void> {
  writeMetric(env, "socket", [change], [change === "connect" ? 1 : -1, open]);
  try {
    await sessionStats(env).report({ userId, open, at: Date.now() });
  } catch (error) {
    log.warn("socket count report failed", { change, error: describeError(error) });
  }
}

/** Open sockets across every user (for `GET /api/v1/admin/stats`). */
export function openSocketTotals(env: Pick<Env, "SESSION_STATS">): Promise<SocketTotals> {
  return sessionStats(env).totals();
}
