/**
 * Where passkeys (WebAuthn credentials) live. The table and the statements behind each
 * method:
 *
 * ```sql
 * CREATE TABLE passkeys (
 *   id             TEXT PRIMARY KEY,            -- "pk_…", the public id of API.md
 *   user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
 *   credential_id  TEXT NOT NULL,               -- base64url, as authenticators return it (indexed)
 *   public_key     TEXT NOT NULL,               -- COSE public key, base64url
 *   counter        INTEGER NOT NULL,            -- BIGINT on PostgreSQL (0..2^32-1)
 *   transports     TEXT,                        -- JSON array, e.g. ["internal","hybrid"]
 *   device_type    TEXT NOT NULL,               -- 'singleDevice' | 'multiDevice'
 *   backed_up      INTEGER NOT NULL,            -- BOOLEAN on PostgreSQL
 *   aaguid         TEXT NOT NULL,
 *   name           TEXT NOT NULL,
 *   created_at     TEXT NOT NULL,
 *   last_used_at   TEXT
 * );
 * CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at DESC);
 *
 * -- insert (false when the credential is already registered)
 * INSERT INTO passkeys (…) SELECT … WHERE NOT EXISTS (SELECT 1 FROM passkeys WHERE credential_id = :cid) RETURNING id;
 * -- findByCredentialId
 * SELECT * FROM passkeys WHERE credential_id = ?1;
 * -- recordUse: compare-and-set on the counter, so two logins that verified against the
 * -- same stored counter cannot both move it
 * UPDATE passkeys SET counter = :new, last_used_at = :now WHERE id = :id AND counter = :expected;
 * -- listByUser
 * SELECT * FROM passkeys WHERE user_id = ?1 ORDER BY created_at DESC, id DESC;
 * -- deleteUnlessLast: one statement; no row back means "last" or "missing", told apart by
 * -- SELECT 1 FROM passkeys WHERE id = :id AND user_id = :user_id.
 * -- PostgreSQL: run it in a transaction after SELECT 1 FROM users WHERE id = :user_id FOR UPDATE,
 * -- or two concurrent deletes of an account's last two passkeys could both pass EXISTS.
 * DELETE FROM passkeys WHERE id = :id AND user_id = :user_id
 *   AND EXISTS (SELECT 1 FROM passkeys WHERE user_id = :user_id AND id <> :id) RETURNING id;
 * ```
 */

export interface PasskeyRecord {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string[] | null;
  device_type: "singleDevice" | "multiDevice";
  backed_up: boolean;
  aaguid: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export type DeleteOutcome = "deleted" | "last" | "missing";

export interface PasskeyStore {
  /** False when a passkey with this credential id already exists (for anyone). */
  insert(passkey: PasskeyRecord): Promise<boolean>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | null>;
  /** Sets the counter and last use only if the counter is still `expectedCounter`. */
  recordUse(id: string, expectedCounter: number, newCounter: number, now: string): Promise<boolean>;
  listByUser(userId: string): Promise<PasskeyRecord[]>;
  /** Deletes the user's passkey unless it is their only one. */
  deleteUnlessLast(userId: string, id: string): Promise<DeleteOutcome>;
}
