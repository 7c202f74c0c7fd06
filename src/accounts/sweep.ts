import { sql } from "drizzle-orm";
import type { SqlClient } from "../db/sql-client";
import { SESSION_IDLE_S } from "./refresh-tokens";

/** Revoked sessions stay listed nowhere but are kept this long (for the reuse check's 401), then go. */
export const REVOKED_SESSION_KEEP_S = 7 * 24 * 3600;

/**
 * The nightly accounts sweep: expired WebAuthn challenges, sessions revoked more than
 * REVOKED_SESSION_KEEP_S ago or idle past SESSION_IDLE_S (their refresh tokens are refused
 * anyway), with their spent refresh-token hashes. Returns what went.
 *
 * @example
 * await sweepAccounts(repo.sql, new Date());
 */
export async function sweepAccounts(
  db: SqlClient,
  now: Date,
): Promise<{ challenges: number; sessions: number }> {
  const challenges = await db.run(
    sql`DELETE FROM webauthn_challenges WHERE expires_at < ${now.toISOString()}`,
  );
  const revokedBefore = new Date(now.getTime() - REVOKED_SESSION_KEEP_S * 1000).toISOString();
  const idleBefore = new Date(now.getTime() - SESSION_IDLE_S * 1000).toISOString();
  const old = sql`SELECT id FROM sessions WHERE revoked_at < ${revokedBefore} OR last_used_at < ${idleBefore}`;
  await db.run(sql`DELETE FROM spent_refresh_tokens WHERE session_id IN (${old})`);
  const sessions = await db.run(
    sql`DELETE FROM sessions WHERE revoked_at < ${revokedBefore} OR last_used_at < ${idleBefore}`,
  );
  return { challenges, sessions };
}
