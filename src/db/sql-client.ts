import type { SQL } from "drizzle-orm";

export type Dialect = "sqlite" | "postgres";

/**
 * The one seam between the repositories and a database. Queries are drizzle `sql`
 * templates (parameters are always bound, never spliced), so one repository serves both
 * dialects; each adapter renders placeholders and normalises values (PostgreSQL `Date`s
 * become ISO strings, like D1's text timestamps).
 */
export interface SqlClient {
  readonly dialect: Dialect;
  all<T>(query: SQL): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(query: SQL): Promise<number>;
  /** Runs statements atomically, in order. */
  batch(queries: SQL[]): Promise<void>;
  /** Releases the connection (a no-op on D1). */
  close(): Promise<void>;
}
