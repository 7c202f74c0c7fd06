import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { workersSocketOption } from "./pg-socket";
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
 * `max: 1` keeps each request to one connection (postgres.js pipelines queries on it); it
 * opens on the first query, so a warm cache hit never connects. Whoever opens a client
 * closes it when its unit of work ends (a request, a chat turn, a queue batch).
 */
export function postgresClient(connectionString: string): SqlClient {
  const connection = postgres(connectionString, {
    max: 1,
    fetch_types: false,
    prepare: true,
    onnotice: () => {},
    // A documented option postgres.js's typings lack: see `PgSocket` for why.
    ...(workersSocketOption() as object),
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
    // Returns the connection (Hyperdrive's pool keeps the real ones). This matters most in a
    // Durable Object, whose sockets live as long as the object does. A query still running
    // gets at most a second; a connection that failed to open is given up at once or, when
    // postgres.js is still retrying it, after that second.
    async close() {
      await connection.end({ timeout: 1 });
    },
  };
}
