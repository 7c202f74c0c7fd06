import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import type { SqlClient } from "./sql-client";

const dialect = new PgDialect();

function normalise<T>(rows: readonly Record<string, unknown>[]): T[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row))
      out[key] = value instanceof Date ? value.toISOString() : value;
    return out as T;
  });
}

/**
 * PostgreSQL through postgres.js, with queries rendered by drizzle's PostgreSQL dialect.
 * Built per request from the Hyperdrive connection string, as Cloudflare recommends
 * (Hyperdrive pools; a module-level client would leak sockets across requests).
 * `max: 1` keeps each request to one connection; it opens on the first query, so a warm
 * cache hit never connects.
 */
export function postgresClient(connectionString: string): SqlClient {
  const connection = postgres(connectionString, {
    max: 1,
    fetch_types: false,
    prepare: true,
    onnotice: () => {},
  });
  const execute = (executor: postgres.Sql | postgres.TransactionSql, query: SQL) => {
    const { sql, params } = dialect.sqlToQuery(query);
    return executor.unsafe(sql, params as postgres.ParameterOrJSON<never>[]);
  };
  return {
    dialect: "postgres",
    async all<T>(query: SQL) {
      return normalise<T>(await execute(connection, query));
    },
    async run(query) {
      return (await execute(connection, query)).count;
    },
    async batch(queries) {
      await connection.begin(async (tx) => {
        for (const q of queries) await execute(tx, q);
      });
    },
    // Deliberately not `connection.end()`: on Workers, postgres.js's socket polyfill keeps a
    // read loop pending that rejects ("This socket has been closed.") after `end()` has
    // removed its listeners, an unhandled rejection on every request. The runtime closes a
    // request's sockets when the request ends, and Hyperdrive keeps the real connections.
    async close() {},
  };
}
