/**
 * Where WebAuthn challenges wait between the options call and the response.
 *
 * Recommended home: a table in the main database (D1 or PostgreSQL), not a Durable Object.
 * Single use needs one atomic "take": `DELETE … RETURNING` is exactly that on both backends
 * (D1 runs statements one at a time; PostgreSQL's row lock lets one of two concurrent
 * deletes return the row and the other none). A login ceremony has no user yet, so a
 * per-user object has no natural key, and a per-challenge object would cost a second hop
 * and a new binding for a row that lives five minutes. The table also falls under
 * `DELETE /me` and backups like everything else.
 *
 * ```sql
 * CREATE TABLE webauthn_challenges (
 *   challenge   TEXT PRIMARY KEY,     -- base64url, as it appears in clientDataJSON
 *   purpose     TEXT NOT NULL,        -- 'registration' | 'authentication'
 *   user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,  -- registration: the signed-in user
 *   rp_id       TEXT NOT NULL,
 *   origin      TEXT NOT NULL,
 *   expires_at  TEXT NOT NULL
 * );
 * -- put
 * INSERT INTO webauthn_challenges (challenge, purpose, user_id, rp_id, origin, expires_at)
 * VALUES (?1, ?2, ?3, ?4, ?5, ?6);
 * -- take
 * DELETE FROM webauthn_challenges WHERE challenge = ?1
 *  RETURNING challenge, purpose, user_id, rp_id, origin, expires_at;
 * -- sweep (scheduled)
 * DELETE FROM webauthn_challenges WHERE expires_at < ?1;
 * ```
 */

export type ChallengePurpose = "registration" | "authentication";

export interface ChallengeRecord {
  challenge: string;
  purpose: ChallengePurpose;
  /** The user registering; null for a login, which has no user until it succeeds. */
  user_id: string | null;
  rp_id: string;
  origin: string;
  expires_at: string;
}

export interface ChallengeStore {
  put(record: ChallengeRecord): Promise<void>;
  /** Removes and returns the challenge: of concurrent takes, at most one gets it. */
  take(challenge: string): Promise<ChallengeRecord | null>;
}
