/**
 * Where sessions (refresh-token families) live. Each method is one SQL statement, or one
 * D1 `batch()` / one PostgreSQL transaction; `sql-session-store.ts` implements it on the
 * `SqlClient` seam for both backends. The tables (times are ISO-8601 UTC text on D1, `timestamptz` on PostgreSQL):
 *
 * ```sql
 * CREATE TABLE sessions (
 *   id            TEXT PRIMARY KEY,              -- "ses_…", the access token's `sid`
 *   user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
 *   refresh_hash  TEXT NOT NULL,                 -- SHA-256 of a 256-bit random token (indexed; no collision)
 *   user_agent    TEXT,                          -- at most 256 chars
 *   created_at    TEXT NOT NULL,
 *   last_used_at  TEXT NOT NULL,                 -- sign-in or last refresh
 *   revoked_at    TEXT                           -- logout, revocation or reuse; never cleared
 * );
 * CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC);
 *
 * -- Every refresh token that has been used: presenting one again is reuse.
 * CREATE TABLE spent_refresh_tokens (
 *   hash        TEXT PRIMARY KEY,
 *   session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
 *   spent_at    TEXT NOT NULL
 * );
 * ```
 *
 * The statements:
 *
 * ```sql
 * -- create
 * INSERT INTO sessions (id, user_id, refresh_hash, user_agent, created_at, last_used_at)
 * VALUES (?1, ?2, ?3, ?4, ?5, ?5);
 *
 * -- rotate: a compare-and-set on the live hash. Of two concurrent calls with the same token
 * -- exactly one matches the row; the second finds refresh_hash already changed (PostgreSQL
 * -- re-checks the WHERE after the row lock). The first two statements run in one D1 batch
 * -- (a transaction) / one PostgreSQL transaction; the INSERT only fires when the UPDATE did
 * -- (it selects by the new, random hash), and the SELECT tells the caller whether it won.
 * UPDATE sessions SET refresh_hash = :new, last_used_at = :now
 *  WHERE refresh_hash = :old AND revoked_at IS NULL AND last_used_at > :idle_cutoff;
 * INSERT INTO spent_refresh_tokens (hash, session_id, spent_at)
 *   SELECT :old, id, :now FROM sessions WHERE refresh_hash = :new;
 * SELECT id, user_id, user_agent, created_at, last_used_at, revoked_at FROM sessions
 *  WHERE refresh_hash = :new;
 *
 * -- findSpent
 * SELECT session_id FROM spent_refresh_tokens WHERE hash = ?1;
 *
 * -- revoke (userId given: only that user's session, so another user's id is a 404)
 * UPDATE sessions SET revoked_at = :now
 *  WHERE id = :id AND (:user_id IS NULL OR user_id = :user_id) AND revoked_at IS NULL;
 *
 * -- isActive (for sockets and, if wanted, the auth middleware)
 * SELECT 1 FROM sessions WHERE id = ?1 AND revoked_at IS NULL;
 *
 * -- listActive
 * SELECT id, user_id, user_agent, created_at, last_used_at, revoked_at FROM sessions
 *  WHERE user_id = ?1 AND revoked_at IS NULL AND last_used_at > ?2
 *  ORDER BY created_at DESC, id DESC;
 * ```
 *
 * Sweeping (scheduled): `DELETE FROM sessions WHERE revoked_at < :cutoff OR last_used_at < :cutoff`
 * (the cascade takes their spent hashes).
 */

/** A session as stored, minus its refresh hash (which never leaves the store). */
export interface SessionRecord {
  id: string;
  user_id: string;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  revoked_at: string | null;
}

export interface NewSession {
  id: string;
  user_id: string;
  refresh_hash: string;
  user_agent: string | null;
  created_at: string;
}

export interface SessionStore {
  create(session: NewSession): Promise<void>;
  /**
   * Atomically swaps `oldHash` for `newHash` on a live session last used after `idleCutoff`,
   * sets `last_used_at = now` and records `oldHash` as spent. Null when no live session holds
   * `oldHash` (spent, revoked, idle, unknown, or a concurrent rotation won).
   */
  rotate(oldHash: string, newHash: string, now: string, idleCutoff: string): Promise<SessionRecord | null>;
  /** The session a spent refresh token belonged to, or null for a hash never spent. */
  findSpent(hash: string): Promise<string | null>;
  /** Marks the session revoked; false when it does not exist, is already revoked or (with `userId`) is someone else's. */
  revoke(sessionId: string, now: string, userId?: string): Promise<boolean>;
  isActive(sessionId: string): Promise<boolean>;
  /** The user's live sessions, newest first. */
  listActive(userId: string, idleCutoff: string): Promise<SessionRecord[]>;
}
