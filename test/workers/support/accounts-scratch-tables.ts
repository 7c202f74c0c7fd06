/**
 * SCRATCH TABLES, FOR THIS PHASE ONLY: the accounts tables are not declared in the schema
 * yet, so the SQL stores are tested on tables created here, with the shapes documented in
 * src/accounts/{session,challenge,passkey}-store.ts (minus the foreign keys to `users`,
 * which these tests do not create). Once the schema declares them, delete this file and
 * let the migrations build the tables.
 */
import { sql } from "drizzle-orm";
import type { SqlClient } from "../../../src/db/sql-client";

export async function createAccountsScratchTables(db: SqlClient): Promise<void> {
  const counter = db.dialect === "postgres" ? "BIGINT" : "INTEGER";
  for (const ddl of [
    `CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
      refresh_hash TEXT NOT NULL UNIQUE, user_agent TEXT, created_at TEXT NOT NULL,
      last_used_at TEXT NOT NULL, revoked_at TEXT)`,
    `CREATE TABLE IF NOT EXISTS spent_refresh_tokens (hash TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, spent_at TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS webauthn_challenges (challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL,
      user_id TEXT, rp_id TEXT NOT NULL, origin TEXT NOT NULL, expires_at TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS passkeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
      credential_id TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL, counter ${counter} NOT NULL,
      transports TEXT, device_type TEXT NOT NULL, backed_up INTEGER NOT NULL, aaguid TEXT NOT NULL,
      name TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT)`,
  ])
    await db.run(sql.raw(ddl));
}
