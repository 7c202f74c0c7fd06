import type { SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { SqlClient } from "./sql-client";

const dialect = new SQLiteAsyncDialect();

/** D1 with queries rendered by drizzle's SQLite dialect; `batch` is D1's own atomic batch. */
export function d1Client(database: D1Database): SqlClient {
  const prepare = (query: SQL) => {
    const { sql, params } = dialect.sqlToQuery(query);
    return database.prepare(sql).bind(...params);
  };
  return {
    dialect: "sqlite",
    async all<T>(query: SQL) {
      return (await prepare(query).all<T>()).results;
    },
    async run(query) {
      return (await prepare(query).run()).meta.changes ?? 0;
    },
    async batch(queries) {
      if (queries.length > 0) await database.batch(queries.map(prepare));
    },
    async close() {},
  };
}
