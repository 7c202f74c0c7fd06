import { sql } from "drizzle-orm";
import type { SqlClient } from "../../db/sql-client";

/**
 * The last migration applied to a database, as its migration runner recorded it: wrangler's
 * `d1_migrations` on D1, `schema_migrations` (scripts/lib/postgres.mjs) on PostgreSQL.
 * Null when the table is missing (a database set up some other way).
 */
export async function schemaVersion(client: SqlClient): Promise<string | null> {
  const query =
    client.dialect === "sqlite"
      ? sql`SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1`
      : sql`SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1`;
  try {
    const rows = await client.all<{ name: string }>(query);
    return rows[0]?.name.replace(/\.sql$/, "") ?? null;
  } catch {
    return null;
  }
}
