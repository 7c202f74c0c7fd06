import { sql } from "drizzle-orm";
import type { SqlClient } from "../db/sql-client";
import type { NewSession, SessionRecord, SessionStore } from "./session-store";

const COLUMNS = sql.raw("id, user_id, user_agent, created_at, last_used_at, revoked_at");

/**
 * `SessionStore` on D1 or PostgreSQL (the statements of `session-store.ts`). Rotation is one
 * atomic batch: the compare-and-set UPDATE, and the spent-hash INSERT that only fires when
 * the UPDATE did; the winner is whoever finds the new (random, unique) hash afterwards.
 *
 * @example
 * const sessions = sqlSessionStore(c.var.services.sql);
 */
export function sqlSessionStore(db: SqlClient): SessionStore {
  return {
    async create(s: NewSession) {
      await db.run(sql`INSERT INTO sessions (id, user_id, refresh_hash, user_agent, created_at, last_used_at)
        VALUES (${s.id}, ${s.user_id}, ${s.refresh_hash}, ${s.user_agent}, ${s.created_at}, ${s.created_at})`);
    },
    async rotate(oldHash, newHash, now, idleCutoff) {
      await db.batch([
        sql`UPDATE sessions SET refresh_hash = ${newHash}, last_used_at = ${now}
          WHERE refresh_hash = ${oldHash} AND revoked_at IS NULL AND last_used_at > ${idleCutoff}`,
        sql`INSERT INTO spent_refresh_tokens (hash, session_id, spent_at)
          SELECT ${oldHash}, id, ${now} FROM sessions WHERE refresh_hash = ${newHash}`,
      ]);
      const [row] = await db.all<SessionRecord>(
        sql`SELECT ${COLUMNS} FROM sessions WHERE refresh_hash = ${newHash}`,
      );
      return row ?? null;
    },
    async findSpent(hash) {
      const [row] = await db.all<{ session_id: string }>(
        sql`SELECT session_id FROM spent_refresh_tokens WHERE hash = ${hash}`,
      );
      return row?.session_id ?? null;
    },
    async revoke(sessionId, now, userId) {
      const owner = userId === undefined ? sql`` : sql` AND user_id = ${userId}`;
      const changed = await db.run(
        sql`UPDATE sessions SET revoked_at = ${now} WHERE id = ${sessionId}${owner} AND revoked_at IS NULL`,
      );
      return changed > 0;
    },
    async isActive(sessionId) {
      const rows = await db.all(
        sql`SELECT 1 AS one FROM sessions WHERE id = ${sessionId} AND revoked_at IS NULL`,
      );
      return rows.length > 0;
    },
    async listActive(userId, idleCutoff) {
      return db.all<SessionRecord>(sql`SELECT ${COLUMNS} FROM sessions
        WHERE user_id = ${userId} AND revoked_at IS NULL AND last_used_at > ${idleCutoff}
        ORDER BY created_at DESC, id DESC`);
    },
  };
}
