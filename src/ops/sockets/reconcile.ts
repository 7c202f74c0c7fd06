import { sessionStats } from "./report";

/** A user whose count has not changed for this long is asked again. */
const RECHECK_AFTER_MS = 60 * 60 * 1000;

/**
 * Corrects counts that missed a close (a session restarted by a deploy loses its sockets
 * without a close event): asks each user silent for an hour how many sockets it really holds.
 * One RPC per such user, at most `STALE_REPORT_LIMIT` per run; part of the nightly cron.
 */
export async function reconcileSocketCounts(env: Env, now = Date.now()): Promise<{ checked: number }> {
  const stats = sessionStats(env);
  const users = await stats.staleUsers(now - RECHECK_AFTER_MS);
  for (const userId of users) {
    const open = await env.USER_SESSION.get(env.USER_SESSION.idFromName(userId)).openSockets();
    await stats.report({ userId, open, at: Date.now() });
  }
  return { checked: users.length };
}
