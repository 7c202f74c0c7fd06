/**
 * SCRATCH TABLES, FOR THIS PHASE ONLY: the accounts tables are not declared in the schema
 * yet, so the SQL stores are tested on tables created here, with the shapes documented in
 * src/accounts/{session,challenge,passkey}-store.ts (minus the foreign keys to `users`,
 * which these tests do not create). Once the schema declares them, delete this file and
 * let the migrations build the tables.
 */
import { sql } from "drizzle-orm";
import type { SqlClient } from "../../../src/db/sql-client";

async function tableExists(db: SqlClient, name: string): Promise<boolean> {
  const rows =
    db.dialect === "postgres"
      ? await db.all(
          sql`SELECT 1 AS one FROM information_schema.tables WHERE table_name = ${name} AND table_schema = current_schema()`,
        )
      : await db.all(sql`SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = ${name}`);
  return rows.length > 0;
}

/**
 * Creates whichever of the four tables does not exist yet and returns a function that drops
 * exactly those again, so a persistent PostgreSQL (DATABASE_URL) is left as it was found and
 * the real migrations can create the tables later.
 */
export async function createAccountsScratchTables(db: SqlClient): Promise<() => Promise<void>> {
  const counter = db.dialect === "postgres" ? "BIGINT" : "INTEGER";
  const created: string[] = [];
  for (const [name, ddl] of [
    [
      "sessions",
      `CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
      refresh_hash TEXT NOT NULL UNIQUE, user_agent TEXT, created_at TEXT NOT NULL,
      last_used_at TEXT NOT NULL, revoked_at TEXT)`,
    ],
    [
      "spent_refresh_tokens",
      `CREATE TABLE spent_refresh_tokens (hash TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, spent_at TEXT NOT NULL)`,
    ],
    [
      "webauthn_challenges",
      `CREATE TABLE webauthn_challenges (challenge TEXT PRIMARY KEY, purpose TEXT NOT NULL,
      user_id TEXT, rp_id TEXT NOT NULL, origin TEXT NOT NULL, expires_at TEXT NOT NULL)`,
    ],
    [
      "passkeys",
      `CREATE TABLE passkeys (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
      credential_id TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL, counter ${counter} NOT NULL,
      transports TEXT, device_type TEXT NOT NULL, backed_up INTEGER NOT NULL, aaguid TEXT NOT NULL,
      name TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT)`,
    ],
  ] as const) {
    if (await tableExists(db, name)) continue;
    await db.run(sql.raw(ddl));
    created.push(name);
  }
  return async () => {
    for (const name of created.reverse()) await db.run(sql.raw(`DROP TABLE ${name}`));
  };
}
